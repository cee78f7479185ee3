"""Columnar metric storage: chunks, the summary, appends across chunk boundaries, compaction, reads."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from em import errors, tasks
from em.models import MetricChunk, MetricSeries, Run
from em.runs import chunk_io, metrics, overview
from em.runs.metrics import CHUNK_SIZE, NO_EPOCH, Points
from tests.bundle_helpers import run_node
from tests.factories import root

pytestmark = pytest.mark.django_db


def points(steps: Any, values: Any = None, *, epochs: Any = None, start: float = 1.77e9) -> Points:
    steps = np.asarray(steps, dtype=np.int64)
    return Points(
        steps=steps,
        epochs=np.full(len(steps), NO_EPOCH) if epochs is None else epochs,
        timestamps=start + steps * 0.5,
        values=np.sin(steps / 100.0) if values is None else values,
    )


@pytest.fixture
def run(alice: Any) -> Run:
    return Run.objects.create(node=run_node(root(alice), "r", {"stdout.log": b""}))


def stored(series: MetricSeries) -> list[tuple[int, int, int, int]]:
    return list(series.chunks.order_by("seq").values_list("seq", "count", "first_step", "last_step"))


def test_normalise_stage() -> None:
    assert [metrics.normalise_stage(s) for s in ("training", "Validation", "eval", "testing", "train", "custom")] == [
        "train",
        "val",
        "val",
        "test",
        "train",
        "custom",
    ]


def test_replace_cuts_chunks_and_summarises(run: Run) -> None:
    series = metrics.replace(run, "train.loss", points(np.arange(25_000)))
    assert stored(series) == [(0, 10_000, 0, 9_999), (1, 10_000, 10_000, 19_999), (2, 5_000, 20_000, 24_999)]
    assert series.count == 25_000
    values = np.sin(np.arange(25_000) / 100.0)
    assert (series.min, series.max) == (values.min(), values.max())
    assert (series.latest, series.latest_step) == (values[-1], 24_999)
    chunk = series.chunks.get(seq=2)
    assert np.frombuffer(bytes(chunk.steps), dtype="<i8")[0] == 20_000
    assert np.frombuffer(bytes(chunk.epochs), dtype="<i8")[0] == NO_EPOCH


def test_latest_is_the_greatest_step_and_the_last_written_on_a_tie(run: Run) -> None:
    series = metrics.replace(run, "k", points([5, 9, 3, 9, 1], [0.1, 0.2, 0.3, 0.4, 0.5]))
    assert (series.latest, series.latest_step) == (0.4, 9)
    metrics.append(series, points([2, 9], [0.6, 0.7]))
    assert (series.latest, series.latest_step, series.count) == (0.7, 9, 7)
    metrics.append(series, points([8], [0.8]))
    series.refresh_from_db()
    assert (series.latest, series.latest_step, series.min, series.max) == (0.7, 9, 0.1, 0.8)


def test_append_fills_the_last_chunk_then_starts_new_ones(run: Run) -> None:
    series = metrics.replace(run, "k", points(np.arange(9_000)))
    metrics.append(series, points(np.arange(9_000, 9_000 + 22_500)))
    assert stored(series) == [
        (0, 10_000, 0, 9_999),
        (1, 10_000, 10_000, 19_999),
        (2, 10_000, 20_000, 29_999),
        (3, 1_500, 30_000, 31_499),
    ]
    history = metrics.read(series)
    assert history["step"] == list(range(31_500))
    assert history["value"] == np.sin(np.arange(31_500) / 100.0).tolist()
    assert series.count == 31_500 and MetricSeries.objects.get(pk=series.pk).count == 31_500


def test_append_to_an_empty_series_keeps_nan_as_data_but_out_of_the_summary(run: Run) -> None:
    series = MetricSeries.objects.create(run=run, key="live.loss")
    metrics.append(series, points([1, 2], [0.5, 0.25]))
    assert (series.count, series.min, series.latest) == (2, 0.25, 0.25)
    metrics.append(series, points([3, 4], [float("-inf"), float("nan")]))
    stored_row = MetricSeries.objects.get(pk=series.pk)
    assert (stored_row.count, stored_row.min, stored_row.max) == (4, 0.25, 0.5)
    assert (stored_row.latest, stored_row.latest_step) == (None, 4)
    assert metrics.read(stored_row)["value"] == [0.5, 0.25, None, None]


def test_compaction_merges_small_chunks_and_is_idempotent(run: Run) -> None:
    series = MetricSeries.objects.create(run=run, key="live.loss")
    # What a writer that did not fill chunks leaves: small chunks one after another.
    for seq, start in enumerate(range(0, 25_000, 2_500)):
        chunk = MetricChunk(series=series, seq=seq)
        metrics._fill(chunk, points(np.arange(start, start + 2_500)))
        chunk.save()
    series.count = 25_000
    series.save()
    before = metrics.read(series)
    assert metrics.series_to_compact() == [series.pk]
    assert tasks.compact_metrics.delay().get() == 10
    assert stored(series) == [(0, 10_000, 0, 9_999), (1, 10_000, 10_000, 19_999), (2, 5_000, 20_000, 24_999)]
    assert metrics.read(series) == before
    assert metrics.compact(series) == 0
    assert metrics.series_to_compact() == []


def test_read_downsamples_with_a_band_covering_the_true_extremes(run: Run) -> None:
    rng = np.random.default_rng(7)
    steps = np.arange(0, 50_000) * 3
    values = rng.normal(0, 1, len(steps))
    values[12_345] = 40.0
    values[33_333] = -40.0
    series = metrics.replace(run, "k", points(steps, values))
    history = metrics.read(series, max_points=500)
    assert history["downsampled"] and history["count"] == 50_000
    assert 0 < len(history["step"]) <= 500
    assert len(history["value"]) == len(history["min"]) == len(history["max"]) == len(history["epoch"])
    assert all(a < b for a, b in zip(history["step"], history["step"][1:], strict=False))
    assert max(history["max"]) == 40.0 and min(history["min"]) == -40.0
    assert all(lo <= v <= hi for lo, v, hi in zip(history["min"], history["value"], history["max"], strict=True))
    assert abs(np.mean(history["value"]) - values.mean()) < 0.05


def test_read_sorts_points_written_out_of_order_and_can_use_time_as_x(run: Run) -> None:
    series = metrics.replace(run, "k", points([3, 1, 2], [0.3, 0.1, 0.2]))
    assert metrics.read(series)["value"] == [0.1, 0.2, 0.3]
    assert metrics.read(series, x="timestamp")["timestamp"] == [1.77e9 + 0.5, 1.77e9 + 1.0, 1.77e9 + 1.5]
    with pytest.raises(errors.InvalidInput):
        metrics.read(series, x="wall")


def test_read_with_few_points_returns_them_all(run: Run) -> None:
    series = metrics.replace(run, "k", points([1, 2], [0.1, 0.2], epochs=[NO_EPOCH, 4]))
    history = metrics.read(series, max_points=10)
    assert history == {
        "key": "k",
        "count": 2,
        "downsampled": False,
        "step": [1, 2],
        "epoch": [None, 4],
        "timestamp": [1.77e9 + 0.5, 1.77e9 + 1.0],
        "value": [0.1, 0.2],
        "min": None,
        "max": None,
    }


@pytest.mark.parametrize("chunks", [1, 12])
def test_read_takes_one_query_whatever_the_number_of_chunks(
    run: Run, chunks: int, django_assert_max_num_queries: Any
) -> None:
    series = metrics.replace(run, "k", points(np.arange(chunks * CHUNK_SIZE)))
    with django_assert_max_num_queries(1):
        metrics.read(series, max_points=100)


# --- overviews -----------------------------------------------------------------------------------------


def current_overviews(series: MetricSeries) -> bool:
    """Whether every chunk's stored overview is the one its points give."""
    return all(
        bytes(chunk.overview) == overview.build(*(getattr(p, f) for f in ("steps", "epochs", "timestamps", "values")))
        for chunk in series.chunks.order_by("seq")
        for p in [metrics._unpack(chunk)]
    )


def expected_bands(series: MetricSeries, max_points: int, x: str, *, by_sub_bucket: bool) -> dict[str, list[float]]:
    """Min, max and mean per bucket computed from the points themselves: each point in the bucket of its
    x (the exact read) or, `by_sub_bucket`, in the bucket of its stored sub-bucket's first x."""
    chunks = list(series.chunks.order_by("seq"))
    every = Points.concat([metrics._unpack(chunk) for chunk in chunks])
    axis = every.steps if x == "step" else every.timestamps
    order = np.argsort(axis, kind="stable")
    axis, values = axis[order], every.values[order]
    inner = np.linspace(float(axis[0]), float(axis[-1]), max_points + 1)[1:-1]
    where = axis
    if by_sub_bucket:
        level = overview.level_for(series.count, max_points, CHUNK_SIZE)
        assert level is not None
        stored = [bytes(chunk.overview) for chunk in chunks]
        subs = overview.records(
            [(o[: overview.HEADER_BYTES], o[level.start : level.start + level.length]) for o in stored], level
        )
        # A sub-bucket of a coarser level keeps its least step and time; one of the finest its first point's.
        coarse = level.dtype == overview.DTYPE
        firsts = subs[{"step": "first_step", "timestamp": "first_time"}[x] if coarse else x]
        where = firsts[np.searchsorted(firsts, axis, side="right") - 1]
    bucket = np.searchsorted(inner, where, side="right")
    starts = np.flatnonzero(np.diff(bucket, prepend=-1))
    sizes = np.diff(np.append(starts, len(values)))
    return {
        "min": np.minimum.reduceat(values, starts).tolist(),
        "max": np.maximum.reduceat(values, starts).tolist(),
        "mean": (np.add.reduceat(values, starts) / sizes).tolist(),
        "first": axis[starts].tolist(),
        "last": axis[starts + sizes - 1].tolist(),
        "ends": [values[0], values[-1]],
    }


def assert_bands(history: metrics.History, expected: dict[str, list[float]], x: str) -> None:
    assert history["downsampled"]
    assert history["min"] == expected["min"] and history["max"] == expected["max"]
    # Inner buckets show their mean; the first and last show the series' own first and last point.
    np.testing.assert_allclose(history["value"][1:-1], expected["mean"][1:-1], rtol=1e-12, atol=1e-12)
    assert [history["value"][0], history["value"][-1]] == expected["ends"]
    xs: list[Any] = history["step"] if x == "step" else history["timestamp"]
    assert (xs[0], xs[-1]) == (expected["first"][0], expected["last"][-1])
    assert all(a < b for a, b in itertools.pairwise(xs))
    assert all(lo <= v <= hi for lo, v, hi in zip(expected["first"], xs, expected["last"], strict=True))


def random_points(rng: np.random.Generator, n: int, *, first_step: int = 0, repeats: bool = True) -> Points:
    """Steps rising by 1-3 or, with `repeats`, 0-3 (0: a step logged twice) but never repeating across a
    `CHUNK_SIZE` boundary of these points; noisy values with spikes."""
    rises = rng.integers(0 if repeats else 1, 4, n)
    rises[::CHUNK_SIZE] = 1
    values = rng.normal(0, 1, n)
    values[rng.integers(0, n, 5)] = rng.normal(0, 100, 5)
    return points(first_step + np.cumsum(rises), values, epochs=rng.integers(0, 50, n))


@pytest.mark.parametrize("x", ["step", "timestamp"])
def test_a_coarse_history_comes_from_the_overviews_with_exact_bands(
    run: Run, x: str, django_assert_max_num_queries: Any
) -> None:
    rng = np.random.default_rng(11)
    series = metrics.replace(run, "k", random_points(rng, 123_457))
    assert current_overviews(series)
    for max_points in (2, 7, 60, 100, 1_000):  # the finest level serves up to 1,580 buckets of these points
        with django_assert_max_num_queries(1):
            history = metrics.read(series, max_points=max_points, x=x)
        assert 0 < len(history["step"]) <= max_points and history["count"] == 123_457
        assert_bands(history, expected_bands(series, max_points, x, by_sub_bucket=True), x)
        assert max(history["max"] or []) == series.max and min(history["min"] or []) == series.min
    # The overviews answered (their bucket edges are whole sub-buckets, unlike the exact read's).
    for max_points in (100, 1_000):
        by_sub_bucket = expected_bands(series, max_points, x, by_sub_bucket=True)
        assert by_sub_bucket != expected_bands(series, max_points, x, by_sub_bucket=False)
    # Finer buckets than the overviews can serve come from the points, exactly as before.
    assert_bands(metrics.read(series, max_points=2_000, x=x), expected_bands(series, 2_000, x, by_sub_bucket=False), x)


@pytest.mark.parametrize("x", ["step", "timestamp"])
def test_a_one_point_chunk_stores_its_header_alone_and_is_read_from_it(
    run: Run, x: str, django_assert_max_num_queries: Any
) -> None:
    """The last chunk of 2 * CHUNK_SIZE + 1 points holds one point, and its overview is the header alone
    (144 bytes, not 12.9 KB of padded levels): a read from the overviews still counts that point, at each
    level. It is the greatest value, so a read that left it out would show another maximum."""
    data = random_points(np.random.default_rng(5), 2 * CHUNK_SIZE + 1, repeats=False)
    data.values[-1] = 1_000.0
    series = metrics.replace(run, "k", data)
    last = series.chunks.order_by("seq").last()
    assert last is not None and last.count == 1 and len(bytes(last.overview)) == overview.HEADER_BYTES
    assert current_overviews(series)
    for max_points in (2, 7, 60):  # the three levels: 16, 128 and 1,024 sub-buckets a chunk
        with django_assert_max_num_queries(1):
            history = metrics.read(series, max_points=max_points, x=x)
        assert_bands(history, expected_bands(series, max_points, x, by_sub_bucket=True), x)
        assert max(history["max"] or []) == 1_000.0 == series.max


@pytest.mark.parametrize(("max_points", "size"), [(100, 128), (1_000, 1_024)])
def test_the_overview_read_leaves_the_arrays_in_the_database(run: Run, max_points: int, size: int) -> None:
    series = metrics.replace(run, "k", points(np.arange(12 * CHUNK_SIZE)))
    level = overview.level_for(series.count, max_points, CHUNK_SIZE)
    assert level is not None and level.length == size * level.dtype.itemsize
    with CaptureQueriesContext(connection) as queries:
        metrics.read(series, max_points=max_points)
        rows = chunk_io.overview_slices(series.pk, [(0, overview.HEADER_BYTES), (level.start, level.length)])
    assert len(queries.captured_queries) == 2 and queries.captured_queries[0]["sql"] == queries[1]["sql"]
    # Per chunk, the header and one level: a sub-bucket for every ~10 points at most, never the points.
    assert [[len(column) for column in row] for row in rows] == [[overview.HEADER_BYTES, level.length]] * 12


def test_the_finest_level_serves_time_only_for_chunks_whose_times_rise_with_their_steps(
    run: Run, django_assert_num_queries: Any
) -> None:
    data = random_points(np.random.default_rng(8), 100_000, repeats=False)
    data.timestamps[[20_001, 20_002]] = data.timestamps[[20_002, 20_001]]  # two points' times swapped
    series = metrics.replace(run, "k", data)
    with django_assert_num_queries(1):
        history = metrics.read(series, max_points=1_000)
    assert_bands(history, expected_bands(series, 1_000, "step", by_sub_bucket=True), "step")
    with django_assert_num_queries(2):  # the overviews are tried, then the points read
        history = metrics.read(series, max_points=1_000, x="timestamp")
    assert_bands(history, expected_bands(series, 1_000, "timestamp", by_sub_bucket=False), "timestamp")


def test_the_header_holds_the_end_points_as_the_exact_read_orders_them() -> None:
    """Ties go to the first written at the start and the last written at the end (a stable sort)."""
    data = points([5, 3, 3, 9, 9], [10.0, 11.0, 12.0, 13.0, 14.0])
    data.timestamps = np.array([1.0, 2.0, 1.0, 3.0, 3.0])
    header = overview.build(data.steps, data.epochs, data.timestamps, data.values)[: overview.HEADER_BYTES]
    assert overview.current(header)
    by_step = overview.end_points(header, header, "step")
    by_time = overview.end_points(header, header, "timestamp")
    assert [end["value"].tolist() for end in (*by_step, *by_time)] == [[11.0], [14.0], [10.0], [14.0]]
    assert [by_step[0]["step"].tolist(), by_time[0]["step"].tolist()] == [[3], [5]]


def test_a_series_written_before_the_layout_changed_is_read_from_its_points(run: Run) -> None:
    data = random_points(np.random.default_rng(9), 12 * CHUNK_SIZE, repeats=False)
    series = metrics.replace(run, "k", data)
    for chunk in series.chunks.all():
        chunk.overview = older_overview(metrics._unpack(chunk))
        chunk.save(update_fields=["overview"])
    with CaptureQueriesContext(connection) as queries:
        history = metrics.read(series, max_points=100)
    assert len(queries.captured_queries) == 2
    assert_bands(history, expected_bands(series, 100, "step", by_sub_bucket=False), "step")


def older_overview(p: Points) -> bytes:
    """An overview in the layout before em 0016: no header, levels of 16 and 128, only the first padded."""
    order = np.argsort(p.steps, kind="stable")
    arrays = [getattr(p, f)[order] for f in ("steps", "epochs", "timestamps", "values")]
    middle = np.frombuffer(overview._level(*arrays, 128), dtype=overview.DTYPE)
    return overview._level(*arrays, 16) + middle[middle["count"] > 0].tobytes()


def test_live_appends_and_compaction_keep_the_overviews_current(run: Run, django_assert_num_queries: Any) -> None:
    rng = np.random.default_rng(5)
    series = MetricSeries.objects.create(run=run, key="live.loss")
    written = 0
    while written < 130_000:
        size = int(rng.integers(1, 7_000))
        metrics.append(series, random_points(rng, size, first_step=written * 4 + 1, repeats=False))
        written += size
    assert current_overviews(series)
    with django_assert_num_queries(1):
        history = metrics.read(series, max_points=100)
    assert_bands(history, expected_bands(series, 100, "step", by_sub_bucket=True), "step")

    small = MetricSeries.objects.create(run=run, key="small")
    for seq, start in enumerate(range(0, 120_000, 4_000)):
        chunk = MetricChunk(series=small, seq=seq)
        metrics._fill(chunk, points(np.arange(start, start + 4_000)))
        chunk.save()
    small.count = 120_000
    small.save()
    assert metrics.compact(small) == 30
    assert current_overviews(small)
    assert_bands(metrics.read(small, max_points=50), expected_bands(small, 50, "step", by_sub_bucket=True), "step")


def test_overviews_out_of_x_order_fall_back_to_the_points(run: Run, django_assert_num_queries: Any) -> None:
    rng = np.random.default_rng(3)
    # A step written again across a chunk boundary, then a step counter that restarted.
    again = random_points(rng, 110_000)
    again.steps[CHUNK_SIZE:] -= 1
    restarted = Points.concat([random_points(rng, 60_000), random_points(rng, 60_000)])
    # Live batches stamped at arrival: one timestamp shared by the sub-buckets of a batch.
    shared = random_points(rng, 120_000)
    shared.timestamps = 1.77e9 + (np.arange(120_000) // 10_000).astype(np.float64)
    for key, data, x in (("again", again, "step"), ("restarted", restarted, "step"), ("shared", shared, "timestamp")):
        series = metrics.replace(run, key, data)
        with django_assert_num_queries(2):
            history = metrics.read(series, max_points=100, x=x)
        assert_bands(history, expected_bands(series, 100, x, by_sub_bucket=False), x)


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_overviews_of_stored_chunks(alice: Any) -> None:
    before = [("em", "0009_run_scope_index_and_chunk_storage")]
    node = run_node(root(alice), "r", {"stdout.log": b""})  # with today's models, before the schema goes back
    executor = MigrationExecutor(connection)
    # Every app's leaves: going back to em 0009 also unapplies what depends on later em migrations
    # (assethub), which later tests need back.
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        old_chunk = old_apps.get_model("em", "MetricChunk")
        run = old_apps.get_model("em", "Run").objects.create(node_id=node.pk)
        series = MetricSeries.objects.create(run_id=run.pk, key="k", count=3 * CHUNK_SIZE - 5)
        data = random_points(np.random.default_rng(2), 3 * CHUNK_SIZE - 5)
        for seq, start in enumerate(range(0, len(data), CHUNK_SIZE)):
            part = data.slice(start, start + CHUNK_SIZE)
            fields = {f: getattr(part, f).tobytes() for f in ("steps", "epochs", "timestamps", "values")}
            old_chunk.objects.create(series_id=series.pk, seq=seq, count=len(part), first_step=0, last_step=0, **fields)
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert current_overviews(series)


@pytest.mark.django_db(transaction=True)
def test_the_migration_rebuilds_overviews_of_the_older_layout_and_back(alice: Any) -> None:
    before = [("em", "0015_autotune")]
    node = run_node(root(alice), "r", {"stdout.log": b""})
    run = Run.objects.create(node=node)
    data = random_points(np.random.default_rng(4), 3 * CHUNK_SIZE - 5, repeats=False)
    kept = metrics.replace(run, "kept", data)  # written in today's layout
    lone = metrics.replace(run, "lone", data.slice(0, 2 * CHUNK_SIZE + 1))  # its last chunk: a header alone
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        for series in (kept, lone):
            assert all(bytes(c.overview) == older_overview(metrics._unpack(c)) for c in series.chunks.all())
        # Chunks the code of then writes (the schema is the same), read while the migration is to run.
        old = MetricSeries.objects.create(run=run, key="old", count=len(data))
        for seq, start in enumerate(range(0, len(data), CHUNK_SIZE)):
            chunk = MetricChunk(series=old, seq=seq)
            metrics._fill(chunk, data.slice(start, start + CHUNK_SIZE))
            chunk.overview = older_overview(data.slice(start, start + CHUNK_SIZE))
            chunk.save()
        assert_bands(metrics.read(old, max_points=20), expected_bands(old, 20, "step", by_sub_bucket=False), "step")
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert current_overviews(kept) and current_overviews(old) and current_overviews(lone)
    assert_bands(metrics.read(old, max_points=20), expected_bands(old, 20, "step", by_sub_bucket=True), "step")
