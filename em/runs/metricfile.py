"""Reading a bundle's `metrics/<stage>.yaml` into one `Points` per metric name, fast.

A long run writes a hundred megabytes of metrics; a generic YAML loader needs minutes for that. The em
SDK (and T9k's `t9k.em`) writes one canonical layout — `yaml.safe_dump` of a list of
`{value: {name: number}, sequence: {epoch, step, timestamp}}`, with or without sorted keys — so
`_scan_canonical` recognises exactly that layout with a few regular-expression passes and NumPy, and
verifies that its matches tile the whole file. Anything else (comments, flow style, other quoting,
unusual names or numbers) goes to the general, hardened reader (`yaml_stream.list_items`, which hands
over one point at a time, so memory stays bounded by the packed columns) and `_columns_from_points`.
Both produce the same `_Columns`, and every check that can fail on a canonical file is done by code the
two paths share, so a file gives the same points, or the same error, either way.

Values are numbers as YAML 1.2 reads them (`1e-06` too, which YAML 1.1 calls text); NaN and ±infinity
are data — a diverged loss is worth seeing — and are kept (`em.runs.metrics` keeps them out of min/max).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import numpy as np
from django.conf import settings
from yaml.nodes import ScalarNode

from . import yaml_safety, yaml_stream
from .metrics import NO_EPOCH, Points
from .timestamps import parse_timestamp, parse_timestamps

MAX_NAMES_PER_FILE = 1000

_INT = rb"-?(?:0|[1-9][0-9]{0,18})"
_NUMBER = rb"-?(?:0|[1-9][0-9]{0,30})(?:\.[0-9]{0,40})?(?:[eE][-+]?[0-9]{1,3})?|-?\.inf|\.nan"
_NAME = rb"[A-Za-z_](?:[A-Za-z0-9_./ -]{0,300}[A-Za-z0-9_./-])?"
_VALUES = rb"((?:    " + _NAME + rb": (?:" + _NUMBER + rb")\n)+)"
_SEQUENCE = rb"    epoch: (null|" + _INT + rb")\n    step: (" + _INT + rb")\n    timestamp: '([ -&(-~]{0,64})'\n"
# (pattern, the constant bytes of one record, where block/epoch/step/timestamp are among the groups)
_LAYOUTS = [
    (
        re.compile(rb"- value:\n" + _VALUES + rb"  sequence:\n" + _SEQUENCE),
        len(b"- value:\n  sequence:\n    epoch: \n    step: \n    timestamp: ''\n"),
        (0, 1, 2, 3),
    ),
    (
        re.compile(rb"- sequence:\n" + _SEQUENCE + rb"  value:\n" + _VALUES),
        len(b"- sequence:\n    epoch: \n    step: \n    timestamp: ''\n  value:\n"),
        (3, 0, 1, 2),
    ),
]
_LINE_NAME = re.compile(rb"(?m)^    ([^:\n]+): ")
_LINE_NUMBER = re.compile(rb": ([^\n]*)\n")
_SPECIAL = {b".inf": float("inf"), b"-.inf": float("-inf"), b".nan": float("nan")}
_STR_TAG = "tag:yaml.org,2002:str"


class MetricFileError(ValueError):
    """What is wrong with the file, naming the point (its 0-based index in the list) where it can."""


@dataclass
class _Columns:
    """A metrics file flattened: one entry per point (list item) and one per (point, name) value."""

    steps: np.ndarray
    epochs: np.ndarray
    timestamps: np.ndarray
    value_point: np.ndarray  # the point each value belongs to
    value_name: np.ndarray  # index into `names`
    values: np.ndarray
    names: list[str]


def parse_metric_file(data: bytes, *, allow_fast: bool = True) -> dict[str, Points]:
    """Metric name → its points in file order. Raises `MetricFileError` or `yaml_safety.YAMLRefused`."""
    columns = _scan_canonical(data) if allow_fast else None
    if columns is None:
        limit = settings.EM_METRICS_YAML_MAX_BYTES
        if len(data) > limit:
            raise MetricFileError(
                f"{len(data):,} bytes and not in the layout the em SDK writes; other layouts are read only "
                f"up to {limit:,} bytes (EM_METRICS_YAML_MAX_BYTES)"
            )
        try:
            columns = _columns_from_points(yaml_stream.list_items(data, yaml12_numbers=True))
        except yaml_stream.NotAList as exc:
            raise MetricFileError(f"must be a list of points, not {exc.kind}") from None
    return _split(columns)


# --- the canonical layout ------------------------------------------------------------------------------


def _scan_canonical(data: bytes) -> _Columns | None:
    """The columns of a canonical file, or None when `data` is anything else (the caller falls back)."""
    if not data:
        return None
    for pattern, fixed, (block_at, epoch_at, step_at, ts_at) in _LAYOUTS:
        records = pattern.findall(data)
        if not records:
            continue
        blocks = [r[block_at] for r in records]
        epochs = [r[epoch_at] for r in records]
        steps = [r[step_at] for r in records]
        stamps = [r[ts_at] for r in records]
        covered = fixed * len(records) + sum(map(len, blocks)) + sum(map(len, epochs))
        covered += sum(map(len, steps)) + sum(map(len, stamps))
        if covered != len(data):  # the matches skipped something: not (entirely) canonical
            return None
        return _canonical_columns(blocks, epochs, steps, stamps)
    return None


def _canonical_columns(
    blocks: list[bytes], epochs: list[bytes], steps: list[bytes], stamps: list[bytes]
) -> _Columns | None:
    joined = b"".join(blocks)
    names = _LINE_NAME.findall(joined)
    numbers = _LINE_NUMBER.findall(joined)
    line_ends = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == ord("\n"))
    if not len(names) == len(numbers) == len(line_ends):
        return None
    block_ends = np.cumsum(np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks)))
    value_point = np.searchsorted(block_ends, line_ends, side="right").astype(np.int64)
    codes = {name: code for code, name in enumerate(dict.fromkeys(names))}
    if len(codes) == 1:
        value_name = np.zeros(len(names), dtype=np.int64)
    else:
        value_name = np.fromiter(map(codes.__getitem__, names), dtype=np.int64, count=len(names))
    resolver = yaml_safety.NumericResolver()
    if any(resolver.resolve(ScalarNode, n.decode(), (True, False)) != _STR_TAG for n in codes):
        return None  # a name like `true` or `null` means something else to YAML
    if _has_repeated_names(value_point, value_name):
        return None  # YAML keeps the last of a repeated key; leave that subtlety to the loader
    errors: list[tuple[int, int, str]] = []
    step_array = _int64_column(steps, "step", 1, errors)
    epoch_array = _int64_column(epochs, "epoch", 2, errors)
    stamp_array, stamp_error = parse_timestamps(stamps)
    if stamp_error is not None:
        point, message = stamp_error
        errors.append((point, 3, f"point {point}: {message}"))
    if errors:
        raise MetricFileError(min(errors)[2])
    return _Columns(
        steps=step_array,
        epochs=epoch_array,
        timestamps=stamp_array,
        value_point=value_point,
        value_name=value_name,
        values=_float_column(numbers),
        names=[n.decode("ascii") for n in codes],
    )


def _has_repeated_names(value_point: np.ndarray, value_name: np.ndarray) -> bool:
    order = np.argsort(value_name, kind="stable")
    same_name = np.diff(value_name[order]) == 0
    return bool(np.any(same_name & (np.diff(value_point[order]) == 0)))


def _int64_column(texts: list[bytes], field: str, rank: int, errors: list[tuple[int, int, str]]) -> np.ndarray:
    """Integer texts (epochs may be `null`) as int64; a value out of range is reported as the loader would."""
    nulls = np.array([text == b"null" for text in texts], dtype=bool)
    try:
        array = np.array([b"0" if null else text for null, text in zip(nulls, texts, strict=True)]).astype(np.int64)
        if np.any(array == NO_EPOCH):
            raise OverflowError
    except OverflowError:
        for point, text in enumerate(texts):
            try:
                _checked_int(None if text == b"null" else int(text), field, point, allow_none=field == "epoch")
            except MetricFileError as exc:
                errors.append((point, rank, str(exc)))
                break
        return np.zeros(len(texts), dtype=np.int64)
    array[nulls] = NO_EPOCH
    return array


def _float_column(numbers: list[bytes]) -> np.ndarray:
    """Floats as YAML reads them: `.inf`/`.nan` spelled the YAML way, and `-0` an integer (so +0.0)."""
    try:
        values = np.array(list(map(float, numbers)), dtype=np.float64)
    except ValueError:
        values = np.array([_SPECIAL[n] if n in _SPECIAL else float(n) for n in numbers], dtype=np.float64)
    negative_zero = np.flatnonzero((values == 0) & np.signbit(values))
    for index in negative_zero:
        if b"." not in numbers[index]:
            values[index] = 0.0
    return values


# --- any other YAML ------------------------------------------------------------------------------------


def _columns_from_points(items: Iterable[Any]) -> _Columns:
    """Validate points one by one as they come (the order `_canonical_columns` reports in), packing
    them at once: 8 bytes per number, whatever Python objects the reader built for the point."""
    codes: dict[str, int] = {}
    steps, epochs, value_point, value_name = array("q"), array("q"), array("q"), array("q")
    stamps, values = array("d"), array("d")
    for point, item in enumerate(items):
        if not isinstance(item, dict):
            kind = yaml_stream.kind_of(item)
            raise MetricFileError(f"point {point}: must be a mapping with `value` and `sequence`, not {kind}")
        value, sequence = item.get("value"), item.get("sequence")
        if not isinstance(value, dict):
            raise MetricFileError(f"point {point}: `value` must be a mapping of metric names to numbers")
        if not isinstance(sequence, dict):
            raise MetricFileError(f"point {point}: `sequence` must be a mapping with `step`, `epoch`, `timestamp`")
        for name, number in value.items():
            if not isinstance(name, str) or not name:
                raise MetricFileError(f"point {point}: metric name {name!r} is not text")
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise MetricFileError(f"point {point}: {name} is not a number: {_short(number)}")
            try:
                values.append(float(number))
            except OverflowError:
                raise MetricFileError(f"point {point}: {name} is too large for a 64-bit float") from None
            value_point.append(point)
            value_name.append(codes.setdefault(name, len(codes)))
        steps.append(cast(int, _checked_int(sequence.get("step"), "step", point, allow_none=False)))
        epoch = _checked_int(sequence.get("epoch"), "epoch", point, allow_none=True)
        epochs.append(NO_EPOCH if epoch is None else epoch)
        try:
            stamps.append(parse_timestamp(sequence.get("timestamp")))
        except ValueError as exc:
            raise MetricFileError(f"point {point}: {exc}") from None
    return _Columns(
        steps=np.frombuffer(steps, dtype=np.int64),
        epochs=np.frombuffer(epochs, dtype=np.int64),
        timestamps=np.frombuffer(stamps, dtype=np.float64),
        value_point=np.frombuffer(value_point, dtype=np.int64),
        value_name=np.frombuffer(value_name, dtype=np.int64),
        values=np.frombuffer(values, dtype=np.float64),
        names=list(codes),
    )


def _checked_int(value: Any, field: str, point: int, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MetricFileError(f"point {point}: `sequence.{field}` must be an integer, not {_short(value)}")
    if not NO_EPOCH < value < 2**63:
        raise MetricFileError(f"point {point}: `sequence.{field}` {value} is out of the 64-bit range")
    return value


def _short(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- shared by both paths ------------------------------------------------------------------------------


def _split(columns: _Columns) -> dict[str, Points]:
    """One `Points` per name, after the check both paths share (how many names)."""
    if len(columns.names) > MAX_NAMES_PER_FILE:
        raise MetricFileError(f"{len(columns.names):,} metric names; at most {MAX_NAMES_PER_FILE:,} per file")
    order = np.argsort(columns.value_name, kind="stable")
    bounds = np.cumsum(np.bincount(columns.value_name, minlength=len(columns.names)))
    result: dict[str, Points] = {}
    start = 0
    for code, name in enumerate(columns.names):
        end = int(bounds[code])
        lines = order[start:end]
        points = columns.value_point[lines]
        result[name] = Points(
            steps=columns.steps[points],
            epochs=columns.epochs[points],
            timestamps=columns.timestamps[points],
            values=columns.values[lines],
        )
        start = end
    return result
