"""Columnar metric storage: chunks, the summary, appends across chunk boundaries, compaction, reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from em import errors, tasks
from em.models import MetricChunk, MetricSeries, Run
from em.runs import metrics
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


def test_append_to_an_empty_series_and_refusal_of_nan(run: Run) -> None:
    series = MetricSeries.objects.create(run=run, key="live.loss")
    metrics.append(series, points([1, 2], [0.5, 0.25]))
    assert (series.count, series.min, series.latest) == (2, 0.25, 0.25)
    with pytest.raises(errors.InvalidInput):
        metrics.append(series, points([3], [float("nan")]))
    assert MetricSeries.objects.get(pk=series.pk).count == 2


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
