"""`AutoTune`: a hyper-parameter search recorded from any loop, as a bundle (docs/autotune.md) and, in
live mode, through the API while it runs.

    import em
    with em.create_autotune("mnist-search", objective_metric="accuracy", goal="maximize") as search:
        for params in candidates:
            with search.trial(params) as trial:
                for epoch in range(10):
                    trial.report(evaluate(params, epoch), step=epoch)
                trial.finish(value=final_accuracy)

The bundle is the source of truth, complete enough to index at every moment (each write replaces a file
atomically). Live mode sends each event as one small request (create the search, add a trial, append
its values, finish it): a request per event rather than a re-upload per trial, so the server's work
stays linear in the search's size. A live failure turns live mode off with a warning; the bundle goes on.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console

from em.client import config
from em.client.errors import ClientError
from em.client.http import Client
from em.client.sdk import bundle
from em.client.upload import Uploader, folder_path

AUTOTUNE_DIR = "autotune"
PROFILE = "profile.json"
SEARCH_STATUSES = ("PENDING", "RUNNING", "TIMEOUT", "DONE", "ERROR")
TRIAL_STATUSES = ("Waiting", "Running", "Succeeded", "Pruned", "Failed", "Canceled")


def _warn(message: str) -> None:
    print(f"em: {message}", file=sys.__stderr__ or sys.stderr)


def write_json(path: Path, data: Any) -> None:
    """Replace `path` atomically (NaN and infinities become null: JSON has no words for them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(_finite(data), out, ensure_ascii=False, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return bundle.plain(value)


class AutoTune:
    """One search's bundle folder (`.em/autotune/<name>_<stamp>/`); see `create_autotune`."""

    def __init__(
        self,
        name: str,
        *,
        objective_metric: str,
        goal: str = "maximize",
        search_space: Mapping[str, Any] | None = None,
        tuner: Mapping[str, Any] | None = None,
        trainer: Mapping[str, Any] | None = None,
        max_trial_num: int | None = None,
        trial_concurrency: int | None = None,
        max_exec_seconds: float | None = None,
        folder: str | None = None,
        make_folder: bool = False,
        live: bool = False,
        base_dir: str | Path | None = None,
    ) -> None:
        if goal not in ("maximize", "minimize"):
            raise ValueError(f"goal must be 'maximize' or 'minimize', not {goal!r}.")
        self.name = name
        self.destination = folder
        self.make_folder = make_folder
        self.alternative_name = bundle.folder_name(name)
        self.folder = Path(base_dir or Path.cwd()) / bundle.EM_DIR / AUTOTUNE_DIR / self.alternative_name
        self.folder.mkdir(parents=True)
        self.profile: dict[str, Any] = {
            "name": name,
            "objective": {"metric": objective_metric, "goal": goal},
            "searchSpace": dict(search_space or {}),
            "tuner": dict(tuner or {}),
            "trainer": dict(trainer or {}),
            "maxTrialNum": max_trial_num,
            "trialConcurrency": trial_concurrency,
            "maxExecSeconds": max_exec_seconds,
            "status": "RUNNING",
            "start": bundle.now(),
            "end": None,
        }
        self.trials: dict[int, Trial] = {}
        self._write_profile()
        # What `em upload` reads to know the kind and name of the folder it sends.
        bundle.write_yaml(
            self.folder / bundle.METADATA,
            {"kind": "AutoTune", "name": name, "alternativeName": self.alternative_name, "remote": []},
        )
        self.client: Client | None = None
        self.remote_id: str | None = None
        if live:
            self._go_live()

    # --- what the loop records -------------------------------------------------------------------

    def trial(self, params: Mapping[str, Any], *, number: int | None = None, start: datetime | None = None) -> Trial:
        """Start a trial with these parameters; `number` defaults to the next one (0, 1, 2, ...), `start`
        to now (a tuner that ran the trial elsewhere passes its own times)."""
        if number is None:
            number = max(self.trials, default=-1) + 1
        if number in self.trials:
            raise ValueError(f"Trial {number} exists in this search.")
        trial = Trial(self, number, dict(params))
        if start is not None:
            trial.metadata["start"] = iso(start)
        self.trials[number] = trial
        trial._write()
        self._send("POST", f"autotune/{self.remote_id}/trials", trial.metadata)
        return trial

    def finish(self, status: str = "DONE") -> None:
        """End the search (DONE, TIMEOUT or ERROR); trials still running are marked Canceled."""
        if self.profile["status"] != "RUNNING":
            return
        if status not in SEARCH_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SEARCH_STATUSES)}, not {status!r}.")
        for trial in self.trials.values():
            if trial.metadata["status"] == "Running":
                trial.finish(status="Canceled")
        self.profile.update(status=status, end=bundle.now())
        self._write_profile()
        self._send("PATCH", f"autotune/{self.remote_id}", {"profile": _finite(self.profile)})
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self) -> AutoTune:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.finish("DONE" if error is None else "ERROR")

    def upload(self, folder: str | None = None, make_folder: bool = False, conflict_strategy: str = "new") -> Any:
        """Send the bundle to the configured server (default folder: the one given at creation); the node."""
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

    def _write_profile(self) -> None:
        write_json(self.folder / PROFILE, self.profile)

    def _go_live(self) -> None:
        try:
            self.client = Client.from_config(config.load())
            created = self.client.request(
                "POST",
                "autotune",
                json={
                    "parent_path": folder_path(self.client, self.destination),
                    "make_folder": self.make_folder,
                    "name": self.name,
                    "profile": _finite(self.profile),
                },
            )
        except ClientError as exc:
            _warn(f"live mode is off ({exc.message}); the search is saved in {self.folder}.")
            self._stop_live()
            return
        self.remote_id = str(created["id"])

    def _send(self, method: str, path: str, body: dict[str, Any]) -> None:
        if self.client is None or self.remote_id is None:
            return
        try:
            self.client.request(method, path, json=_finite(body))
        except ClientError as exc:
            _warn(f"live mode stopped ({exc.message}); the search is saved in {self.folder}.")
            self._stop_live()

    def _stop_live(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None


class Trial:
    """One trial's folder (`trials/<number>/`): `metadata.json` and `metrics.yaml`."""

    def __init__(self, search: AutoTune, number: int, params: dict[str, Any]) -> None:
        self.search = search
        self.number = number
        self.folder = search.folder / "trials" / str(number)
        self.metadata: dict[str, Any] = {
            "id": number,
            "parameters": params,
            "status": "Running",
            "start": bundle.now(),
            "end": None,
        }
        self.intermediate: list[dict[str, Any]] = []
        self.final: float | None = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.metadata["parameters"])

    def report(self, value: float, step: int | None = None) -> None:
        """Record an intermediate value of the objective at `step` (default: the next one)."""
        self._check_open()
        step = len(self.intermediate) if step is None else int(step)
        point = {"step": step, "value": float(value), "timestamp": bundle.now()}
        self.intermediate.append(point)
        self._write_metrics()
        remote = f"autotune/{self.search.remote_id}/trials/{self.number}"
        self.search._send("PATCH", remote, {"intermediate": [{"step": step, "value": float(value)}]})

    def finish(self, value: float | None = None, status: str = "Succeeded", *, end: datetime | None = None) -> None:
        """End the trial with its final value (if any) and status: Succeeded, Pruned, Failed or Canceled."""
        if self.metadata["status"] != "Running":
            return
        if status not in TRIAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(TRIAL_STATUSES)}, not {status!r}.")
        self.final = None if value is None else float(value)
        self.metadata.update(status=status, end=iso(end) if end is not None else bundle.now())
        self._write()
        self.search._send(
            "PATCH",
            f"autotune/{self.search.remote_id}/trials/{self.number}",
            {"status": status, "end": self.metadata["end"], "final": self.final},
        )

    def prune(self) -> None:
        """End the trial as pruned (stopped early by the tuner), keeping its last reported value."""
        last = self.intermediate[-1]["value"] if self.intermediate else None
        self.finish(value=last, status="Pruned")

    def __enter__(self) -> Trial:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.finish(value=self.final, status="Succeeded" if error is None else "Failed")

    def _check_open(self) -> None:
        if self.metadata["status"] != "Running":
            raise RuntimeError(f"Trial {self.number} is finished ({self.metadata['status']}).")

    def _write(self) -> None:
        write_json(self.folder / "metadata.json", self.metadata)
        self._write_metrics()

    def _write_metrics(self) -> None:
        write_json(self.folder / "metrics.yaml", {"final": self.final, "intermediate": self.intermediate})


def create_autotune(name: str, **options: Any) -> AutoTune:
    """Start recording a search named `name`; see `AutoTune` for the options."""
    return AutoTune(name, **options)


def iso(moment: datetime) -> str:
    """A datetime as the bundle writes times (ISO 8601 with offset; naive means local time)."""
    return (moment if moment.tzinfo else moment.astimezone()).isoformat(timespec="microseconds")
