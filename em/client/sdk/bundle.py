"""The on-disk bundle format (ARCHITECTURE.md "Bundles"): folder names, YAML files, metric logs.

The server indexes these folders unchanged, and so do bundles written by T9k's `t9k.em` SDK, so the
layout here is a contract: the file names, the keys of `metadata.yaml` and `index.yaml`, and the exact
byte layout of metric blocks (`yaml.safe_dump([point], sort_keys=False)`), which the server parses with
a fast path.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import os
import secrets
import string
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import yaml

EM_DIR = ".em"
RUNS_DIR = "runs"
ARTIFACTS_DIR = "artifacts"
METADATA = "metadata.yaml"
INDEX = "index.yaml"
HYPERPARAMETERS = "hyperparameters.yaml"
PLATFORM = "platform.yaml"
GIT = "git.yaml"
LOG = "stdout.log"
METRICS_DIR = "metrics"
REFERENCES = "references.yaml"

RUNNING, COMPLETE, ERROR, KILLED = "Running", "Complete", "Error", "Killed"
STAGE_ALIASES = {"training": "train", "validation": "val", "eval": "val", "evaluation": "val", "testing": "test"}
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def now() -> str:
    """The current local time as ISO 8601 with microseconds and offset, the bundle's one time format."""
    return datetime.now().astimezone().isoformat(timespec="microseconds")


def folder_name(name: str, moment: datetime | None = None) -> str:
    """`<name>_<yymmdd>_<HHMMSS>_<6 [a-z0-9]>`: unique without coordination, sortable by time."""
    moment = moment or datetime.now().astimezone()
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"{safe_name(name)}_{moment:%y%m%d_%H%M%S}_{suffix}"


def safe_name(name: str) -> str:
    """A name usable as one path component: separators and NUL replaced, never empty or a dot name."""
    cleaned = "".join("_" if c in "/\\\0" else c for c in name.strip())
    if cleaned in {"", ".", ".."}:
        raise ValueError(f"{name!r} cannot be used as a name.")
    return cleaned


def normalise_stage(stage: str) -> str:
    """`train`, `val`, `test` for the aliases seen in the wild; other stages kept, lower-cased."""
    key = stage.strip().lower()
    if not key or "/" in key or "." in key:
        raise ValueError(f"{stage!r} is not a metric type: use e.g. 'train', 'val' or 'test'.")
    return STAGE_ALIASES.get(key, key)


def plain(value: Any) -> Any:
    """`value` as YAML-safe builtins: mappings with str keys, lists, scalars; NumPy/torch scalars unwrapped.

    Anything else becomes its `str()`, so that logging an odd object records something readable
    instead of failing the training script.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)
    if callable(item):
        with contextlib.suppress(Exception):
            return plain(item())
    return str(value)


def number(value: Any) -> int | float:
    """A metric value as int or float; ValueError for anything that is not a number."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a bool, not a metric value.")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # a 0-d tensor or array
    if callable(item):
        return number(item())
    raise ValueError(f"{value!r} is not a number.")


def dump(data: Any) -> str:
    return yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True, default_flow_style=False)


def write_yaml(path: Path, data: Any) -> None:
    """Replace `path` atomically, so a crash mid-write never leaves a file the indexer cannot parse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dump(data))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def metric_point(values: Mapping[str, Any], *, step: int, epoch: int | None, timestamp: str) -> dict[str, Any]:
    """One point of `metrics/<stage>.yaml`; keys in the order the format shows them."""
    if not values:
        raise ValueError("Log at least one metric, e.g. run.log('train', {'loss': 0.25}, step=1).")
    checked = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key or "." in key:
            raise ValueError(f"{key!r} is not a metric name: use a non-empty name without dots.")
        checked[key] = number(value)
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise ValueError(f"step must be an integer, not {step!r}.")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral)):
        raise ValueError(f"epoch must be an integer or None, not {epoch!r}.")
    return {
        "value": checked,
        "sequence": {"epoch": None if epoch is None else int(epoch), "step": int(step), "timestamp": timestamp},
    }


@functools.lru_cache(maxsize=4096)
def _plain_key(key: str) -> str | None:
    """How `yaml.safe_dump` writes `key` as a mapping key (quoted when YAML needs it); None if complex."""
    line = yaml.safe_dump({key: 0})
    return None if line.startswith("?") or not line.endswith(": 0\n") else line[: -len(": 0\n")]


def _float_text(value: float) -> str:
    """`yaml.safe_dump`'s spelling of a float (its SafeRepresenter.represent_float)."""
    if value != value:
        return ".nan"
    if value in (math.inf, -math.inf):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def metric_block(point: dict[str, Any]) -> str:
    """`yaml.safe_dump([point], sort_keys=False)`, byte for byte, about 50 times faster.

    The server parses this exact layout on a fast path, and training loops call `log()` per step, so
    the common shape (plain names, int/float values, our own timestamp) is written directly; anything
    else goes through PyYAML itself.
    """
    lines = ["- value:\n"]
    for key, value in point["value"].items():
        name = _plain_key(key)
        if name is None:
            return yaml.safe_dump([point], sort_keys=False)
        lines.append(f"    {name}: {_float_text(value) if isinstance(value, float) else int(value)}\n")
    sequence = point["sequence"]
    epoch = "null" if sequence["epoch"] is None else sequence["epoch"]
    lines.append(f"  sequence:\n    epoch: {epoch}\n    step: {sequence['step']}\n")
    lines.append(f"    timestamp: '{sequence['timestamp']}'\n")
    return "".join(lines)


class MetricLog:
    """Appends points to `metrics/<stage>.yaml` one YAML list block at a time.

    Each block is a complete list item, flushed as it is written, so the file is valid YAML after every
    call and a crash loses at most the point being written.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def append(self, point: dict[str, Any]) -> None:
        self._file.write(metric_block(point))
        self._file.flush()

    def close(self) -> None:
        self._file.close()
