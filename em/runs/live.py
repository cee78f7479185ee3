"""Live logging: batches of metric points sent by a training run while it is Running.

What arrives is checked whole before anything is written — the arrays of a key have the same length,
steps and epochs are whole numbers, values numbers (NaN and ±infinity are data), timestamps seconds
within years 1970-9999 — and a bad item is named by key and index, so the SDK can say exactly which
`run.log` call was wrong. Then every series of the batch is appended in one transaction (created on
first use), with the run row locked so that two clients logging to the same run append one after the
other; a batch costs the same few statements however many keys it holds.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from django.db import connection, transaction
from django.db.models import Field

from em import errors
from em.access import Access
from em.models import Run, RunStatus
from em.prepared import planned_cursor, spelt, spelt_once
from em.runs import metrics
from em.runs.metrics import Points
from em.runs.services import editable

MAX_POINTS_PER_CALL = 100_000
MAX_KEY_LENGTH = 500
NO_EPOCH = -(2**63)
# Seconds since 1970 up to the end of year 9999, the range a timestamp must be shown as a date. A value
# past it is almost always milliseconds (1.7e12) or nanoseconds, which the refusal says.
LATEST_TIMESTAMP = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_NUMBER_TYPES = frozenset({int, float})


def metric_key(raw: Any) -> str:
    """`<stage>.<name>` with the stage normalised (`training.loss` → `train.loss`)."""
    if not isinstance(raw, str) or "." not in raw:
        raise errors.InvalidInput(f"A metric key reads `<stage>.<name>`, like `train.loss` (got {raw!r}).")
    stage, name = raw.split(".", 1)
    if not stage or not name:
        raise errors.InvalidInput(f"A metric key reads `<stage>.<name>`, like `train.loss` (got {raw!r}).")
    key = f"{metrics.normalise_stage(stage)}.{name}"
    if len(key) > MAX_KEY_LENGTH:
        raise errors.InvalidInput(f"A metric key has at most {MAX_KEY_LENGTH} characters.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in key):
        raise errors.InvalidInput(f"A metric key must not contain control characters ({raw!r}).")
    return key


def _bad(key: str, field: str, index: int, why: str) -> errors.InvalidInput:
    return errors.InvalidInput(f"{key}: {field}[{index}] {why}.", detail={"key": key, "field": field, "index": index})


def _first_of_wrong_type(items: list[Any], allowed: frozenset[type]) -> int:
    return next(i for i, item in enumerate(items) if type(item) not in allowed)


def _integers(key: str, field: str, items: list[Any], *, nullable: bool = False) -> np.ndarray:
    """Whole numbers as int64 (None → NO_EPOCH where `nullable`); bools and floats are refused."""
    allowed = frozenset({int, type(None)}) if nullable else frozenset({int})
    types = set(map(type, items))
    if not types <= allowed:
        index = _first_of_wrong_type(items, allowed)
        item = items[index]
        # A whole number past 64 bits arrives as a float from the API's parser (orjson).
        huge = isinstance(item, float) and item.is_integer() and abs(item) >= 2**63
        raise _bad(key, field, index, "is out of the 64-bit range" if huge else "is not a whole number")
    if types == {type(None)}:  # no epochs at all, as most live batches send them
        return np.full(len(items), NO_EPOCH, dtype=np.int64)
    if nullable:
        items = [NO_EPOCH if item is None else item for item in items]
    try:
        array = np.array(items, dtype=np.int64)
    except OverflowError:
        index = next(i for i, item in enumerate(items) if not NO_EPOCH <= item < 2**63)
        raise _bad(key, field, index, "is out of the 64-bit range") from None
    return array


def _floats(key: str, field: str, items: list[Any]) -> np.ndarray:
    """Numbers as float64. NaN and ±infinity are data (a diverged loss is worth seeing): they are stored,
    kept out of min and max, and read back as null (em.runs.metrics)."""
    if not set(map(type, items)) <= _NUMBER_TYPES:
        raise _bad(key, field, _first_of_wrong_type(items, _NUMBER_TYPES), "is not a number")
    try:
        array = np.array(items, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        index = next(i for i, item in enumerate(items) if abs(item) > np.finfo(np.float64).max)
        raise _bad(key, field, index, "is out of range") from None
    return array


def _timestamps(key: str, items: list[Any]) -> np.ndarray:
    """Seconds since the epoch, 1970 to 9999; ISO 8601 strings are accepted too (what bundles hold)."""
    seconds = (
        items if set(map(type, items)) <= _NUMBER_TYPES else [_seconds(key, i, item) for i, item in enumerate(items)]
    )
    array = _floats(key, "timestamp", seconds)
    outside = (array < 0) | (array > LATEST_TIMESTAMP)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        why = f"is {array[index]:g} s, outside 1970-9999; timestamps are seconds since 1970"
        raise _bad(key, "timestamp", index, f"{why} (milliseconds? divide by 1000)")
    return array


def _seconds(key: str, index: int, item: Any) -> Any:
    """An ISO 8601 time as seconds since 1970 (naive means UTC); anything else as it is, for `_floats`."""
    if not isinstance(item, str):
        return item
    try:
        moment = datetime.fromisoformat(item)
    except ValueError:
        raise _bad(key, "timestamp", index, "is neither seconds since 1970 nor an ISO 8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _points(key: str, body: Any, now: float) -> Points:
    if not isinstance(body, dict):
        raise errors.InvalidInput(
            f"{key}: give an object of arrays `step`, `value`, and optionally `epoch`, `timestamp`."
        )
    unknown = set(body) - {"step", "epoch", "timestamp", "value"}
    if unknown:
        raise errors.InvalidInput(f"{key}: unknown field(s) {', '.join(sorted(unknown))}.")
    arrays: dict[str, list[Any] | None] = {}
    for field in ("step", "value", "epoch", "timestamp"):
        items = body.get(field)
        if items is None and field in {"epoch", "timestamp"}:
            arrays[field] = None
        elif not isinstance(items, list):
            raise errors.InvalidInput(f"{key}: `{field}` must be an array.")
        else:
            arrays[field] = items
    values = arrays["value"] or []
    if not values:
        raise errors.InvalidInput(f"{key}: send at least one point.")
    for field, items in arrays.items():
        if items is not None and len(items) != len(values):
            raise errors.InvalidInput(
                f"{key}: `{field}` has {len(items)} items but `value` has {len(values)}; they must match.",
                detail={"key": key, "field": field},
            )
    epochs, stamps = arrays["epoch"], arrays["timestamp"]
    return Points(
        steps=_integers(key, "step", arrays["step"] or []),
        epochs=np.full(len(values), NO_EPOCH, dtype=np.int64)
        if epochs is None
        else _integers(key, "epoch", epochs, nullable=True),
        timestamps=np.full(len(values), now, dtype=np.float64) if stamps is None else _timestamps(key, stamps),
        values=_floats(key, "value", values),
    )


def parse_batch(payload: Any, *, now: float) -> dict[str, Points]:
    """`{"metrics": {key: {step, value, epoch?, timestamp?}}}` checked whole, as Points per normalised key."""
    batch = payload.get("metrics") if isinstance(payload, dict) else None
    if not isinstance(batch, dict) or not batch:
        raise errors.InvalidInput('Send `{"metrics": {"train.loss": {"step": [...], "value": [...]}}}`.')
    parsed: dict[str, Points] = {}
    total = 0
    for raw_key, body in batch.items():
        key = metric_key(raw_key)
        if key in parsed:
            raise errors.InvalidInput(f"{raw_key!r} and another key both name {key!r}; send it once.")
        values = body.get("value") if isinstance(body, dict) else None
        total += len(values) if isinstance(values, list) else 0
        if total > MAX_POINTS_PER_CALL:
            raise errors.InvalidInput(f"Send at most {MAX_POINTS_PER_CALL} points in one call; split the batch.")
        parsed[key] = _points(key, body, now)
    return parsed


def append_batch(*, run: Run | Access, batch: dict[str, Points], by: Any) -> int:
    """Append each key's points to its series (made on first use); returns how many points were stored."""
    run = editable(run, by)
    with transaction.atomic():
        status = _locked_status(run.pk)
        if status != RunStatus.RUNNING:
            raise errors.Conflict(
                f"Metrics are logged live only to a Running run; this one is {status}.", detail={"status": status}
            )
        existing = metrics.series_of(run.pk, list(batch))
        metrics.append_all([(series, batch[key]) for key, series in existing.items()])
        metrics.add_series(run, {key: points for key, points in batch.items() if key not in existing})
    return sum(len(points.values) for points in batch.values())


def _locked_status(run_id: Any) -> str:
    """The run's status, its row locked until the transaction ends (two clients logging to one run append
    one after the other). Only the status is read: the run's JSON columns (hyper-parameters, platform,
    git) stay unparsed. Spelt once (`spelt_once`): the ORM built it anew on every batch (0.1 ms)."""

    key = cast("Field[Any, Any]", Run._meta.pk)

    def build() -> str:
        sentinel = uuid.uuid4()
        sql = spelt(
            Run.objects.filter(pk=sentinel).values_list("status"), [key.get_db_prep_value(sentinel, connection)]
        )
        # SQLite has no row locks: its IMMEDIATE transaction already holds the database's write lock.
        return f"{sql} FOR UPDATE" if connection.features.has_select_for_update else sql

    with planned_cursor() as cursor:
        cursor.execute(spelt_once(("live run status",), build), [key.get_db_prep_value(run_id, connection)])
        row = cursor.fetchone()
    if row is None:  # deleted for good since the view read it
        raise errors.NotFound("Run not found.")
    return str(row[0])
