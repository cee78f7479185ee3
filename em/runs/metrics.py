"""Columnar metric storage: a series is chunks of packed arrays plus a summary row for search.

Points are never rows. A `MetricChunk` holds up to `CHUNK_SIZE` consecutive points as four little-endian
arrays (int64 steps, int64 epochs with `NO_EPOCH` for none, float64 timestamps in seconds, float64
values); `MetricSeries` keeps count, min, max and the latest point, updated by every write.

"Latest" is the value of the point with the greatest step; among points with that step, the one written
last. A run that restarts its step counter therefore keeps its furthest point as the latest.

NaN and ±infinity are data (a diverged loss is worth seeing): they are stored in the arrays like any
value, but kept out of the summary's min and max, and a non-finite latest point makes `latest` null
(its step is still `latest_step`), so search never finds a diverged run by a value it never had. In a
`History` they are null, which is valid JSON and which the portal's charts draw as gaps.

Each chunk also keeps an overview of its points in sub-buckets (em/runs/overview.py), rebuilt whenever
the chunk is written.

`read` answers with at most `max_points` points whatever the series' length: when there are too many
points it splits the x range into `max_points` equal buckets and gives per non-empty bucket the mean
value, the min/max band, and the x, epoch and time of its middle point — except that the first bucket
shows the series' very first point and the last bucket its very last one, with their own values, so a
chart starts and ends where the run did. Means and bands leave non-finite values out (a bucket of
nothing else is null). A long series with coarse buckets is answered from one level of the overviews
and their headers alone (18% of the arrays' bytes or much less, as `max_points` allows; the headers
hold the end points); otherwise the chunks' points are loaded in one query and bucketed.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

import numpy as np
from django.db import connection, transaction
from django.db.models import BinaryField, Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When

from em import errors
from em.models import MetricChunk, MetricSeries, Run
from em.prepared import Prepared, planned_cursor, spelt_once

from . import chunk_io, overview

CHUNK_SIZE = 10_000
NO_EPOCH = -(2**63)
X_AXES = ("step", "timestamp")
_STAGES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "validation": "val",
    "eval": "val",
    "evaluation": "val",
    "test": "test",
    "testing": "test",
}


def normalise_stage(stage: str) -> str:
    """`training`→`train`, `validation`/`eval`→`val`, `testing`→`test` (any case); others as written."""
    stage = stage.strip()
    return _STAGES.get(stage.lower(), stage)


@dataclass
class Points:
    """Parallel arrays of points in the order they were written."""

    steps: np.ndarray
    epochs: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.steps = np.ascontiguousarray(self.steps, dtype=np.int64)
        self.epochs = np.ascontiguousarray(self.epochs, dtype=np.int64)
        self.timestamps = np.ascontiguousarray(self.timestamps, dtype=np.float64)
        self.values = np.ascontiguousarray(self.values, dtype=np.float64)
        if not len(self.steps) == len(self.epochs) == len(self.timestamps) == len(self.values):
            raise errors.InvalidInput("steps, epochs, timestamps and values must be equally long.")

    def __len__(self) -> int:
        return len(self.steps)

    def slice(self, start: int, stop: int) -> Points:
        return Points(
            self.steps[start:stop], self.epochs[start:stop], self.timestamps[start:stop], self.values[start:stop]
        )

    @staticmethod
    def concat(parts: list[Points]) -> Points:
        if not parts:
            return Points(np.empty(0), np.empty(0), np.empty(0), np.empty(0))
        return Points(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("steps", "epochs", "timestamps", "values")
_POINT_FIELDS = ("step", "epoch", "timestamp", "value")  # overview.POINT's fields, in _FIELDS order
_SUMMARY_FIELDS = ("count", "min", "max", "latest", "latest_step", "latest_timestamp")
_DTYPES = {"steps": "<i8", "epochs": "<i8", "timestamps": "<f8", "values": "<f8"}


class History(TypedDict):
    key: str
    count: int
    downsampled: bool
    step: list[int]
    epoch: list[int | None]
    timestamp: list[float | None]
    value: list[float | None]
    min: list[float | None] | None
    max: list[float | None] | None


# --- writing -------------------------------------------------------------------------------------------


def append(series: MetricSeries, points: Points) -> None:
    """Add `points` after the series' last point: fill the last chunk, then start new ones."""
    append_all([(series, points)])


def append_all(pairs: Sequence[tuple[MetricSeries, Points]]) -> None:
    """Add each `points` after its series' last point (each series named once): fill the last chunk, then
    start new ones.

    The series rows are locked for the write (in id order), so concurrent appends to one series queue up
    in order. However many series: one query locks them, one reads their last chunks (the points only of
    those with room), one inserts the new chunks, one updates the chunks that had room and one the
    summaries (the writes as `executemany`, a pipeline of statements on PostgreSQL).
    """
    pairs = [(series, points) for series, points in pairs if len(points)]
    if not pairs:
        return
    with transaction.atomic(savepoint=False):  # all or nothing within the caller's transaction anyway
        ids = [series.pk for series, _ in pairs]
        locked = {row.pk: row for row in MetricSeries.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        lasts = {row[1]: row for row in chunk_io.rows(_last_chunks(ids))}
        made: list[MetricChunk] = []
        filled: list[MetricChunk] = []
        for series, points in pairs:
            row = locked[series.pk]
            batch = _summary(points)
            next_seq = 0
            if row.pk in lasts:
                pk, _, seq, count, *arrays = lasts[row.pk]
                next_seq = seq + 1
                room = CHUNK_SIZE - count
                if room > 0:
                    last = MetricChunk(pk=pk, series=row, seq=seq)
                    _fill(last, Points.concat([_unpack_row(arrays), points.slice(0, room)]))
                    filled.append(last)
                    points = points.slice(room, len(points))
            made += _chunks(row, points, next_seq)
            _fold(row, batch)
            for field in _SUMMARY_FIELDS:
                setattr(series, field, getattr(row, field))
        chunk_io.update(filled)
        chunk_io.insert(made)
        _save_summaries(list(locked.values()))


def _save_summaries(rows: list[MetricSeries]) -> None:
    """One UPDATE of the summary, run for each series (`executemany`: one pipeline on PostgreSQL).
    `bulk_update` would spell one CASE per field, whose expressions take ~2 ms to build for one series."""
    fields = [field for field in MetricSeries._meta.concrete_fields if field.name in _SUMMARY_FIELDS]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
    table, pk = quote(MetricSeries._meta.db_table), quote(str(MetricSeries._meta.pk.column))  # type: ignore[union-attr]
    sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 - our own names
    params = [
        [*(field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields), row.pk] for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _last_chunks(ids: list[int]) -> QuerySet[MetricChunk, tuple[Any, ...]]:
    """Per series: its last chunk's id, series id, seq and count, and its four arrays if it has room
    (null otherwise: a full chunk's 320 KB would be read for nothing)."""
    last_seq = MetricChunk.objects.filter(series_id=OuterRef("series_id")).order_by("-seq").values("seq")[:1]
    room = Q(count__lt=CHUNK_SIZE)
    arrays = [Case(When(room, then=F(f)), default=Value(None), output_field=BinaryField()) for f in _FIELDS]
    chunks = MetricChunk.objects.filter(series_id__in=ids, seq=Subquery(last_seq))
    return chunks.values_list("pk", "series_id", "seq", "count", *arrays)


def add_series(run: Run, series: dict[str, Points]) -> dict[str, MetricSeries]:
    """New series of `run` holding `points` (keys the run does not have yet): one statement for them all
    on PostgreSQL (`chunk_io.insert_series`), two INSERTs elsewhere."""
    if not series:
        return {}
    summaries = {key: _summary(points) for key, points in series.items()}
    chunks = [(key, seq, *_packed(part)) for key, points in series.items() for seq, part in _pieces(points, 0)]
    if connection.vendor == "postgresql":
        ids = chunk_io.insert_series(
            run.pk, [(key, *(summary[name] for name in chunk_io.SUMMARY)) for key, summary in summaries.items()], chunks
        )
        made = {key: MetricSeries(pk=ids[key], run=run, key=key, **summary) for key, summary in summaries.items()}
        for row in made.values():
            row._state.adding, row._state.db = False, connection.alias
        return made
    rows = [MetricSeries(run=run, key=key, **summary) for key, summary in summaries.items()]
    made = {row.key: row for row in MetricSeries.objects.bulk_create(rows)}
    chunk_io.insert([_chunk(made[key], seq, packed) for key, seq, *packed in chunks])
    return made


def _fold(series: MetricSeries, batch: dict[str, Any]) -> None:
    """Merge the summary of a newly written batch into the series' summary."""
    if not series.count:
        for field, value in batch.items():
            setattr(series, field, value)
        return
    series.count += batch["count"]
    series.min = min((v for v in (series.min, batch["min"]) if v is not None), default=None)
    series.max = max((v for v in (series.max, batch["max"]) if v is not None), default=None)
    if series.latest_step is None or batch["latest_step"] >= series.latest_step:
        series.latest = batch["latest"]
        series.latest_step = batch["latest_step"]
        series.latest_timestamp = batch["latest_timestamp"]


def replace(run: Run, key: str, points: Points) -> MetricSeries:
    """The series `key` of `run` becomes exactly `points` (a new series row and chunks)."""
    return replace_all(run, {key: points}, only=[key])[key]


def replace_all(run: Run, series: dict[str, Points], *, only: list[str] | None = None) -> dict[str, MetricSeries]:
    """Replace the run's series with `series` in a few bulk statements (indexing): every other series of
    the run is deleted too, unless `only` limits the replacement to those keys."""
    with transaction.atomic():
        existing = MetricSeries.objects.filter(run=run)
        if only is not None:
            existing = existing.filter(key__in=only)
        MetricChunk.objects.filter(series__in=existing).delete()
        existing.delete()
        return add_series(run, series)


def compact(series: MetricSeries) -> int:
    """Rewrite the chunks from the first under-full one that is not the last into full chunks.

    Returns how many chunks were rewritten; 0 when every chunk but the last is full, so running it
    again (or on a healthy series) changes nothing.
    """
    with transaction.atomic():
        locked = MetricSeries.objects.select_for_update().get(pk=series.pk)
        counts = list(MetricChunk.objects.filter(series=locked).order_by("seq").values_list("seq", "count"))
        small = [i for i, (_, count) in enumerate(counts[:-1]) if count < CHUNK_SIZE]
        if not small:
            return 0
        first_seq = counts[small[0]][0]
        tail = MetricChunk.objects.filter(series=locked, seq__gte=first_seq).order_by("seq")
        points = Points.concat([_unpack(chunk) for chunk in tail])
        rewritten = len(counts) - small[0]
        MetricChunk.objects.filter(series=locked, seq__gte=first_seq).delete()
        chunk_io.insert(_chunks(locked, points, first_seq))
    return rewritten


def series_to_compact() -> list[int]:
    """Ids of series holding an under-full chunk that is not their last (what `compact` would fix)."""
    later = MetricChunk.objects.filter(series=OuterRef("series"), seq__gt=OuterRef("seq"))
    small = MetricChunk.objects.filter(count__lt=CHUNK_SIZE).filter(Exists(later))
    return sorted(set(small.values_list("series_id", flat=True)))


# --- reading -------------------------------------------------------------------------------------------


@dataclass
class Sampled:
    """A read of a series as arrays, before it is spelt for the wire (`as_history` for JSON,
    `em.runs.history_wire` for the compact form). `points.values` are the bucket means when
    `downsampled`, with the bucket's band in `lows` / `highs`."""

    key: str
    count: int
    downsampled: bool
    points: Points
    lows: np.ndarray | None = None
    highs: np.ndarray | None = None


_SERIES_NAMED: Prepared[MetricSeries] = Prepared(
    lambda run_id, key: MetricSeries.objects.filter(run_id=run_id, key=key)[:1],
    (MetricSeries._meta.get_field("run"), uuid.uuid4()),
    (MetricSeries._meta.get_field("key"), "sentinel:" + uuid.uuid4().hex),
)


def series_of(run_id: Any, keys: list[str]) -> dict[str, MetricSeries]:
    """The run's series among `keys`, by key. On PostgreSQL one statement spelt once (`spelt_once`),
    `= ANY` of an array whatever the number of keys, its rows as they come (no column needs converting):
    the ORM built its query anew on every live batch (0.15 ms). Elsewhere through the ORM."""
    if connection.vendor != "postgresql":
        return {series.key: series for series in MetricSeries.objects.filter(run_id=run_id, key__in=keys)}
    fields = MetricSeries._meta.concrete_fields
    with planned_cursor() as cursor:
        cursor.execute(spelt_once(("series of",), _spell_series_of), [run_id, keys])
        rows = cursor.fetchall()
    names = [field.attname for field in fields]
    made = [MetricSeries.from_db(connection.alias, names, row) for row in rows]
    return {series.key: series for series in made}


def _spell_series_of() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in MetricSeries._meta.concrete_fields)
    by_name = {field.attname: field for field in MetricSeries._meta.concrete_fields}
    run, key = (quote(str(by_name[name].column)) for name in ("run_id", "key"))
    return f"SELECT {columns} FROM {quote(MetricSeries._meta.db_table)} WHERE {run} = %s AND {key} = ANY(%s)"  # noqa: S608 - our own names


def series_named(run_id: Any, key: str) -> MetricSeries | None:
    """The series `key` of a run (its key normalised), or `None`. Compiled once (`em.prepared`): the ORM
    compiling it anew took 0.3 ms, a tenth of a sampled read of 100,000 points."""
    return _SERIES_NAMED.first(run_id, key)


def read(series: MetricSeries, *, max_points: int | None = None, x: str = "step") -> History:
    """The series in x order as JSON-ready lists; with more than `max_points` points, downsampled."""
    return as_history(read_arrays(series, max_points=max_points, x=x))


def read_arrays(series: MetricSeries, *, max_points: int | None = None, x: str = "step") -> Sampled:
    """The series in x order; with more than `max_points` points, downsampled (see the module doc).

    One query whatever the number of chunks; two when the overviews were tried and could not serve.
    """
    if x not in X_AXES:
        raise errors.InvalidInput(f"x must be one of {', '.join(X_AXES)}, not {x!r}.")
    if max_points is not None and max_points < 1:
        raise errors.InvalidInput("max_points must be at least 1.")
    if max_points is not None:
        coarse = _from_overviews(series, max_points, x)
        if coarse is not None:
            return coarse
    chunks = MetricChunk.objects.filter(series_id=series.pk).order_by("seq")
    points = Points.concat([_unpack_row(row) for row in chunk_io.rows(chunks.values_list(*_FIELDS))])
    axis = points.steps if x == "step" else points.timestamps
    if x == "timestamp":
        known = ~np.isnan(axis)
        if not known.all():
            points = Points(*(getattr(points, f)[known] for f in _FIELDS))
            axis = points.timestamps
    if len(axis) > 1 and np.any(axis[1:] < axis[:-1]):
        order = np.argsort(axis, kind="stable")
        points = Points(*(getattr(points, f)[order] for f in _FIELDS))
        axis = axis[order]
    if max_points is None or len(points) <= max_points:
        return Sampled(series.key, int(series.count), False, points)
    starts = overview.bucket_starts(axis, float(axis[-1]), max_points)
    sizes = np.diff(np.append(starts, len(points)))
    middle = starts + sizes // 2
    picked = Points(*(getattr(points, f)[middle] for f in _FIELDS))
    finite = np.isfinite(points.values)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.add.reduceat(np.where(finite, points.values, 0.0), starts) / counts  # NaN where none
    lows = np.minimum.reduceat(np.where(finite, points.values, np.inf), starts)
    highs = np.maximum.reduceat(np.where(finite, points.values, -np.inf), starts)
    lows[counts == 0] = highs[counts == 0] = np.nan
    _keep_ends(picked, means, points.slice(0, 1), points.slice(len(points) - 1, len(points)))
    picked.values = means
    return Sampled(series.key, int(series.count), True, picked, lows, highs)


def _from_overviews(series: MetricSeries, max_points: int, x: str) -> Sampled | None:
    """The downsampled history from one level of the chunks' overviews alone, or `None` when none can
    give it (too few sub-buckets for `max_points`, an overview of an older layout, or sub-buckets out of
    x order)."""
    level = overview.level_for(series.count, max_points, CHUNK_SIZE)
    if level is None:
        return None
    rows = chunk_io.overview_slices(series.pk, [(0, overview.HEADER_BYTES), (level.start, level.length)])
    if not rows or not all(overview.current(row[0]) for row in rows):
        return None
    merged = overview.merge(rows, level, x, max_points)
    if merged is None:
        return None
    first, last = overview.end_points(rows[0][0], rows[-1][0], x)
    picked = Points(merged.steps, merged.epochs, merged.timestamps, merged.means)
    means = merged.means.copy()
    _keep_ends(picked, means, *(Points(*(end[f] for f in _POINT_FIELDS)) for end in (first, last)))
    picked.values = means
    return Sampled(series.key, int(series.count), True, picked, merged.lows, merged.highs)


def _keep_ends(picked: Points, values: np.ndarray, first: Points, last: Points) -> None:
    """Make the first and last bucket show the series' first and last point, with their own values."""
    for at, end in ((0, first), (len(picked) - 1, last)):
        for f in _FIELDS:
            getattr(picked, f)[at] = getattr(end, f)[0]
        values[at] = end.values[0]


def _unpack_row(row: Sequence[Any]) -> Points:
    return Points(*(np.frombuffer(row[i], dtype=_DTYPES[f]) for i, f in enumerate(_FIELDS)))


def as_history(read: Sampled) -> History:
    """A read spelt as JSON-ready lists: unknown epochs and times, and non-finite values, are null."""
    points = read.points
    epochs: list[int | None] = [None if e == NO_EPOCH else e for e in points.epochs.tolist()]
    stamps: list[float | None] = [None if math.isnan(t) else t for t in points.timestamps.tolist()]
    return History(
        key=read.key,
        count=read.count,
        downsampled=read.downsampled,
        step=points.steps.tolist(),
        epoch=epochs,
        timestamp=stamps,
        value=_json_numbers(points.values),
        min=None if read.lows is None else _json_numbers(read.lows),
        max=None if read.highs is None else _json_numbers(read.highs),
    )


def _json_numbers(values: np.ndarray) -> list[float | None]:
    """Floats for JSON: NaN and ±infinity (which JSON cannot spell) become null."""
    numbers: list[float | None] = values.tolist()
    if not np.isfinite(values).all():
        for at in np.flatnonzero(~np.isfinite(values)).tolist():
            numbers[at] = None
    return numbers


# --- packing -------------------------------------------------------------------------------------------


def _summary(points: Points) -> dict[str, Any]:
    if not len(points):
        return {"count": 0, "min": None, "max": None, "latest": None, "latest_step": None, "latest_timestamp": None}
    last = len(points) - 1 - int(np.argmax(points.steps[::-1]))  # greatest step, the last written on a tie
    stamp = float(points.timestamps[last])
    finite = points.values[np.isfinite(points.values)]
    latest = float(points.values[last])
    return {
        "count": len(points),
        "min": float(finite.min()) if len(finite) else None,
        "max": float(finite.max()) if len(finite) else None,
        "latest": latest if math.isfinite(latest) else None,
        "latest_step": int(points.steps[last]),
        "latest_timestamp": None if math.isnan(stamp) else datetime.fromtimestamp(stamp, UTC),
    }


def _packed(points: Points) -> tuple[Any, ...]:
    """What a chunk of `points` stores (`chunk_io.WRITTEN`): count, step range, arrays and overview."""
    arrays = (getattr(points, field).astype(_DTYPES[field], copy=False).tobytes() for field in _FIELDS)
    return (
        len(points),
        int(points.steps.min()),
        int(points.steps.max()),
        *arrays,
        overview.build(points.steps, points.epochs, points.timestamps, points.values),
    )


def _fill(chunk: MetricChunk, points: Points) -> None:
    for name, value in zip(chunk_io.WRITTEN, _packed(points), strict=True):
        setattr(chunk, name, value)


def _pieces(points: Points, first_seq: int) -> list[tuple[int, Points]]:
    """`points` cut into chunks of `CHUNK_SIZE`, each with its seq."""
    return [
        (first_seq + number, points.slice(start, start + CHUNK_SIZE))
        for number, start in enumerate(range(0, len(points), CHUNK_SIZE))
    ]


def _chunks(series: MetricSeries, points: Points, first_seq: int) -> list[MetricChunk]:
    """`points` cut into chunks of `CHUNK_SIZE`; `first_step`/`last_step` are each chunk's step range."""
    return [_chunk(series, seq, _packed(part)) for seq, part in _pieces(points, first_seq)]


def _chunk(series: MetricSeries, seq: int, packed: Sequence[Any]) -> MetricChunk:
    """The chunk `seq` of `series`, holding what `_packed` gave for its points."""
    return MetricChunk(series=series, seq=seq, **dict(zip(chunk_io.WRITTEN, packed, strict=True)))


def _unpack(chunk: MetricChunk) -> Points:
    return Points(*(np.frombuffer(getattr(chunk, f), dtype=_DTYPES[f]) for f in _FIELDS))
