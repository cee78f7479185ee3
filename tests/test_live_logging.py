"""Live logging: batches of points into a Running run, read back exactly or downsampled."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from em.models import MetricSeries, Node, RunStatus
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(alice):
    return make_run(folder(root(alice), "exp"), "live", status=RunStatus.RUNNING)


def _post(client, run, metrics):
    return client.post(f"/api/v1/runs/{run.pk}/metrics", {"metrics": metrics}, format="json")


def _raw(client, run, text: str):
    return client.post(f"/api/v1/runs/{run.pk}/metrics", text, content_type="application/json")


def test_batches_append_and_read_back_exactly(live, alice, api):
    client = api(alice)
    rng = np.random.default_rng(7)
    values = rng.normal(size=2_500).tolist()
    for start in range(0, 2_500, 1_000):
        part = slice(start, start + 1_000)
        steps = list(range(start, min(start + 1_000, 2_500)))
        response = _post(
            client,
            live,
            {
                "training.loss": {
                    "step": steps,
                    "epoch": [s // 100 for s in steps],
                    "timestamp": [1.7e9 + s for s in steps],
                    "value": values[part],
                },
                "val.acc": {"step": steps[:1], "value": [0.5], "epoch": None},
            },
        )
        assert response.status_code == 200, response.content
        assert response.json() == {"appended": len(steps) + 1}
    series = MetricSeries.objects.get(run=live, key="train.loss")
    assert series.count == 2_500
    assert series.latest == values[-1] and series.min == min(values) and series.max == max(values)
    body = client.get(f"/api/v1/runs/{live.pk}/metrics/train.loss?max_points=100000").json()
    assert body["count"] == 2_500 and body["downsampled"] is False
    assert body["value"] == values
    assert body["step"] == list(range(2_500))
    assert body["epoch"] == [s // 100 for s in range(2_500)]
    assert body["timestamp"] == [1.7e9 + s for s in range(2_500)]
    assert client.get(f"/api/v1/runs/{live.pk}/metrics/val.acc").json()["value"] == [0.5, 0.5, 0.5]


def test_a_downsampled_read_keeps_the_extremes(live, alice, api):
    client = api(alice)
    values = [math.sin(i / 50) for i in range(10_000)]
    values[1234] = 99.0
    assert _post(client, live, {"train.loss": {"step": list(range(10_000)), "value": values}}).status_code == 200
    body = client.get(f"/api/v1/runs/{live.pk}/metrics/train.loss", {"max_points": 100}).json()
    assert body["downsampled"] is True and body["count"] == 10_000
    assert len(body["value"]) <= 100
    assert max(body["max"] if body["max"] is not None else body["value"]) == 99.0


def test_timestamps_default_to_now_and_accept_iso_times(live, alice, api):
    client = api(alice)
    before = time.time()
    _post(client, live, {"train.a": {"step": [1], "value": [1.0]}})
    _post(client, live, {"train.b": {"step": [1], "value": [1.0], "timestamp": ["2026-03-01T10:15:19+08:00"]}})
    a = client.get(f"/api/v1/runs/{live.pk}/metrics/train.a").json()["timestamp"][0]
    b = client.get(f"/api/v1/runs/{live.pk}/metrics/train.b").json()["timestamp"][0]
    assert before - 1 <= a <= time.time() + 1
    assert b == 1772331319.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"metrics": {"val.x": {"step": [0, 1.5], "value": [1, 2]}}}', ["val.x", "step[1]"]),
        ('{"metrics": {"val.x": {"step": [0, true], "value": [1, 2]}}}', ["step[1]"]),
        ('{"metrics": {"val.x": {"step": [0, 1], "value": [1, "2"]}}}', ["value[1]"]),
        ('{"metrics": {"val.x": {"step": [0, 1], "value": [1, 2], "epoch": [0, 0.5]}}}', ["epoch[1]"]),
        ('{"metrics": {"val.x": {"step": [0, 99999999999999999999], "value": [1, 2]}}}', ["step[1]", "64-bit"]),
        ('{"metrics": {"val.x": {"step": [0, 1], "value": [1, 2], "timestamp": [0, "noon"]}}}', ["timestamp[1]"]),
        ('{"metrics": {"val.x": {"step": [0, 1], "value": [1]}}}', ["val.x", "step", "value"]),
        ('{"metrics": {"val.x": {"step": [0], "value": [1], "timestamp": [1, 2]}}}', ["timestamp"]),
        ('{"metrics": {"val.x": {"value": [1]}}}', ["step"]),
        ('{"metrics": {"val.x": {"step": [], "value": []}}}', ["at least one"]),
        ('{"metrics": {"loss": {"step": [0], "value": [1]}}}', ["<stage>.<name>"]),
        ('{"metrics": {"train.x": {"step": [0], "value": [1]}, "training.x": {"step": [1], "value": [2]}}}', ["once"]),
        ('{"metrics": {"val.x": {"step": [0], "value": [1], "colour": [1]}}}', ["colour"]),
        ('{"metrics": {}}', ["metrics"]),
        ('{"metrics": {"val.x": {"step": [0', ["JSON"]),
    ],
)
def test_bad_points_are_named_and_nothing_is_written(text, words, live, alice, api):
    _post(api(alice), live, {"val.ok": {"step": [0], "value": [1]}})
    response = _raw(api(alice), live, text)
    assert response.status_code == 400, response.content
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message
    assert list(MetricSeries.objects.filter(run=live).values_list("key", "count")) == [("val.ok", 1)]


def test_nan_and_infinities_are_data_kept_out_of_min_and_max(live, alice, api):
    text = '{"metrics": {"train.loss": {"step": [0, 1, 2, 3], "value": [1.0, NaN, Infinity, 0.5]}}}'
    response = _raw(api(alice), live, text)
    assert response.status_code == 200, response.content
    assert response.json() == {"appended": 4}
    series = MetricSeries.objects.get(run=live, key="train.loss")
    assert (series.count, series.min, series.max, series.latest) == (4, 0.5, 1.0, 0.5)
    history = api(alice).get(f"/api/v1/runs/{live.pk}/metrics/train.loss").json()
    assert history["step"] == [0, 1, 2, 3]
    assert history["value"] == [1.0, None, None, 0.5]  # JSON has no NaN: a gap in the chart


def test_a_batch_is_all_or_nothing(live, alice, api):
    good, bad = '"train.good": {"step": [0], "value": [1]}', '"train.bad": {"step": [0], "value": ["x"]}'
    response = _raw(api(alice), live, f'{{"metrics": {{{good}, {bad}}}}}')
    assert response.status_code == 400
    assert not MetricSeries.objects.filter(run=live).exists()


def test_at_most_a_hundred_thousand_points_a_call(live, alice, api):
    def batch(n: int) -> dict:
        return {"train.a": {"step": list(range(n)), "value": [0.0] * n}}

    client = api(alice)
    too_many = {**batch(60_000), "train.b": batch(40_001)["train.a"]}
    assert _post(client, live, too_many).status_code == 400
    assert _post(client, live, batch(100_000)).json() == {"appended": 100_000}


@pytest.mark.parametrize("status", [RunStatus.COMPLETE, RunStatus.ERROR, RunStatus.KILLED])
def test_only_a_running_run_takes_live_points(status, alice, api):
    run = make_run(folder(root(alice), "done"), "r", status=status)
    response = _post(api(alice), run, {"train.loss": {"step": [0], "value": [1.0]}})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert not MetricSeries.objects.filter(run=run).exists()


def test_logging_stops_once_the_run_is_finished(live, alice, api):
    client = api(alice)
    assert _post(client, live, {"train.loss": {"step": [0], "value": [1.0]}}).status_code == 200
    client.patch(f"/api/v1/runs/{live.pk}", {"status": "Complete"}, format="json")
    assert _post(client, live, {"train.loss": {"step": [1], "value": [1.0]}}).status_code == 409


def test_history_of_a_missing_metric_is_not_found(live, alice, api):
    client = api(alice)
    assert client.get(f"/api/v1/runs/{live.pk}/metrics/train.nothing").status_code == 404
    assert client.get(f"/api/v1/runs/{live.pk}/metrics/train.x?max_points=1").status_code == 400


def test_a_new_live_runs_relations_read_without_a_query_and_still_reach_the_database(alice, django_assert_num_queries):
    """`create_live_run` knows what its run holds (its params, no metrics, no tags) and caches it as
    `prefetch_related` would: reading costs nothing, and the querysets' other uses still hit the table."""
    from em.runs import live
    from em.runs.services import create_live_run

    run = create_live_run(parent=root(alice), name="cached", by=alice, hparams={"lr": 0.1, "opt": "adam"})
    with django_assert_num_queries(0):
        assert [p.key for p in run.params.all()] == ["lr", "opt"]
        assert list(run.metrics.all()) == [] and list(run.tags.all()) == []
    batch = live.parse_batch({"metrics": {"train.loss": {"step": [1], "value": [1.0]}}}, now=time.time())
    live.append_batch(run=run, batch=batch, by=alice)
    assert run.metrics.filter(key="train.loss").count() == 1
    run.metrics.all().delete()
    assert not MetricSeries.objects.filter(run=run).exists()


# --- a run made with its first points (POST /runs with `metrics`) ----------------------------------------


def _start(client, text: str):
    return client.post("/api/v1/runs", text, content_type="application/json")


def test_a_run_made_with_its_first_points_holds_them_and_takes_more(alice, api):
    folder(root(alice), "exp")
    client = api(alice)
    body = (
        '{"parent_path": "/alice/exp", "name": "imported", "hparams": {"lr": 0.1}, "metrics": {'
        '"train.loss": {"step": [0, 1, 2], "value": [1.0, NaN, 0.5], "timestamp": [1.7e9, 1.7e9, 1.7e9]},'
        '"val.accuracy": {"step": [2], "value": [0.9]}}}'
    )
    response = _start(client, body)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["run"]["status"] == "Running" and made["params"] == {"lr": "0.1"}
    assert made["metrics"]["train.loss"]["count"] == 3 and made["metrics"]["train.loss"]["latest"] == 0.5
    assert made["metrics"]["val.accuracy"]["latest"] == 0.9
    run_id = made["id"]
    history = client.get(f"/api/v1/runs/{run_id}/metrics/train.loss").json()
    assert history["step"] == [0, 1, 2] and history["value"] == [1.0, None, 0.5]  # the NaN kept as a gap
    # The answer said what is stored, and live logging goes on from there.
    assert client.get(f"/api/v1/runs/{run_id}").json()["metrics"] == made["metrics"]
    more = client.post(
        f"/api/v1/runs/{run_id}/metrics", {"metrics": {"train.loss": {"step": [3], "value": [0.25]}}}, format="json"
    )
    assert more.json() == {"appended": 1}
    series = MetricSeries.objects.get(run_id=run_id, key="train.loss")
    assert (series.count, series.min, series.max, series.latest) == (4, 0.25, 1.0, 0.25)


@pytest.mark.parametrize(
    ("metrics", "words"),
    [
        ('{"val.x": {"step": [0, 1], "value": [1]}}', ["val.x", "value"]),
        ('{"loss": {"step": [0], "value": [1]}}', ["<stage>.<name>"]),
        ('{"val.x": {"step": [0], "value": ["x"]}}', ["value[0]"]),
        ("[1, 2]", ["metrics"]),
    ],
)
def test_a_bad_first_point_refuses_the_call_and_makes_no_run(metrics, words, alice, api):
    folder(root(alice), "exp")
    response = _start(api(alice), f'{{"parent_path": "/alice/exp", "name": "imported", "metrics": {metrics}}}')
    assert response.status_code == 400, response.content
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message
    assert not Node.objects.filter(name="imported").exists()


def test_a_run_whose_first_points_cannot_be_stored_leaves_nothing_behind(alice, api):
    """The points are checked before anything is written; a name clash, found by the node's insert, is
    found before the points are written: no second run, no second series."""
    exp = folder(root(alice), "exp")
    client = api(alice)
    first = {"parent": str(exp.pk), "name": "twice", "metrics": {"val.x": {"step": [0], "value": [1.0]}}}
    assert client.post("/api/v1/runs", first, format="json").status_code == 201
    assert client.post("/api/v1/runs", first, format="json").status_code == 409
    assert Node.objects.filter(name="twice").count() == 1
    assert MetricSeries.objects.filter(key="val.x").count() == 1


def test_empty_first_points_make_a_run_with_none(alice, api):
    exp = folder(root(alice), "exp")
    response = api(alice).post("/api/v1/runs", {"parent": str(exp.pk), "name": "r", "metrics": {}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["metrics"] == {}
    assert not MetricSeries.objects.filter(run_id=response.json()["id"]).exists()


def test_a_run_logged_after_the_fact_arrives_ended_with_its_times(alice, api):
    exp = folder(root(alice), "exp")
    client = api(alice)
    body = {
        "parent": str(exp.pk),
        "name": "imported",
        "hparams": {"lr": 0.1},
        "metrics": {"val.accuracy": {"step": [1, 2], "value": [0.8, 0.9]}},
        "status": "Complete",
        "started_at": "2026-11-30T10:00:00Z",
        "ended_at": "2026-11-30T11:30:00Z",
    }
    response = client.post("/api/v1/runs", body, format="json")
    assert response.status_code == 201, response.content
    run = response.json()["run"]
    assert run["status"] == "Complete"
    assert (run["started_at"], run["ended_at"]) == ("2026-11-30T10:00:00Z", "2026-11-30T11:30:00Z")
    assert response.json()["metrics"]["val.accuracy"]["latest"] == 0.9
    # Ended: it takes no more live points, as any finished run.
    late = client.post(
        f"/api/v1/runs/{response.json()['id']}/metrics", {"metrics": {"val.accuracy": _one()}}, format="json"
    )
    assert late.status_code == 409


def _one() -> dict:
    return {"step": [3], "value": [1.0]}


@pytest.mark.parametrize(
    ("times", "words"),
    [
        ({"status": "Done"}, ["Unknown status"]),
        ({"ended_at": "2026-11-30T11:00:00Z"}, ["`ended_at`", "`status`"]),
        ({"status": "Killed", "started_at": "2026-11-30T11:00:00Z", "ended_at": "2026-11-30T10:00:00Z"}, ["before"]),
    ],
)
def test_a_new_runs_end_is_checked_as_an_end_is_and_a_refused_one_makes_no_run(times, words, alice, api):
    exp = folder(root(alice), "exp")
    body = {"parent": str(exp.pk), "name": "imported", "metrics": {"val.x": _one()}, **times}
    response = api(alice).post("/api/v1/runs", body, format="json")
    assert response.status_code == 400, response.content
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message
    assert not Node.objects.filter(name="imported").exists()


def test_an_ended_run_without_an_end_time_ends_now(alice, api):
    exp = folder(root(alice), "exp")
    response = api(alice).post("/api/v1/runs", {"parent": str(exp.pk), "name": "r", "status": "Error"}, format="json")
    assert response.status_code == 201, response.content
    run = response.json()["run"]
    assert run["status"] == "Error" and run["ended_at"] is not None and run["ended_at"] >= run["started_at"]
