"""Chunk overviews: a coarse history of a long series without reading its points.

Every chunk also stores summaries of consecutive runs of its points in step order, its sub-buckets: for
each, the step and time range, the count, min, max and sum of the values, and its middle point. They
come in `LEVELS`, coarse first, each but the last padded to its full size so it can be read alone (a
slice of the column: on PostgreSQL, stored uncompressed, only the bytes asked for are fetched). A read
takes the coarsest level with enough sub-buckets, so the bytes read follow `max_points`, not the
series' length: 100,000 points downsampled to 1,000 read the finest level of 10 chunks (0.9 MB, against
3.2 MB of arrays), a million points the middle level of 100 (1.1 MB against 32 MB), ten million the
coarse level of 1,000 (1.4 MB). The finest level is what a chart of a typical long run needs (1,000
buckets of 100,000 points take 8,000 sub-buckets); it costs 90 KB a chunk beside 320 KB of arrays.

Before the levels comes a header (`HEADER_BYTES`): `MAGIC`, which names this layout, and the chunk's end
points in x order, the first and last by step and by time (on a tie, the first and the last written, as
the exact read's stable sort orders them). The first and last buckets of a downsampled history show the
series' own end points, and the header spares reading the end chunks' arrays for them. A chunk whose
overview does not start with `MAGIC` (written in an older layout, before its migration ran) is never
read as this one: the caller reads the points instead.

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

from typing import NamedTuple

import numpy as np

LEVELS = (16, 128, 1024)  # at most this many sub-buckets per chunk, per level
COARSE = 8  # sub-buckets per bucket, on average, below which only the points give good bucket edges
DTYPE = np.dtype(
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
# 8 bytes that no overview of the older layout starts with: read as its first record's first step, a
# step of about -1.09e12.
MAGIC = b"EMOV\x02\xff\xff\xff"
POINT = np.dtype([("step", "<i8"), ("epoch", "<i8"), ("timestamp", "<f8"), ("value", "<f8")])
ENDS = ("first_by_step", "last_by_step", "first_by_time", "last_by_time")  # the header's points, in order
HEADER_BYTES = len(MAGIC) + len(ENDS) * POINT.itemsize


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
    last = len(steps) - 1
    at = [np.argmin(steps), last - np.argmax(steps[::-1]), np.argmin(timestamps), last - np.argmax(timestamps[::-1])]
    ends = np.zeros(len(ENDS), dtype=POINT)
    ends["step"], ends["epoch"], ends["timestamp"], ends["value"] = steps[at], epochs[at], timestamps[at], values[at]
    if len(steps) > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, epochs, timestamps, values = steps[order], epochs[order], timestamps[order], values[order]
    levels = (_level(steps, epochs, timestamps, values, size) for size in LEVELS)
    return b"".join((MAGIC, ends.tobytes(), *levels))


def _level(steps: np.ndarray, epochs: np.ndarray, timestamps: np.ndarray, values: np.ndarray, size: int) -> bytes:
    """Up to `size` sub-buckets of points sorted by step, cut near equal counts but only where the step
    changes: points of one step always share a sub-bucket, and sub-buckets' step ranges never touch.
    Every level but the last is padded with empty (count 0) records to `size`."""
    n = len(steps)
    rises = np.flatnonzero(steps[1:] > steps[:-1]) + 1
    wanted = np.searchsorted(rises, np.arange(1, size) * n // size)
    starts = np.unique(np.concatenate(([0], rises[wanted[wanted < len(rises)]])))
    sizes = np.diff(np.append(starts, n))
    middle = starts + sizes // 2
    out = np.zeros(len(starts) if size == LEVELS[-1] else size, dtype=DTYPE)
    used = out[: len(starts)]
    used["first_step"] = steps[starts]
    used["last_step"] = steps[starts + sizes - 1]
    used["first_time"] = np.minimum.reduceat(timestamps, starts)  # np.minimum propagates NaN
    used["last_time"] = np.maximum.reduceat(timestamps, starts)
    used["count"] = sizes
    used["min"] = np.minimum.reduceat(values, starts)
    used["max"] = np.maximum.reduceat(values, starts)
    with np.errstate(invalid="ignore"):  # +inf and -inf in one sub-bucket: a NaN sum, which `merge` refuses
        used["sum"] = np.add.reduceat(values, starts)
    used["step"] = steps[middle]
    used["epoch"] = epochs[middle]
    used["timestamp"] = timestamps[middle]
    return out.tobytes()


def level_for(count: int, buckets: int, chunk_size: int) -> tuple[int, int] | None:
    """Where in the column (start byte, length) lies the coarsest level with enough sub-buckets for
    `buckets` buckets of a series of `count` points in full chunks; `None` when none has. The finest
    level's length is its most: a slice with no length makes PostgreSQL read the whole value."""
    start = HEADER_BYTES
    for size in LEVELS:
        if count * size >= COARSE * buckets * chunk_size:
            return start, size * DTYPE.itemsize
        start += size * DTYPE.itemsize
    return None


def current(header: bytes) -> bool:
    """Whether an overview (of which `header` is the first `HEADER_BYTES` or more) has this layout."""
    return header[: len(MAGIC)] == MAGIC and len(header) >= HEADER_BYTES


def end_points(first: bytes, last: bytes, x: str) -> tuple[np.ndarray, np.ndarray]:
    """The series' first and last point in x order (each one `POINT` record in an array) from the headers
    of its first and last chunk, when the sub-buckets of the whole series are in x order (what `merge`
    checks)."""
    by = "step" if x == "step" else "time"
    head, tail = (np.frombuffer(h[len(MAGIC) : HEADER_BYTES], dtype=POINT) for h in (first, last))
    at, to = ENDS.index(f"first_by_{by}"), ENDS.index(f"last_by_{by}")
    return head[at : at + 1], tail[to : to + 1]


def merge(overviews: list[bytes], x: str, buckets: int) -> Merged | None:
    """The history in at most `buckets` buckets from one level of the chunks' overviews in seq order, or
    `None` when the overviews cannot give it exactly (see the module doc) and the points must be read."""
    subs = np.frombuffer(b"".join(overviews), dtype=DTYPE)  # one buffer: concatenating 1,000 arrays takes 15 ms
    if not subs["count"].all():  # a padded level: copying 10,000 sub-buckets without them takes 0.2 ms
        subs = subs[subs["count"] > 0]
    if len(subs) < COARSE * buckets:
        return None
    low, high = (subs["first_step"], subs["last_step"]) if x == "step" else (subs["first_time"], subs["last_time"])
    if not np.all(high[:-1] < low[1:]):  # also False for NaN
        return None
    if not np.all(np.isfinite(subs["sum"])):  # a NaN or infinite value somewhere
        return None
    starts = bucket_starts(low, float(high[-1]), buckets)
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
