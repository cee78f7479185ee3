"""`Run`: what a training script records, written as a bundle as it goes (and streamed in live mode).

The bundle is the source of truth: it is written whether or not a server is configured, complete
enough to index at every moment (metadata says `Running` until `finish()`), and `em upload` can send
it later. Live mode only adds a server-side copy of the metrics while the script runs.
"""

from __future__ import annotations

import atexit
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias
from uuid import UUID

from rich.console import Console

from em.client import api, config
from em.client.associations import reference
from em.client.errors import ClientError
from em.client.http import Client
from em.client.sdk import bundle, gitinfo, joining, platform
from em.client.sdk.artifact import Artifact
from em.client.sdk.capture import ConsoleCapture
from em.client.sdk.hparams import Hyperparameters
from em.client.sdk.live import LiveStream
from em.client.upload import Uploader, folder_path

# What `mark_input` / `mark_output` take.
Marked: TypeAlias = "Artifact | str | UUID | Mapping[str, Any]"

_open_runs: list[Run] = []
_uncaught: list[BaseException] = []


def _warn(message: str) -> None:
    print(f"em: {message}", file=sys.__stderr__ or sys.stderr)


class Run:
    """One run's bundle folder; see `create_run`."""

    def __init__(
        self,
        name: str,
        *,
        hparams: Mapping[str, Any] | None = None,
        labels: list[str] | None = None,
        description: str = "",
        folder: str | None = None,
        make_folder: bool = False,
        live: bool = False,
        base_dir: str | Path | None = None,
        capture_output: bool = True,
        entrypoint: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.destination = folder
        self.make_folder = make_folder
        self.alternative_name = bundle.folder_name(name)
        self.folder = Path(base_dir or Path.cwd()) / bundle.EM_DIR / bundle.RUNS_DIR / self.alternative_name
        self.folder.mkdir(parents=True)
        self.status = bundle.RUNNING
        self._hparams: dict[str, Any] = {}
        self._metrics: dict[str, bundle.MetricLog] = {}
        self._index: dict[str, Any] = {
            "hyperparameters": bundle.HYPERPARAMETERS,
            "metrics": {},
            "platform": bundle.PLATFORM,
            "log": bundle.LOG,
        }
        self.metadata: dict[str, Any] = {
            "kind": "Run",
            "name": name,
            "labels": list(labels or []),
            "description": description,
            "startTimestamp": bundle.now(),
            "endTimestamp": None,
            "status": bundle.RUNNING,
            "alternativeName": self.alternative_name,
            "associations": {"input": [], "output": []},
            "remote": [],
            **dict(extra_metadata or {}),
        }
        git = gitinfo.collect(entrypoint=entrypoint)
        if git is not None:
            bundle.write_yaml(self.folder / bundle.GIT, git)
            self._index["git"] = bundle.GIT
        self.hparams = dict(hparams or {})
        bundle.write_yaml(self.folder / bundle.PLATFORM, platform.collect())
        self._platform_stamp = (self.folder / bundle.PLATFORM).stat().st_mtime_ns
        self._joined = False  # True in a script's run that writes into the bundle of `em run` (joining)
        (self.folder / bundle.LOG).touch()
        self._write_index()
        self._write_metadata()
        self._capture = ConsoleCapture(self.folder / bundle.LOG) if capture_output else None
        self.remote_id: str | None = None  # the server-side run, in live mode
        self.live: LiveStream | None = self._go_live() if live else None
        _open_runs.append(self)

    @classmethod
    def join(cls, wrapper_bundle: Path, /, *, named: bool, name: str, **options: Any) -> Run:
        """The script's run inside `em run`: it writes into the wrapper's bundle (joining).

        Hyper-parameters and labels add to the wrapper's, the script's name and description replace the
        defaults (not a name given with `em run --name`); console capture, live streaming and uploading
        stay with the wrapper, which records the whole process's output and uploads when it ends.
        """
        run = cls.__new__(cls)
        run.folder = folder = wrapper_bundle
        run.metadata = joining.read_mapping(folder / bundle.METADATA)
        run.alternative_name = str(run.metadata["alternativeName"])
        if not named:
            run.metadata["name"] = name
        run.name = str(run.metadata["name"])
        run.metadata["labels"] = list(dict.fromkeys([*run.metadata.get("labels", []), *(options.get("labels") or [])]))
        if options.get("description"):
            run.metadata["description"] = options["description"]
        run.destination, run.make_folder = options.get("folder"), bool(options.get("make_folder"))
        joining.hand_destination(folder, run.destination, run.make_folder)
        run.status = bundle.RUNNING
        run._metrics = {}
        run._index = joining.read_mapping(folder / bundle.INDEX)
        run._index.setdefault("metrics", {})
        run._hparams = joining.read_mapping(folder / bundle.HYPERPARAMETERS)
        run._platform_stamp = 0
        run._joined = True
        run._capture = None
        run.remote_id = None
        run.live = None
        if options.get("live"):
            _warn("live mode is off under em run: the run is uploaded when the command ends.")
        run.hparams.update(options.get("hparams") or {})
        run._write_metadata()
        _open_runs.append(run)
        return run

    def adopt_joined(self) -> None:
        """Read back what a script's run wrote into this bundle (`em run` calls it before `finish`), so
        that finishing keeps it: name, labels, description, lineage, metrics index, hyper-parameters, and
        the platform as the script saw it (it imported the framework; the wrapper did not)."""
        on_disk = joining.read_mapping(self.folder / bundle.METADATA)
        for key in ("name", "labels", "description", "associations"):
            if key in on_disk:
                self.metadata[key] = on_disk[key]
        self.name = str(self.metadata["name"])
        self._index = joining.read_mapping(self.folder / bundle.INDEX) or self._index
        self._hparams = joining.read_mapping(self.folder / bundle.HYPERPARAMETERS)
        if (self.folder / bundle.PLATFORM).stat().st_mtime_ns != self._platform_stamp:
            self._platform_stamp = -1  # written by the script: keep it

    # --- what the script records -----------------------------------------------------------------

    @property
    def hparams(self) -> Hyperparameters:
        """The hyper-parameters; item and attribute assignment (nested too) are written at once."""
        return Hyperparameters(self._hparams, self._write_hparams)

    @hparams.setter
    def hparams(self, values: Mapping[str, Any]) -> None:
        self._hparams.clear()
        Hyperparameters(self._hparams, self._write_hparams).update(values)
        self._write_hparams()

    def log(self, type: str, metrics: Mapping[str, Any], step: int, epoch: int | None = None) -> None:
        """Append one point of `metrics` (name → number) to stage `type` (train, val, test...)."""
        self._check_open()
        stage = bundle.normalise_stage(type)
        point = bundle.metric_point(metrics, step=step, epoch=epoch, timestamp=bundle.now())
        writer = self._metrics.get(stage)
        if writer is None:
            writer = self._metrics[stage] = bundle.MetricLog(self.folder / bundle.METRICS_DIR / f"{stage}.yaml")
            self._index["metrics"][stage] = f"{bundle.METRICS_DIR}/{stage}.yaml"
            self._write_index()
        writer.append(point)
        if self.live is not None:
            sequence = point["sequence"]
            self.live.put(stage, point["value"], sequence["step"], sequence["epoch"], sequence["timestamp"])

    def mark_input(self, item: Marked) -> None:
        """Record that the run read `item`: an Artifact, a node path or id (`/alice/data/mnist`), a version
        of a model or dataset (`/alice/t9k-assethub/dataset/mnist:v1`; the path alone is its `main`), or a
        node as the API answered it (a mapping with its `id`). See `_associate` for when it is checked."""
        self._associate("input", item)

    def mark_output(self, item: Marked) -> None:
        """Record that the run produced `item`, named as for `mark_input`."""
        self._associate("output", item)

    def _associate(self, direction: str, item: Marked) -> None:
        """Write the association into the bundle (the server resolves it when the bundle is uploaded, and
        refuses a reference that names nothing, or no real version). A live run also sends a node
        reference at once; if the server refuses it, the script goes on with a warning."""
        entry = association(item, self.folder)
        entries = self.metadata["associations"][direction]
        if entry in entries:
            return
        entries.append(entry)
        self._write_metadata()
        node_ref = reference(entry)
        if self.live is not None and self.remote_id is not None and node_ref is not None:
            try:
                with Client.from_config(config.load()) as client:
                    api.add_lineage(client, self.remote_id, {direction: [node_ref]})
            except ClientError as exc:
                _warn(f"lineage {direction} {node_ref} was not recorded on the server ({exc.message}).")

    # --- the end ---------------------------------------------------------------------------------

    def finish(self, status: str = bundle.COMPLETE) -> None:
        """Close the run: final status and end time, platform as imported now, console restored. A run
        that joined `em run`'s leaves the bundle `Running` for the wrapper to end.

        Calling it again does nothing, so `with` blocks and explicit calls can be mixed.
        """
        if self.status != bundle.RUNNING:
            return
        if status not in {bundle.COMPLETE, bundle.ERROR, bundle.KILLED}:
            raise ValueError(f"status must be Complete, Error or Killed, not {status!r}.")
        for writer in self._metrics.values():
            writer.close()
        if self._capture is not None:
            self._capture.close()
        self.status = status
        if not self._joined:  # a joined run's wrapper ends the bundle: status from the exit code, end time
            self.metadata.update(status=status, endTimestamp=bundle.now())
        if self._platform_stamp != -1:  # not already written by a script that joined this run
            bundle.write_yaml(self.folder / bundle.PLATFORM, platform.collect())
        self._write_hparams()
        self._write_index()
        self._write_metadata()
        if self in _open_runs:
            _open_runs.remove(self)
        if self.live is not None:
            self._finish_live()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is not None and self.status == bundle.RUNNING and not self._joined:  # else em run logs stderr
            self._log_text("".join(traceback.format_exception(kind, error, tb)))
        self.finish(_status_for(error))

    def upload(
        self, folder: str | None = None, make_folder: bool = False, conflict_strategy: str = "new"
    ) -> dict[str, Any] | None:
        """Send the bundle to the configured server (default folder: the one given to create_run).

        Returns the node, or None when it was skipped as already there (or, under `em run`, is left to
        it); raises ClientError on failure.
        """
        if self._joined:
            joining.hand_destination(self.folder, folder, make_folder)
            _warn("em run uploads this run when the command ends.")
            return None
        with Client.from_config(config.load()) as client:
            uploader = Uploader(
                client,
                folder=folder if folder is not None else self.destination,
                make_folder=make_folder or self.make_folder,
                conflict_strategy=conflict_strategy,
                console=Console(stderr=True),
            )
            outcome = uploader.upload(self.folder)
        if outcome.error:
            raise ClientError(None, "upload_failed", outcome.error)
        return outcome.node

    # --- internals -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.status != bundle.RUNNING:
            raise RuntimeError(f"Run {self.alternative_name} is finished ({self.status}); create a new run.")

    def _write_hparams(self) -> None:
        bundle.write_yaml(self.folder / bundle.HYPERPARAMETERS, self._hparams)

    def _write_index(self) -> None:
        bundle.write_yaml(self.folder / bundle.INDEX, self._index)

    def _write_metadata(self) -> None:
        bundle.write_yaml(self.folder / bundle.METADATA, self.metadata)

    def _log_text(self, text: str) -> None:
        with (self.folder / bundle.LOG).open("a", encoding="utf-8") as log:
            log.write(text)

    def _go_live(self) -> LiveStream | None:
        """Create the run on the server and start streaming; offline (with a warning) when that fails."""
        try:
            client = Client.from_config(config.load())
            created = api.create_live_run(
                client,
                {
                    "parent_path": folder_path(client, self.destination),
                    "make_folder": self.make_folder,
                    "name": self.name,
                    "hparams": bundle.plain(self._hparams),
                    "labels": self.metadata["labels"],
                    "description": self.metadata["description"],
                },
            )
        except ClientError as exc:
            _warn(f"live mode is off ({exc.message}); the run is saved in {self.folder}.")
            return None
        self.remote_id = str(created["id"])
        return LiveStream(client, self.remote_id)

    def _finish_live(self) -> None:
        if self.live is None or self.remote_id is None:
            return
        self.live.close()
        if self.live.dropped:
            _warn(f"{self.live.dropped} metric batches were not streamed (the server fell behind).")
        if self.live.error is not None:
            _warn(f"live streaming stopped ({self.live.error.message}); upload {self.folder} with em upload.")
        try:
            api.update_run(
                self.live.client,
                self.remote_id,
                {"status": self.status, "ended_at": self.metadata["endTimestamp"]},
            )
        except ClientError as exc:
            _warn(f"could not mark the live run {self.status} ({exc.message}).")
        finally:
            self.live.client.close()


def association(item: Marked, run_folder: Path) -> dict[str, Any]:
    """How a run's `metadata.yaml` records `item` among its associations."""
    if isinstance(item, Artifact):
        return item.association(run_folder)
    if isinstance(item, UUID):
        return {"id": str(item)}
    if isinstance(item, Mapping) and item.get("id"):
        entry = {"id": str(item["id"])}
        if item.get("path"):
            entry["path"] = str(item["path"])
        return entry
    if isinstance(item, str) and item.strip():
        return {"path": item.strip()}
    raise TypeError(
        "Mark an Artifact, a node path or id such as '/alice/data/mnist', or a version such as "
        f"'/alice/t9k-assethub/dataset/mnist:v1'; not {item!r}."
    )


def _status_for(error: BaseException | None) -> str:
    if error is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
        return bundle.COMPLETE
    if isinstance(error, KeyboardInterrupt):
        return bundle.KILLED
    return bundle.ERROR


def create_run(name: str, **options: Any) -> Run:
    """Start a run; see `Run` for the options (hparams, labels, description, folder, make_folder, live).

    Under `em run` the first run of the process joins the wrapper's run instead (`Run.join`).
    """
    _install_hooks()
    claimed = joining.claim()
    if claimed is not None:
        folder, named = claimed
        return Run.join(folder, named=named, name=name, **options)
    return Run(name, **options)


def login(host: str, api_key: str) -> str:
    """Check the key against the server and save both to the config file; returns your username."""
    host = config.normalize_host(host)
    with Client(host, api_key) as client:
        user = api.me(client)
    config.update(host=host, api_key=api_key)
    return user["username"]


_hooks_installed = False


def _install_hooks() -> None:
    """At exit, finish runs the script left open: Error after an uncaught exception, else Complete."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def remember(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        _uncaught.append(error)
        previous(kind, error, tb)

    sys.excepthook = remember
    atexit.register(_finish_open_runs)


def _finish_open_runs() -> None:
    status = _status_for(_uncaught[-1]) if _uncaught else bundle.COMPLETE
    for run in list(_open_runs):
        run.finish(status)
