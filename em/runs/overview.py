"""Chunk overviews: a coarse history of a long series without reading its points.

Every chunk also stores summaries of consecutive runs of its points in step order, its sub-buckets: for
each, the count, min, max and sum of the values, and where it lies. They come in `LEVELS`, coarse first,
each but the last padded to its full size so it can be read alone (a slice of the column: on
PostgreSQL, stored uncompressed, only the bytes asked for are fetched). A read takes the coarsest level
with enough sub-buckets, so the bytes read follow `max_points`, not the series' length: 100,000 points
downsampled to 1,000 read the finest level of 10 chunks (0.6 MB, against 3.2 MB of arrays), a million
points the middle level of 100 (1.1 MB against 32 MB), ten million the coarse level of 1,000 (1.4 MB).

A sub-bucket of the coarser levels (`DTYPE`) keeps its step and time range and its middle point. The
finest level (`FINE`) is what a chart of a typical long run needs (1,000 buckets of 100,000 points take
8,000 sub-buckets of ~10 points), so it is kept small, 57 KB a chunk beside 320 KB of arrays: a
sub-bucket keeps only its first point, whose step and time are its least, and which stands for it
where the coarser levels name the middle point (a bucket's point is then up to half a sub-bucket, a
sixteenth of the bucket, before the middle). Its step ranges never touch by construction; the header
says whether its time ranges do not either (`_fine`), and the ends in the headers order the chunks.
Reading 56 bytes a sub-bucket instead of 88 keeps each chunk's slice under 64 KB, which PostgreSQL and
psycopg answer in 0.8 ms rather than 1.4 ms for ten chunks.

Before the levels comes a header (`HEADER_BYTES`): `MAGIC`, which names this layout, the chunk's end
points in x order, the first and last by step and by time (on a tie, the first and the last written, as
the exact read's stable sort orders them), and whether the finest level is in time order. The first and
last buckets of a downsampled history show the series' own end points, and the header spares reading
the end chunks' arrays for them. A chunk whose overview does not start with `MAGIC` (written in an
older layout, before its migration ran) is never read as this one: the caller reads the points instead.

A chunk of one point stores the header alone (144 bytes): its point is each of the four ends, and the
one sub-bucket of every level, which a read builds from the header (`records`). Padded, its levels took
12.9 KB of zeros: the overview of every series a live run's first batch makes (five a run, one point
each, when runs report their final metrics), which PostgreSQL moved out of line into its TOAST table:
64 KB a run written, and about a sixth of the database's CPU time spent creating one (3.2 ms -> 2.7).

A bucket of the downsampled history is a run of whole sub-buckets: a sub-bucket goes to the bucket in
which its first point falls, as a point does in the exact read. So min and max stay exact over the
bucket's points (never an estimate), the mean is count-weighted, and only the bucket edges move — by
at most one sub-bucket, which is why the overview serves only buckets spanning `COARSE` sub-buckets or
more on average. It serves only when the sub-buckets of the whole series are disjoint and in order on
the chart's x axis (`merge` checks; `None` sends the caller to the exact read): a step counter that
restarted, a step written twice across a chunk boundary, or timestamps unknown or shared between
sub-buckets (a live batch stamped at arrival) all need the points themselves. So does a series holding
NaN or ±infinity (its sub-bucket's sum is then not finite): means and bands must leave those values
out, which only the points allow.
"""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

import numpy as np

LEVELS = (16, 128, 1024)  # at most this many sub-buckets per chunk, per level
COARSE = 8  # sub-buckets per bucket, on average, below which only the points give good bucket edges
DTYPE = np.dtype(  # a sub-bucket of the coarser levels
    [
        ("first_step", "<i8"),
        ("last_step", "<i8"),
        ("first_time", "<f8"),  # the least timestamp; NaN when one is unknown
        ("last_time", "<f8"),  # the greatest timestamp; NaN when one is unknown
        ("count", "<i8"),
        ("min", "<f8"),
        ("max", "<f8"),
        ("sum", "<f8"),
        ("step", "<i8"),  # the middle point, as the exact read picks it per bucket
        ("epoch", "<i8"),
        ("timestamp", "<f8"),
    ]
)
FINE = np.dtype(  # a sub-bucket of the finest level: its first point (by step) and its values' summary
    [
        ("step", "<i8"),
        ("epoch", "<i8"),
        ("timestamp", "<f8"),
        ("count", "<i8"),
        ("min", "<f8"),
        ("max", "<f8"),
        ("sum", "<f8"),
    ]
)
# 8 bytes that no overview of the older layout starts with: read as its first record's first step, a
# step of about -1.09e12.
MAGIC = b"EMOV\x03\xff\xff\xff"
POINT = np.dtype([("step", "<i8"), ("epoch", "<i8"), ("timestamp", "<f8"), ("value", "<f8")])
ENDS = ("first_by_step", "last_by_step", "first_by_time", "last_by_time")  # the header's points, in order
_ENDS_AT = len(MAGIC)
_IN_TIME_AT = _ENDS_AT + len(ENDS) * POINT.itemsize  # 1 when the finest level is in time order, else 0
HEADER_BYTES = _IN_TIME_AT + 8


class Level(NamedTuple):
    """Where a level lies in the column (start byte, and length at most), and its records' type."""

    start: int
    length: int
    dtype: np.dtype


class Merged(NamedTuple):
    """Per bucket: its representative point's step, epoch and timestamp, and the mean, min and max."""

    steps: np.ndarray
    epochs: np.ndarray
    timestamps: np.ndarray
    means: np.ndarray
    lows: np.ndarray
    highs: np.ndarray


def build(steps: np.ndarray, epochs: np.ndarray, timestamps: np.ndarray, values: np.ndarray) -> bytes:
    """The packed overview of one chunk's points (given in the order they were written, at least one)."""
    if len(steps) == 1:
        return _one(int(steps[0]), int(epochs[0]), float(timestamps[0]), float(values[0]))
    return _many(steps, epochs, timestamps, values)


# One point's records, packed as `POINT`, `DTYPE` and `FINE` lay them out.
_POINT_RECORD = struct.Struct("<qqdd")
_COARSE_RECORD = struct.Struct("<qqddqdddqqd")
_FINE_RECORD = struct.Struct("<qqdqddd")


def _one(step: int, epoch: int, timestamp: float, value: float) -> bytes:
    """The overview of a chunk of one point (a new series of a live batch, the common write): the header
    alone, without `_many`'s array work (90 µs). The point is every end, and `records` makes each level's
    one sub-bucket from it; tests/test_create_overview.py holds both to what `_many` writes."""
    point = _POINT_RECORD.pack(step, epoch, timestamp, value)
    in_time = bytes([not math.isnan(timestamp)]).ljust(8, b"\0")
    return b"".join((MAGIC, point * len(ENDS), in_time))


def _lone(header: bytes, dtype: np.dtype) -> bytes:
    """The one sub-bucket of a one-point chunk at a level of `dtype`, from the point in its header (`_one`):
    its min, max and sum are the point's value, its step and time ranges the point's own."""
    step, epoch, timestamp, value = _POINT_RECORD.unpack_from(header, _ENDS_AT)
    if dtype == FINE:
        return _FINE_RECORD.pack(step, epoch, timestamp, 1, value, value, value)
    return _COARSE_RECORD.pack(step, step, timestamp, timestamp, 1, value, value, value, step, epoch, timestamp)


def expanded(packed: bytes) -> bytes:
    """An overview with every level written out: a one-point chunk's header alone (`_one`) becomes what
    `_many` writes for that point, its levels padded; any other overview is returned as it is. For the
    way back to a layout whose reader knew no header-only overview (em/migrations/0016)."""
    if len(packed) != HEADER_BYTES:
        return packed
    coarse = _lone(packed, DTYPE)
    padded = (coarse + bytes(DTYPE.itemsize * (size - 1)) for size in LEVELS[:-1])
    return b"".join((packed, *padded, _lone(packed, FINE)))


def _many(steps: np.ndarray, epochs: np.ndarray, timestamps: np.ndarray, values: np.ndarray) -> bytes:
    last = len(steps) - 1
    at = [np.argmin(steps), last - np.argmax(steps[::-1]), np.argmin(timestamps), last - np.argmax(timestamps[::-1])]
    ends = np.zeros(len(ENDS), dtype=POINT)
    ends["step"], ends["epoch"], ends["timestamp"], ends["value"] = steps[at], epochs[at], timestamps[at], values[at]
    if len(steps) > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, epochs, timestamps, values = steps[order], epochs[order], timestamps[order], values[order]
    coarse = (_level(steps, epochs, timestamps, values, size) for size in LEVELS[:-1])
    fine, in_time = _fine(steps, epochs, timestamps, values, LEVELS[-1])
    return b"".join((MAGIC, ends.tobytes(), bytes([in_time]).ljust(8, b"\0"), *coarse, fine))


def _cuts(steps: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to `size` runs of points sorted by step, cut near equal counts but only where the step changes
    (points of one step always share a sub-bucket, and sub-buckets' step ranges never touch): their
    first indexes and their lengths."""
    n = len(steps)
    rises = np.flatnonzero(steps[1:] > steps[:-1]) + 1
    wanted = np.searchsorted(rises, np.arange(1, size) * n // size)
    starts = np.unique(np.concatenate(([0], rises[wanted[wanted < len(rises)]])))
    return starts, np.diff(np.append(starts, n))


def _summarise(out: np.ndarray, values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> None:
    out["count"] = sizes
    out["min"] = np.minimum.reduceat(values, starts)
    out["max"] = np.maximum.reduceat(values, starts)
    with np.errstate(invalid="ignore"):  # +inf and -inf in one sub-bucket: a NaN sum, which `merge` refuses
        out["sum"] = np.add.reduceat(values, starts)


def _level(steps: np.ndarray, epochs: np.ndarray, timestamps: np.ndarray, values: np.ndarray, size: int) -> bytes:
    """A coarser level of points sorted by step, padded with empty (count 0) records to `size`."""
    starts, sizes = _cuts(steps, size)
    middle = starts + sizes // 2
    out = np.zeros(size, dtype=DTYPE)
    used = out[: len(starts)]
    used["first_step"] = steps[starts]
    used["last_step"] = steps[starts + sizes - 1]
    used["first_time"] = np.minimum.reduceat(timestamps, starts)  # np.minimum propagates NaN
    used["last_time"] = np.maximum.reduceat(timestamps, starts)
    _summarise(used, values, starts, sizes)
    used["step"] = steps[middle]
    used["epoch"] = epochs[middle]
    used["timestamp"] = timestamps[middle]
    return out.tobytes()


def _fine(
    steps: np.ndarray, epochs: np.ndarray, timestamps: np.ndarray, values: np.ndarray, size: int
) -> tuple[bytes, bool]:
    """The finest level of points sorted by step (not padded), and whether it is in time order: the
    points' times never fall as their steps rise and always rise from one sub-bucket to the next, so a
    sub-bucket's first point has its least time and their time ranges never touch."""
    starts, sizes = _cuts(steps, size)
    out = np.zeros(len(starts), dtype=FINE)
    out["step"], out["epoch"], out["timestamp"] = steps[starts], epochs[starts], timestamps[starts]
    _summarise(out, values, starts, sizes)
    in_time = bool(
        np.all(timestamps[1:] >= timestamps[:-1]) and np.all(timestamps[starts[1:]] > timestamps[starts[1:] - 1])
    )
    return out.tobytes(), in_time and not np.isnan(timestamps).any()


def level_for(count: int, buckets: int, chunk_size: int) -> Level | None:
    """The coarsest level with enough sub-buckets for `buckets` buckets of a series of `count` points in
    full chunks; `None` when none has. The finest level's length is its most: a slice with no length
    makes PostgreSQL read the whole value."""
    start = HEADER_BYTES
    for size in LEVELS:
        dtype = FINE if size == LEVELS[-1] else DTYPE
        if count * size >= COARSE * buckets * chunk_size:
            return Level(start, size * dtype.itemsize, dtype)
        start += size * dtype.itemsize
    return None


def current(header: bytes) -> bool:
    """Whether an overview (of which `header` is the first `HEADER_BYTES` or more) has this layout."""
    return header[: len(MAGIC)] == MAGIC and len(header) >= HEADER_BYTES


def _ends(header: bytes) -> np.ndarray:
    return np.frombuffer(header[_ENDS_AT:_IN_TIME_AT], dtype=POINT)


def end_points(first: bytes, last: bytes, x: str) -> tuple[np.ndarray, np.ndarray]:
    """The series' first and last point in x order (each one `POINT` record in an array) from the headers
    of its first and last chunk, when the sub-buckets of the whole series are in x order (what `merge`
    checks)."""
    by = "step" if x == "step" else "time"
    at, to = ENDS.index(f"first_by_{by}"), ENDS.index(f"last_by_{by}")
    return _ends(first)[at : at + 1], _ends(last)[to : to + 1]


def _in_order(rows: list[tuple[bytes, ...]], subs: np.ndarray, level: Level, x: str) -> tuple[np.ndarray, float] | None:
    """Each sub-bucket's least x and the series' greatest, when the sub-buckets of the whole series are
    disjoint and in order on the x axis; `None` when they are not."""
    if level.dtype == DTYPE:
        low, high = (subs["first_step"], subs["last_step"]) if x == "step" else (subs["first_time"], subs["last_time"])
        return (low, float(high[-1])) if np.all(high[:-1] < low[1:]) else None  # also False for NaN
    # The finest level: in order within each chunk by step always, by time where the header says so;
    # from one chunk to the next by the ranges the headers' end points give.
    if x == "timestamp" and not all(row[0][_IN_TIME_AT] for row in rows):
        return None
    ends = np.stack([_ends(row[0]) for row in rows])
    field, first, last = ("step", 0, 1) if x == "step" else ("timestamp", 2, 3)
    lows, highs = ends[:, first][field], ends[:, last][field]
    if not np.all(highs[:-1] < lows[1:]):
        return None
    return subs[field], float(highs[-1])


def records(rows: list[tuple[bytes, ...]], level: Level) -> np.ndarray:
    """The sub-buckets of one level of the chunks whose header and slice of that level are `rows` (in seq
    order), without a padded level's empty records. A one-point chunk's slice is empty (its overview is
    the header alone), and its sub-bucket comes from its header."""
    # One buffer: 1,000 arrays take 15 ms to concatenate.
    subs = np.frombuffer(b"".join(row[1] or _lone(row[0], level.dtype) for row in rows), dtype=level.dtype)
    if not subs["count"].all():  # a padded level: copying 10,000 sub-buckets without them takes 0.2 ms
        subs = subs[subs["count"] > 0]
    return subs


def merge(rows: list[tuple[bytes, ...]], level: Level, x: str, buckets: int) -> Merged | None:
    """The history in at most `buckets` buckets from the chunks' headers and one level of their
    overviews (`rows`, in seq order), or `None` when the overviews cannot give it exactly (see the module
    doc) and the points must be read."""
    subs = records(rows, level)
    if len(subs) < COARSE * buckets:
        return None
    ordered = _in_order(rows, subs, level, x)
    if ordered is None:
        return None
    if not np.all(np.isfinite(subs["sum"])):  # a NaN or infinite value somewhere
        return None
    low, last = ordered
    starts = bucket_starts(low, last, buckets)
    counts = np.add.reduceat(subs["count"], starts)
    ends = np.cumsum(subs["count"])  # points up to the end of each sub-bucket
    middle_rank = ends[starts] - subs["count"][starts] + counts // 2
    middle = subs[np.searchsorted(ends, middle_rank, side="right")]
    return Merged(
        steps=middle["step"],
        epochs=middle["epoch"],
        timestamps=middle["timestamp"],
        means=np.add.reduceat(subs["sum"], starts) / counts,
        lows=np.minimum.reduceat(subs["min"], starts),
        highs=np.maximum.reduceat(subs["max"], starts),
    )


def bucket_starts(xs: np.ndarray, last: float, buckets: int) -> np.ndarray:
    """First index of each non-empty bucket of `buckets` equal x ranges from `xs[0]` to `last`, over sorted
    `xs` (points, or sub-buckets by their first x): an item goes to the bucket its x falls in.

    Equal x values always share a bucket, so bucket x ranges — and the middle points — strictly increase.
    """
    edges = np.linspace(float(xs[0]), last, buckets + 1)[1:-1]
    starts = np.searchsorted(xs, edges, side="left")
    return np.unique(np.concatenate(([0], starts[starts < len(xs)])))
