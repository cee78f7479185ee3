"""`em run -- COMMAND...`: record any command as a run, without changing its code.

The command runs in its own process group with its output piped through us: every byte goes on to
our stdout/stderr as it arrives and into the bundle's `stdout.log`. Its exit status sets the run's
(`Complete` on 0, `Error` otherwise), and past `max_duration` the group gets SIGTERM, then SIGKILL after
a grace period, and the run ends `Killed`. The configuration is saved as `em-run.yaml` next to a
snapshot of the source, which is exactly what `em run --config` and `em reproduce` read back.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import yaml

from em.client.sdk import bundle, joining, snapshot
from em.client.sdk.joining import CONFIG_FILE
from em.client.sdk.run import Run

__all__ = ["CONFIG_FILE", "Outcome", "RunConfig", "chosen_env", "execute"]
ENV_PREFIXES = ("CUDA_", "EM_", "NCCL_", "OMP_", "MKL_", "TORCH_", "PYTHONHASHSEED", "NVIDIA_", "HF_")
SECRET_MARKERS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE")
KILL_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
EXIT_TIMED_OUT = 124  # as timeout(1)
EXIT_NOT_FOUND = 127  # as a shell
EXIT_INTERRUPTED = 130  # as a shell after Ctrl-C
PUMP_DRAIN = 5.0  # seconds to drain output after the child ends (a daemonised grandchild may hold the pipe)


def chosen_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables worth recording (CUDA_*, EM_*, ...), minus anything that looks like a secret and
    the ones an enclosing `em run` set for its own command."""
    return {
        name: value
        for name, value in sorted(env.items())
        if name.startswith(ENV_PREFIXES)
        and name not in joining.WRAPPER_ENV
        and not any(marker in name.upper() for marker in SECRET_MARKERS)
    }


@dataclass
class RunConfig:
    """What `em run` was asked to do; saved as em-run.yaml and loadable with --config."""

    command: list[str]
    name: str = ""
    folder: str | None = None
    make_folder: bool = False
    max_duration: float | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def run_name(self) -> str:
        return self.name or Path(self.command[0]).name

    def save(self, path: Path) -> None:
        bundle.write_yaml(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> RunConfig:
        """Read a saved configuration; ValueError naming the field when it is not one."""
        try:
            data = bundle.read_yaml(path)
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"Cannot read {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path} should hold a mapping with at least `command`.")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}.")
        command = data.get("command") or []
        if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
            raise ValueError(f"{path}: command should be a list of strings.")
        env = data.get("env") or {}
        if not isinstance(env, dict):
            raise ValueError(f"{path}: env should be a mapping.")
        max_duration = data.get("max_duration")
        if max_duration is not None and (not isinstance(max_duration, int | float) or max_duration <= 0):
            raise ValueError(f"{path}: max_duration should be a positive number of seconds.")
        return cls(
            command=command,
            name=str(data.get("name") or ""),
            folder=data.get("folder"),
            make_folder=bool(data.get("make_folder")),
            max_duration=max_duration,
            env={str(k): str(v) for k, v in env.items()},
        )


@dataclass
class Outcome:
    run: Run
    exit_code: int
    duration: float


class _Pump(threading.Thread):
    """Copies one pipe of the child to our stream as bytes arrive, and to the log a line at a time.

    stdout and stderr share the log: written as they arrive, a line the child writes in two pieces
    (unbuffered Python prints "warn" and then "\n") would be cut in half by the other stream's output.
    A line longer than `MAX_PENDING` (a progress bar redrawn with "\r") is written as it stands.
    """

    MAX_PENDING = 64 * 1024

    def __init__(self, pipe: IO[bytes], out: IO[str], log: IO[bytes], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.pipe, self.out, self.log, self.lock = pipe, out, log, lock
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def run(self) -> None:
        fd = self.pipe.fileno()
        pending = b""
        while chunk := os.read(fd, 65536):
            pending += chunk
            lines, newline, rest = pending.rpartition(b"\n")
            if newline or len(pending) > self.MAX_PENDING:
                self._log(lines + newline if newline else pending)
                pending = rest if newline else b""
            with contextlib.suppress(ValueError, OSError):  # our stream closed under us
                self.out.write(self.decoder.decode(chunk))
                self.out.flush()
        if pending:
            self._log(pending)

    def _log(self, data: bytes) -> None:
        with self.lock:
            self.log.write(data)
            self.log.flush()


def execute(
    config: RunConfig,
    *,
    source: Path,
    take_snapshot: bool = True,
    snapshot_limit: int = snapshot.MAX_BYTES,
    kill_grace: float = KILL_GRACE,
) -> Outcome:
    """Run the command as a recorded run in `source`; SnapshotError before anything runs if too big.

    An SDK run the command starts joins this one (`joining`); what it wrote is kept when the run ends,
    and a destination it asked for lands in `config` when `config` named none.
    """
    with tempfile.TemporaryDirectory(prefix="em-run-") as scratch:
        archive = Path(scratch) / snapshot.ARCHIVE
        if take_snapshot:
            snapshot.write(source, archive, snapshot_limit)
        run = Run(
            config.run_name,
            folder=config.folder,
            make_folder=config.make_folder,
            base_dir=source,
            capture_output=False,
            entrypoint=config.command[0],
            extra_metadata={"command": shlex.join(config.command), "exitCode": None},
        )
        if take_snapshot:
            os.replace(archive, run.folder / snapshot.ARCHIVE)
    config.save(run.folder / CONFIG_FILE)
    started = time.monotonic()
    exit_code, status = _supervise(config, run, source, kill_grace)
    run.adopt_joined()
    with contextlib.suppress(ValueError):
        saved = RunConfig.load(run.folder / CONFIG_FILE)
        config.folder, config.make_folder = saved.folder, saved.make_folder
    run.metadata["exitCode"] = exit_code
    run.finish(status)
    return Outcome(run, exit_code, time.monotonic() - started)


def _supervise(config: RunConfig, run: Run, source: Path, kill_grace: float) -> tuple[int, str]:
    lock = threading.Lock()
    with (run.folder / bundle.LOG).open("ab") as log:
        try:
            child = subprocess.Popen(  # noqa: S603 (the user's own command, no shell)
                config.command,
                cwd=source,
                env={**os.environ, **config.env, **joining.environment(run.folder, named=bool(config.name))},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            log.write(f"em run: cannot start {config.command[0]}: {exc.strerror or exc}\n".encode())
            print(f"em run: cannot start {config.command[0]}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_NOT_FOUND, bundle.ERROR
        pipes = cast(tuple[IO[bytes], IO[bytes]], (child.stdout, child.stderr))  # both PIPE, never None
        pumps = [_Pump(pipes[0], sys.stdout, log, lock), _Pump(pipes[1], sys.stderr, log, lock)]
        for pump in pumps:
            pump.start()
        stopped: int | None = None
        try:
            child.wait(timeout=config.max_duration)
        except subprocess.TimeoutExpired:
            stopped = EXIT_TIMED_OUT
            _stop(child, kill_grace)
            note = f"em run: stopped after the maximum duration of {config.max_duration:g} s\n"
            with lock:
                log.write(note.encode())
            print(note, end="", file=sys.stderr)
        except KeyboardInterrupt:
            stopped = EXIT_INTERRUPTED
            _stop(child, kill_grace)
        for pump in pumps:
            pump.join(PUMP_DRAIN)
    if stopped is not None:
        return stopped, bundle.KILLED
    code = child.returncode
    exit_code = 128 - code if code < 0 else code  # killed by a signal from outside: as a shell reports it
    return exit_code, bundle.COMPLETE if code == 0 else bundle.ERROR


def _stop(child: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
