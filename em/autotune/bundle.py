"""Reading an AutoTune bundle (docs/autotune.md): `profile.json` and one folder per trial under `trials/`
holding `metadata.json` and, optionally, `metrics.yaml`.

`load_bundle` reads and checks everything before anything is stored, and raises one `BundleError` that
lists every problem by file, so a search is indexed whole or not at all. The same checks serve the live
API (`profile_from`, `trial_from`), so a trial sent while a search runs and one read from its files are
held to one standard. `metrics.yaml` is YAML; the SDK writes it as JSON (a subset of YAML 1.2), which
is read by the JSON parser first because it is ten times faster than composing YAML nodes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from em.models.autotune import Goal, SearchStatus, TrialStatus
from em.runs import yaml_safety

PROFILE = "profile.json"
TRIALS_DIR = "trials"
METADATA = "metadata.json"
METRICS = "metrics.yaml"
MAX_TRIALS = 5_000
MAX_POINTS_PER_TRIAL = 100_000
MAX_PROFILE_BYTES = 1 << 20
MAX_METADATA_BYTES = 1 << 20
MAX_METRICS_BYTES = 64 << 20
MAX_PARAMS = 1_000
MAX_KEY_LENGTH = 500
# Other spellings of trial statuses found in the wild (Optuna, NNI/Katib as T9k uses them).
_TRIAL_ALIASES = {
    "pending": TrialStatus.WAITING,
    "waiting": TrialStatus.WAITING,
    "running": TrialStatus.RUNNING,
    "succeeded": TrialStatus.SUCCEEDED,
    "success": TrialStatus.SUCCEEDED,
    "complete": TrialStatus.SUCCEEDED,
    "completed": TrialStatus.SUCCEEDED,
    "pruned": TrialStatus.PRUNED,
    "early_stopped": TrialStatus.PRUNED,
    "failed": TrialStatus.FAILED,
    "fail": TrialStatus.FAILED,
    "canceled": TrialStatus.CANCELED,
    "cancelled": TrialStatus.CANCELED,
    "user_canceled": TrialStatus.CANCELED,
}
_TRIAL_PATH = re.compile(r"^trials/([^/]+)/(metadata\.json|metrics\.yaml)$")
Reader = Callable[[str, int], bytes]  # (path, at most this many bytes) -> the file's bytes


class BundleError(Exception):
    """Everything wrong with a bundle (or a live request): `problems` is a list of {"file", "message"}."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['file']}: {p['message']}" for p in problems))
        self.problems = problems


class Problem(ValueError):
    """One file's problem (the message names the field)."""


@dataclass
class Profile:
    name: str = ""
    objective_metric: str = ""
    goal: str = Goal.MAXIMIZE
    search_space: dict[str, Any] = field(default_factory=dict)
    tuner: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    max_trial_num: int | None = None
    trial_concurrency: int | None = None
    max_exec_seconds: float | None = None
    status: str = SearchStatus.RUNNING
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class TrialData:
    number: int
    status: str = TrialStatus.RUNNING
    params: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<i8"))
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<f8"))


@dataclass
class Bundle:
    profile: Profile
    trials: list[TrialData]


def load_bundle(sizes: Mapping[str, int], read: Reader) -> Bundle:
    """The search the files `sizes` lists (path -> size) make, read through `read`; BundleError otherwise."""
    problems: list[dict[str, str]] = []

    def attempt(path: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except (Problem, yaml_safety.YAMLRefused) as exc:
            problems.append({"file": path, "message": str(exc)})
            return None

    profile = attempt(PROFILE, lambda: profile_from(_json(_read(sizes, read, PROFILE, MAX_PROFILE_BYTES))))
    folders: dict[str, set[str]] = {}
    for path in sizes:
        match = _TRIAL_PATH.match(path)
        if match:
            folders.setdefault(match.group(1), set()).add(match.group(2))
    if len(folders) > MAX_TRIALS:
        problems.append(
            {"file": f"{TRIALS_DIR}/", "message": f"{len(folders):,} trials; a search holds at most {MAX_TRIALS:,}"}
        )
        raise BundleError(problems)
    trials: list[TrialData] = []
    seen: dict[int, str] = {}
    for folder in sorted(folders):
        meta_path, metrics_path = f"{TRIALS_DIR}/{folder}/{METADATA}", f"{TRIALS_DIR}/{folder}/{METRICS}"
        trial = attempt(meta_path, partial(_trial_metadata, sizes, read, meta_path))
        metrics = attempt(metrics_path, partial(_trial_metrics, sizes, read, metrics_path))
        if trial is None or metrics is None or attempt(metrics_path, partial(apply_metrics, trial, metrics)) is None:
            continue
        if trial.number in seen:
            problems.append({"file": meta_path, "message": f"id {trial.number} is also the id in {seen[trial.number]}"})
            continue
        seen[trial.number] = meta_path
        trials.append(trial)
    if problems:
        raise BundleError(problems)
    trials.sort(key=lambda t: t.number)
    return Bundle(profile, trials)


def _trial_metadata(sizes: Mapping[str, int], read: Reader, path: str) -> TrialData:
    if path not in sizes:
        raise Problem("missing: every trial folder holds one")
    return trial_from(_json(_read(sizes, read, path, MAX_METADATA_BYTES)))


def _trial_metrics(sizes: Mapping[str, int], read: Reader, path: str) -> Any:
    if path not in sizes:
        return {}  # a trial that reported nothing yet
    return _metrics_document(_read(sizes, read, path, MAX_METRICS_BYTES))


def profile_from(document: Any) -> Profile:
    """A profile from its JSON document (a file's or a request's)."""
    data = _mapping(document, "the profile")
    objective = _mapping(data.get("objective") or {}, "objective")
    goal = str(objective.get("goal") or Goal.MAXIMIZE).lower()
    if goal not in Goal.values:
        raise Problem(f"objective.goal is maximize or minimize, not {goal[:40]!r}")
    status = str(data.get("status") or SearchStatus.RUNNING).upper()
    if status not in SearchStatus.values:
        raise Problem(f"status is one of {', '.join(SearchStatus.values)}, not {status[:40]!r}")
    return Profile(
        name=_text(data.get("name"), "name", 255),
        objective_metric=_text(objective.get("metric"), "objective.metric", MAX_KEY_LENGTH),
        goal=goal,
        search_space=_mapping(data.get("searchSpace") or {}, "searchSpace"),
        tuner=_mapping(data.get("tuner") or {}, "tuner"),
        trainer=_mapping(data.get("trainer") or {}, "trainer"),
        max_trial_num=_whole(data.get("maxTrialNum"), "maxTrialNum"),
        trial_concurrency=_whole(data.get("trialConcurrency"), "trialConcurrency"),
        max_exec_seconds=_seconds(data.get("maxExecSeconds")),
        status=status,
        started_at=moment(data.get("start"), "start"),
        ended_at=moment(data.get("end"), "end"),
    )


def trial_from(document: Any) -> TrialData:
    """A trial from its `metadata.json` document (or the live API's body), without its metrics."""
    data = _mapping(document, "metadata.json")
    number = _whole(data.get("id"), "id")
    if number is None:
        raise Problem("id is missing: the trial's number (0, 1, 2, ...)")
    params = _mapping(data.get("parameters") or {}, "parameters")
    if len(params) > MAX_PARAMS:
        raise Problem(f"{len(params):,} parameters; at most {MAX_PARAMS:,}")
    for key in params:
        if len(str(key)) > MAX_KEY_LENGTH or "\x00" in str(key):
            raise Problem(f"parameter name {str(key)[:80]!r} is too long or holds a NUL character")
    return TrialData(
        number=number,
        status=trial_status(data.get("status")),
        params=params,
        started_at=moment(data.get("start"), "start"),
        ended_at=moment(data.get("end"), "end"),
    )


def trial_status(value: Any) -> str:
    """A trial status in any known spelling, as one of TrialStatus; Problem naming the known ones."""
    if value is None:
        return TrialStatus.RUNNING
    status = _TRIAL_ALIASES.get(str(value).strip().lower())
    if status is None:
        raise Problem(f"status {str(value)[:40]!r} is unknown; use one of {', '.join(TrialStatus.values)}")
    return status


def apply_metrics(trial: TrialData, document: Any) -> bool:
    """Set the trial's final value and intermediate points from a `metrics.yaml` document."""
    data = _mapping(document or {}, "metrics.yaml")
    trial.value = final_value(data.get("final"))
    steps, values = points(data.get("intermediate") or [])
    trial.steps, trial.values = steps, values
    return True


def final_value(value: Any) -> float | None:
    """A final objective value: a number, or None when there is none (or it is NaN or infinite)."""
    if value is None:
        return None
    number = _float(value, "final")
    return number if math.isfinite(number) else None


def points(items: Any) -> tuple[np.ndarray, np.ndarray]:
    """Intermediate values as (int64 steps, float64 values), from a list of {step, value}."""
    if not isinstance(items, list):
        raise Problem("intermediate is a list of {step, value}")
    if len(items) > MAX_POINTS_PER_TRIAL:
        raise Problem(f"{len(items):,} intermediate values; a trial holds at most {MAX_POINTS_PER_TRIAL:,}")
    step_list: list[Any] | None
    value_list: list[Any] | None
    try:  # the common case in bulk: every point a {step: int, value: number} (checked right below)
        step_list = [item["step"] for item in items]
        value_list = [item["value"] for item in items]
    except (TypeError, KeyError):
        step_list = value_list = None
    if (
        step_list is not None
        and value_list is not None
        and set(map(type, step_list)) <= {int}
        and set(map(type, value_list)) <= {int, float}
    ):
        try:
            steps, values = np.array(step_list, dtype="<i8"), np.array(value_list, dtype="<f8")
        except OverflowError:
            steps = np.array([-1])  # the loop below names the point
        if not len(steps) or (steps.min() >= 0 and steps.max() < 2**31):
            return steps, values
    steps = np.empty(len(items), dtype="<i8")
    values = np.empty(len(items), dtype="<f8")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise Problem(f"intermediate[{i}] is a mapping {{step, value}}, not {type(item).__name__}")
        step = _whole(item.get("step"), f"intermediate[{i}].step")
        steps[i] = i if step is None else step
        values[i] = _float(item.get("value"), f"intermediate[{i}].value")
    return steps, values


def moment(value: Any, name: str) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Problem(f"{name} is an ISO 8601 time, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(f"{name} is not an ISO 8601 time: {value[:40]!r}") from None
    parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise Problem(f"{name} is outside the years 1-9999 in UTC") from None


def _read(sizes: Mapping[str, int], read: Reader, path: str, cap: int) -> bytes:
    if path not in sizes:
        raise Problem("missing: a search holds this file" if path == PROFILE else "missing")
    if sizes[path] > cap:
        raise Problem(f"{sizes[path]:,} bytes; at most {cap:,}")
    return read(path, cap + 1)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Problem(f"not valid JSON ({exc})") from None


def _metrics_document(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return yaml_safety.load(data, yaml12_numbers=True)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Problem(f"{what} is a mapping, not {type(value).__name__}")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Problem(f"{what} is a text of at most {limit} characters without NUL")
    return value


def _whole(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise Problem(f"{what} is a whole number from 0 to {2**31 - 1}, not {str(value)[:40]!r}")
    return value


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Problem(f"{what} is a number, not {str(value)[:40]!r}")
    try:
        return float(value)
    except OverflowError:
        raise Problem(f"{what} is too large a number") from None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    number = _float(value, "maxExecSeconds")
    if not math.isfinite(number) or number < 0:
        raise Problem("maxExecSeconds is a number of seconds, 0 or more")
    return number
