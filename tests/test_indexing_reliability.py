"""Indexing always ends, and odd but real data indexes: database refusals, NUL characters, times beyond
UTC, NaN and infinities, YAML 1.2 numbers, big metrics files in other layouts, and histories that keep
their end points. Runs on SQLite and, with EM_TEST_DATABASE_URL, on PostgreSQL (where a NUL used to
crash the worker and leave the run pending for good)."""

from __future__ import annotations

import json
import math
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.db import connection

from em.models import IndexState, MetricSeries, Node, Param, Run
from em.runs import metrics
from em.runs.indexing import index_run
from em.runs.metricfile import MetricFileError, parse_metric_file
from em.runs.yaml_safety import YAMLRefused
from tests.bundle_helpers import example_bundle, run_node
from tests.factories import root

pytestmark = pytest.mark.django_db

POINT = (
    "- value:\n    loss: {value}\n"
    "  sequence:\n    epoch: 1\n    step: {step}\n    timestamp: '2026-03-01T10:15:19.008778+08:00'\n"
)


def indexed(alice: Any, **overrides: str | bytes | None) -> Run:
    node = run_node(root(alice), "r", example_bundle(**overrides))
    index_run(node.pk)
    return Run.objects.get(node=node)


def strict_json(content: bytes) -> Any:
    """JSON as the standard defines it: NaN and Infinity are not numbers there."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(content, parse_constant=refuse)


# --- any failure ends the run `failed` ----------------------------------------------------------------


@pytest.fixture
def param_inserts_refused() -> Iterator[str]:
    """A real database refusal in the middle of the index transaction: a trigger on the Param table."""
    message = "disk quota exceeded (test trigger)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION em_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER em_test_refuse BEFORE INSERT ON em_param FOR EACH ROW EXECUTE FUNCTION em_test_refuse()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER em_test_refuse BEFORE INSERT ON em_param BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    yield message
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER em_test_refuse" + (" ON em_param" if connection.vendor == "postgresql" else ""))
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION em_test_refuse()")


def test_a_database_refusal_mid_write_ends_the_run_failed_with_a_readable_error(
    alice: Any, param_inserts_refused: str
) -> None:
    node = run_node(root(alice), "r", example_bundle())
    outcome = index_run(node.pk)
    run = Run.objects.get(node=node)
    assert outcome["state"] == run.index_state == IndexState.FAILED
    (error,) = run.index_errors
    assert error["file"] == "" and error["message"].startswith("indexing failed on the server (")
    assert param_inserts_refused in error["message"]
    assert not MetricSeries.objects.filter(run=run).exists()  # nothing half-written


# --- NUL characters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "file", "place"),
    [
        ({"hyperparameters.yaml": 'lr: "0.1\\0"\n'}, "hyperparameters.yaml", "`lr`"),
        ({"hyperparameters.yaml": 'optimizer:\n  "na\\0me": adam\n'}, "hyperparameters.yaml", "`optimizer.na\\0me`"),
        ({"hyperparameters.yaml": 'tags: [a, "b\\0"]\n'}, "hyperparameters.yaml", "`tags[1]`"),
        ({"platform.yaml": '"os\\0": Linux\n'}, "platform.yaml", "`os\\0`"),
    ],
)
def test_a_nul_in_a_key_or_a_searchable_value_refuses_its_file_by_place(
    alice: Any, overrides: dict[str, str], file: str, place: str
) -> None:
    run = indexed(alice, **overrides)
    assert run.index_state == IndexState.FAILED
    (error,) = run.index_errors
    assert error["file"] == file
    assert place in error["message"] and "NUL character" in error["message"]


def test_a_nul_in_a_metric_name_or_metadata_is_refused_and_the_error_itself_is_storable(alice: Any) -> None:
    metadata = example_bundle()["metadata.yaml"].decode().replace("alternativeName: ", 'alternativeName: "x\\0"\nx: ')
    run = indexed(
        alice,
        **{
            "metrics__train.yaml": '- value: {"lo\\0ss": 0.5}\n  sequence: {epoch: 1, step: 1, timestamp: null}\n',
            "metadata.yaml": metadata,
        },
    )
    assert run.index_state == IndexState.FAILED
    assert {e["file"] for e in run.index_errors} == {"metadata.yaml", "metrics/train.yaml"}
    assert "\x00" not in json.dumps(run.index_errors)
    assert any("'train.lo\\x00ss' holds a NUL character" in e["message"] for e in run.index_errors)


def test_a_nul_in_platform_or_git_values_is_replaced_and_the_run_indexes(alice: Any) -> None:
    run = indexed(alice, **{"platform.yaml": 'hostname: "gpu\\0-1"\n', "git.yaml": 'branch: "ma\\0in"\n'})
    assert run.index_state == IndexState.INDEXED, run.index_errors
    assert run.platform == {"hostname": "gpu\ufffd-1"} and run.git == {"branch": "ma\ufffdin"}


def test_a_time_beyond_utc_is_refused_not_a_crash(alice: Any) -> None:
    metadata = example_bundle()["metadata.yaml"].decode()
    metadata = metadata.replace("2026-03-01T10:00:00.000000+08:00", "9999-12-31T23:59:59-23:59")
    run = indexed(alice, **{"metadata.yaml": metadata})
    assert run.index_state == IndexState.FAILED
    assert run.index_errors == [
        {
            "file": "metadata.yaml",
            "message": "startTimestamp 9999-12-31T23:59:59-23:59 is outside the years 1-9999 in UTC",
        }
    ]


# --- NaN, infinities and YAML 1.2 numbers ------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["sdk", "flow"])
def test_nan_and_infinities_are_data_kept_out_of_min_and_max(alice: Any, key_client: Any, layout: str) -> None:
    values = ["0.5", ".nan", "0.25", ".inf", "-.inf", ".nan"]
    text = "".join(POINT.format(value=v, step=step) for step, v in enumerate(values, 1))
    if layout == "flow":  # not the SDK's layout: the general reader
        text = "".join(
            f"- {{value: {{loss: {v}}}, sequence: {{epoch: 1, step: {step}, timestamp: null}}}}\n"
            for step, v in enumerate(values, 1)
        )
    run = indexed(alice, **{"metrics__train.yaml": text})
    assert run.index_state == IndexState.INDEXED, run.index_errors
    series = MetricSeries.objects.get(run=run, key="train.loss")
    assert (series.count, series.min, series.max) == (6, 0.25, 0.5)
    assert (series.latest, series.latest_step) == (None, 6)  # the last point is NaN: no latest value

    client = key_client(alice, "read")
    answer = client.get(f"/api/v1/runs/{run.pk}/metrics/train.loss")
    assert answer.status_code == 200, answer.content
    assert strict_json(answer.content)["value"] == [0.5, None, 0.25, None, None, None]
    detail = client.get(f"/api/v1/runs/{run.pk}")
    assert detail.status_code == 200 and strict_json(detail.content)


def test_downsampled_buckets_leave_non_finite_values_out(alice: Any) -> None:
    run = indexed(alice)
    values = np.linspace(1.0, 2.0, 1000)
    values[100:200] = np.nan  # a whole bucket of NaN and one infinity among finite values
    values[500] = np.inf
    steps = np.arange(1000)
    series = metrics.replace(run, "k", metrics.Points(steps, steps, np.full(1000, np.nan), values))
    history = metrics.read(series, max_points=10)
    assert history["value"][1] is None and history["min"][1] is None and history["max"][1] is None  # type: ignore[index]
    assert all(v is not None and math.isfinite(v) for v in history["max"][5:6])  # type: ignore[index]
    assert history["max"][5] < 2.0  # type: ignore[index]


def test_exponent_numbers_yaml_1_1_reads_as_text_are_numbers(alice: Any) -> None:
    text = POINT.format(value="1e-06", step=1) + POINT.format(value="2E+3", step=2)
    run = indexed(alice, **{"metrics__train.yaml": text, "hyperparameters.yaml": "lr: 1e-06\nname: '1e-06'\n"})
    assert run.index_state == IndexState.INDEXED, run.index_errors
    series = MetricSeries.objects.get(run=run, key="train.loss")
    assert (series.min, series.max) == (1e-06, 2000.0)
    assert run.hyperparameters == {"lr": 1e-06, "name": "1e-06"}  # quoted stays text
    assert Param.objects.get(run=run, key="lr").number == 1e-06
    fast, general = parse_metric_file(text.encode()), parse_metric_file(text.encode(), allow_fast=False)
    assert fast["loss"].values.tolist() == general["loss"].values.tolist() == [1e-06, 2000.0]


# --- big metrics files in other layouts ----------------------------------------------------------------------


def flow_points(n: int) -> bytes:
    return "".join(
        f"- {{value: {{loss: {1 / (i + 1):.6f}, acc: {i / n:.6f}}}, "
        f"sequence: {{epoch: {i // 100}, step: {i}, timestamp: '2026-03-01T10:15:19.008778+08:00'}}}}  # c\n"
        for i in range(n)
    ).encode()


def test_a_metrics_file_in_another_layout_is_read_in_bounded_memory() -> None:
    data = flow_points(20_000)  # 2.6 MB; the node graph of the old reader took ~70 times that
    tracemalloc.start()
    try:
        series = parse_metric_file(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(series["loss"]) == len(series["acc"]) == 20_000
    assert series["loss"].steps[-1] == 19_999 and series["acc"].values[-1] == pytest.approx(19_999 / 20_000)
    assert peak < 6 * len(data), f"peak {peak:,} bytes for a {len(data):,}-byte file"


def test_the_size_cap_for_other_layouts_names_its_setting(settings: Any) -> None:
    settings.EM_METRICS_YAML_MAX_BYTES = 1000
    with pytest.raises(MetricFileError, match=r"up to 1,000 bytes \(EM_METRICS_YAML_MAX_BYTES\)"):
        parse_metric_file(flow_points(100))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a: 1\n", "must be a list of points, not a mapping"),
        (b"just text\n", "must be a list of points, not text"),
        (b"- &a {value: {x: 1}}\n", "YAML anchors and aliases are not accepted (line 1, column 3)"),
        (b"- !!python/none x\n", "is not accepted here (line 1, column 3)"),
        (b"- {[1]: 2}\n", "a mapping key must be a scalar (line 1, column 4)"),
        (b"- {value: {x: 1}, sequence: {step: 1}}\n---\n- 2\n", "expected a single document in the stream"),
        (b"- [\n", "(line 2, column 1)"),
    ],
)
def test_the_streaming_reader_refuses_what_the_loader_refuses(text: bytes, message: str) -> None:
    with pytest.raises((MetricFileError, YAMLRefused)) as refused:
        parse_metric_file(text)
    assert message in str(refused.value)


# --- downsampled histories keep their end points (issue 8, defect 11) ----------------------------------------


@pytest.mark.parametrize("max_points", [1000, 20])  # the exact read, and one from the chunk overviews
def test_a_downsampled_20000_step_run_ends_at_its_real_final_value(
    alice: Any, key_client: Any, max_points: int
) -> None:
    rng = np.random.default_rng(8)
    steps = np.arange(1, 20_001)
    values = 2.3 * np.exp(-steps / 4000) + 0.1 + rng.normal(0, 0.01, len(steps))
    values[-1] = 0.1199
    node: Node = run_node(root(alice), "long", example_bundle())
    index_run(node.pk)
    run = Run.objects.get(node=node)
    metrics.replace(run, "train.loss", metrics.Points(steps, steps // 1000, 1.77e9 + steps.astype(float), values))

    answer = key_client(alice, "read").get(f"/api/v1/runs/{run.pk}/metrics/train.loss", {"max_points": max_points})
    history = strict_json(answer.content)
    assert history["downsampled"] and len(history["step"]) <= max_points
    assert (history["step"][0], history["value"][0]) == (1, values[0])
    assert (history["step"][-1], history["value"][-1]) == (20_000, 0.1199)
    assert history["epoch"][-1] == 20 and history["timestamp"][-1] == 1.77e9 + 20_000
    assert min(history["min"]) == values.min() and max(history["max"]) == values.max()
    assert all(a < b for a, b in zip(history["step"], history["step"][1:], strict=False))
