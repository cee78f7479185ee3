"""A run bundle (ARCHITECTURE.md "Bundles") read and checked into a typed `Bundle`, or every problem found.

The files come from strangers, so each is read under a size cap, YAML goes through the hardened loader
(`yaml_safety`), and index.yaml may only name relative paths inside the run. Problems are collected per
file — malformed YAML with its line and column, a missing file, a step out of range with its point — and
raised together as `BundleError`, so one indexing attempt tells the user everything that is wrong.
Nothing here touches the database: `em.runs.indexing` stores what `load_bundle` returns.

NUL characters (a YAML `"\0"` escape; a raw NUL byte is not YAML at all) cannot be stored by PostgreSQL
in text or jsonb. Where a NUL would change what a user searches or names — any mapping key, a metric
name, a hyper-parameter value, metadata — the file is refused with an error naming the place. In
platform.yaml and git.yaml, which tools fill in and people only read, a NUL in a value becomes U+FFFD
(the replacement character) and the run indexes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from em import errors
from em.models import RunStatus
from em.runs.services import flatten
from em.services.validation import validate_path

from . import yaml_safety
from .metricfile import MetricFileError, parse_metric_file
from .metrics import Points, normalise_stage

MAX_METRICS_FILE_BYTES = 512 << 20
MAX_FILE_BYTES = 16 << 20
MAX_SERIES = 10_000
MAX_PARAMS = 10_000
MAX_KEY_LENGTH = 500  # MetricSeries.key and Param.key
MAX_ALTERNATIVE_NAME = 255
MAX_COMMAND_LENGTH = 100_000
MAX_SOURCE_NAME = 1024
_STATUSES = {status.lower(): status for status in RunStatus.values}
_BIG_INT = 2**63
NUL = "\x00"
REPLACEMENT = "\ufffd"  # what a NUL becomes in platform.yaml and git.yaml values


class BundleError(Exception):
    """Everything wrong with a bundle: `problems` is a list of {"file", "message"}."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['file']}: {p['message']}" for p in problems))
        self.problems = problems


class _FileProblem(Exception):
    """One file's problem; `load_bundle` collects them."""


@dataclass
class Bundle:
    status: str = RunStatus.RUNNING
    started_at: datetime | None = None
    ended_at: datetime | None = None
    alternative_name: str = ""
    source_type: str = "SDK"  # "CLI" for a bundle `em run` wrote around a command
    source_name: str = ""
    command: str = ""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    platform: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Points] = field(default_factory=dict)  # "<stage>.<name>" → points
    log: str | None = None  # the path of the console log, which is served, not indexed


Reader = Callable[[str, int], bytes]  # (path, at most this many bytes) → the file's bytes


def load_bundle(sizes: Mapping[str, int], read: Reader) -> Bundle:
    """The bundle made of the files `sizes` lists (path → size), read through `read`.

    Raises `BundleError` listing every problem; returns only a bundle that can be stored whole.
    """
    problems: list[dict[str, str]] = []

    def attempt(path: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except (_FileProblem, MetricFileError, yaml_safety.YAMLRefused, errors.EMError) as exc:
            problems.append({"file": path, "message": getattr(exc, "message", None) or str(exc)})
            return None

    def document(path: str, *, numbers: bool = False) -> Any:
        return yaml_safety.load(_read(sizes, read, path, MAX_FILE_BYTES), yaml12_numbers=numbers)

    bundle = Bundle()
    metadata = attempt("metadata.yaml", lambda: _mapping(document("metadata.yaml")))
    if metadata is not None:
        attempt("metadata.yaml", lambda: _apply_metadata(bundle, metadata))
    index = attempt("index.yaml", lambda: _index(document("index.yaml")))
    if index is None:
        raise BundleError(problems)
    hyperparameters_path, platform_path, git_path, stage_paths, bundle.log = index
    if bundle.log is not None and bundle.log not in sizes:
        problems.append({"file": bundle.log, "message": "named by index.yaml, but the run does not hold this file"})
    if hyperparameters_path:
        hyperparameters = attempt(
            hyperparameters_path, lambda: _hyperparameters(document(hyperparameters_path, numbers=True))
        )
        bundle.hyperparameters = hyperparameters or {}
    if platform_path:
        bundle.platform = attempt(platform_path, lambda: _described(document(platform_path))) or {}
    if git_path:
        bundle.git = attempt(git_path, lambda: _described(document(git_path))) or {}
        attempt(git_path, lambda: _source_name(bundle))
    for stage, path in stage_paths.items():
        series = attempt(path, partial(_metric_file, sizes, read, path))
        for name, points in (series or {}).items():
            key = f"{stage}.{name}"
            if NUL in key:
                problems.append({"file": path, "message": f"metric key {key[:80]!r} holds a NUL character"})
            elif len(key) > MAX_KEY_LENGTH:
                problems.append(
                    {"file": path, "message": f"metric key {key[:80]!r}… is over {MAX_KEY_LENGTH} characters"}
                )
            elif key in bundle.metrics:
                problems.append({"file": path, "message": f"metric key {key!r} also comes from another stage"})
            bundle.metrics[key] = points
    if len(bundle.metrics) > MAX_SERIES:
        problems.append(
            {"file": "index.yaml", "message": f"{len(bundle.metrics):,} metric series; at most {MAX_SERIES:,}"}
        )
    if problems:
        raise BundleError(problems)
    return bundle


def _read(sizes: Mapping[str, int], read: Reader, path: str, cap: int) -> bytes:
    if path not in sizes:
        raise _FileProblem(
            "missing: the run does not hold this file"
            if path in ("metadata.yaml", "index.yaml")
            else "named by index.yaml, but the run does not hold this file"
        )
    if sizes[path] > cap:
        raise _FileProblem(f"{sizes[path]:,} bytes; the limit for this file is {cap:,}")
    data = read(path, cap + 1)
    if len(data) > cap:
        raise _FileProblem(f"over {cap:,} bytes; the limit for this file")
    return data


def _metric_file(sizes: Mapping[str, int], read: Reader, path: str) -> dict[str, Points]:
    return parse_metric_file(_read(sizes, read, path, MAX_METRICS_FILE_BYTES))


def _mapping(value: Any) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _FileProblem(f"must be a mapping, not {type(value).__name__}")
    return value


def _apply_metadata(bundle: Bundle, metadata: dict[Any, Any]) -> None:
    kind = metadata.get("kind", "Run")
    if kind != "Run":
        raise _FileProblem(f"describes a {str(kind)[:40]!r}, not a Run")
    status = metadata.get("status") or RunStatus.RUNNING
    if not isinstance(status, str) or status.lower() not in _STATUSES:
        raise _FileProblem(f"status must be one of {', '.join(RunStatus.values)}, not {str(status)[:40]!r}")
    bundle.status = _STATUSES[status.lower()]
    bundle.started_at = _moment(metadata.get("startTimestamp"), "startTimestamp")
    bundle.ended_at = _moment(metadata.get("endTimestamp"), "endTimestamp")
    alternative = metadata.get("alternativeName") or ""
    if not isinstance(alternative, str) or len(alternative) > MAX_ALTERNATIVE_NAME:
        raise _FileProblem(f"alternativeName must be text of at most {MAX_ALTERNATIVE_NAME} characters")
    bundle.alternative_name = _no_nul(alternative, "alternativeName")
    command = metadata.get("command")
    if command is not None:
        if not isinstance(command, str) or len(command) > MAX_COMMAND_LENGTH:
            raise _FileProblem(f"command must be text of at most {MAX_COMMAND_LENGTH:,} characters")
        bundle.command, bundle.source_type = _no_nul(command, "command"), "CLI"


def _moment(value: Any, name: str) -> datetime | None:
    """A metadata time: an ISO 8601 text or YAML timestamp; without an offset it is UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _FileProblem(f"{name} is not an ISO 8601 time: {value[:40]!r}") from None
    if not isinstance(value, datetime):
        raise _FileProblem(f"{name} must be a date and time, not {type(value).__name__}")
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)  # the database stores UTC: 9999-12-31T23:59-23:59 is not a time it holds
    except OverflowError:
        raise _FileProblem(f"{name} {value.isoformat()} is outside the years 1-9999 in UTC") from None


def _index(
    document: Any,
) -> tuple[str | None, str | None, str | None, dict[str, str], str | None]:
    """(hyperparameters, platform, git, {stage: metrics file}, log) from index.yaml, every path checked."""
    index = _mapping(document)

    def path_of(value: Any, what: str) -> str | None:
        if value is None:
            return None
        try:
            return validate_path(value)
        except errors.EMError as exc:
            raise _FileProblem(f"{what}: {exc.message}") from None

    metrics = index.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise _FileProblem("metrics must map stages to files, e.g. {train: metrics/train.yaml}")
    stages: dict[str, str] = {}
    written: dict[str, str] = {}
    for stage, value in metrics.items():
        if not isinstance(stage, str) or not stage.strip():
            raise _FileProblem(f"metric stage {stage!r} is not a name")
        normal = normalise_stage(stage)
        if normal in stages:
            raise _FileProblem(f"metric stages {written[normal]!r} and {stage!r} are both {normal!r}")
        path = path_of(value, f"metrics.{stage}")
        if path is not None:
            stages[normal], written[normal] = path, stage
    return (
        path_of(index.get("hyperparameters"), "hyperparameters"),
        path_of(index.get("platform"), "platform"),
        path_of(index.get("git"), "git"),
        stages,
        path_of(index.get("log"), "log"),
    )


def _hyperparameters(document: Any) -> dict[str, Any]:
    """The nested hyper-parameters, JSON-safe, once their flattened keys are known to be storable."""
    hyperparameters = _plain(_mapping(document), nul=None)
    keys = [key for key, _ in flatten(hyperparameters)]
    if len(keys) > MAX_PARAMS:
        raise _FileProblem(f"{len(keys):,} hyper-parameters; at most {MAX_PARAMS:,}")
    long = next((key for key in keys if len(key) > MAX_KEY_LENGTH), None)
    if long is not None:
        raise _FileProblem(f"hyper-parameter key {long[:80]!r}… is over {MAX_KEY_LENGTH} characters")
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise _FileProblem(f"hyper-parameter {key!r} is given twice (a dotted key and a nested one)")
        seen.add(key)
    return hyperparameters


def _described(document: Any) -> dict[str, Any]:
    """platform.yaml or git.yaml: a mapping people read, where a NUL in a value becomes U+FFFD."""
    return _plain(_mapping(document), nul=REPLACEMENT)  # type: ignore[no-any-return]


def _plain(value: Any, *, nul: str | None, where: str = "") -> Any:
    """YAML values as JSON the database stores everywhere: text keys, times as ISO text, NaN/inf and
    integers beyond 64 bits as text (PostgreSQL's jsonb has no NaN; a float cannot hold the integer).

    A NUL in a text value is replaced by `nul`, or refused (naming the dotted place) when `nul` is None;
    a NUL in a key is always refused.
    """
    if isinstance(value, dict):
        plain = {}
        for k, v in value.items():
            key = _key(k, where)
            plain[key] = _plain(v, nul=nul, where=f"{where}.{key}" if where else key)
        if len(plain) < len(value):
            raise _FileProblem("has keys that differ only in type (e.g. 1 and '1')")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(v, nul=nul, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and NUL in value:
        return value.replace(NUL, nul) if nul is not None else _no_nul(value, where)
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int) and not isinstance(value, bool) and not -_BIG_INT <= value < _BIG_INT:
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _FileProblem(f"holds a {type(value).__name__} value, which is not supported")


def _key(key: Any, where: str) -> str:
    """A mapping key as text, spelled as in JSON (`true`, `null`, `1.5`)."""
    if isinstance(key, str):
        return _no_nul(key, f"{where}.{key}" if where else key, what="key")
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, int | float | datetime | date):
        return str(_plain(key, nul=None))
    raise _FileProblem(f"holds a {type(key).__name__} key, which is not supported")


def _no_nul(text: str, where: str, *, what: str = "value") -> str:
    """`text`, or a refusal naming the place of its NUL (PostgreSQL cannot store one; see the module doc)."""
    if NUL in text:
        shown = where.replace(NUL, "\\0")[:120]
        raise _FileProblem(f"the {what} at `{shown}` holds a NUL character (\\0), which EM cannot store")
    return text


def _source_name(bundle: Bundle) -> None:
    entrypoint = bundle.git.get("entrypoint")
    if entrypoint is None:
        return
    text = entrypoint if isinstance(entrypoint, str) else str(entrypoint)
    if len(text) > MAX_SOURCE_NAME:
        raise _FileProblem(f"entrypoint is over {MAX_SOURCE_NAME} characters")
    bundle.source_name = text


def named_files(index_document: Any) -> set[str]:
    """The files an index.yaml document names (the log included), so a caller receiving a bundle's files
    one by one can tell when all have arrived; BundleError when the document is no index."""
    try:
        hyperparameters, platform, git, stages, log = _index(index_document)
    except _FileProblem as exc:
        raise BundleError([{"file": "index.yaml", "message": str(exc)}]) from None
    return {path for path in (hyperparameters, platform, git, log, *stages.values()) if path}
