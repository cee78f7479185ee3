"""Compare runs side by side, and overlay their metric histories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from em.access import Level
from em.services import sharing, trash
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db

# What `em.runs.metrics.read` costs per series; everything around it is constant.
PER_SERIES_READ = 1


@pytest.fixture
def trio(alice, bob):
    """Two of alice's runs in different folders, and one of bob's he shared with her."""
    start = timezone.now() - timedelta(hours=1)
    a = make_run(
        folder(root(alice), "one"),
        "a",
        started_at=start,
        ended_at=start + timedelta(minutes=10),
        hparams={"lr": 0.1, "opt": {"name": "adam"}, "seed": 1},
        series={"train.loss": [3.0, 1.0], "val.acc": [0.9]},
    )
    b = make_run(
        folder(root(alice), "two"),
        "b",
        started_at=start,
        ended_at=start + timedelta(minutes=10),
        hparams={"lr": 0.1, "opt": {"name": "sgd"}},
        series={"train.loss": [2.0, 1.0]},
    )
    shared = folder(root(bob), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    c = make_run(shared, "c", hparams={"lr": 0.1}, series={"train.loss": [1.0]}, tags={"k": "v"})
    return a, b, c


def _rows(body, section):
    return {row["key"]: (row["values"], row["all_equal"]) for row in body[section]}


def test_compare_aligns_params_metrics_and_attributes_by_key(trio, alice, api):
    a, b, c = trio
    response = api(alice).post("/api/v1/runs/compare", {"runs": [str(a.pk), str(b.pk), str(c.pk)]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["id"] for row in body["runs"]] == [str(a.pk), str(b.pk), str(c.pk)]
    assert body["runs"][2]["tags"] == {"k": "v"} and body["runs"][0]["params"]["opt.name"] == "adam"
    params = _rows(body, "params")
    assert list(params) == ["lr", "opt.name", "seed"]  # the union of keys, sorted
    assert params["lr"] == (["0.1", "0.1", "0.1"], True)
    assert params["opt.name"] == (["adam", "sgd", None], False)
    assert params["seed"] == (["1", None, None], False)
    metrics = _rows(body, "metrics")
    assert list(metrics) == ["train.loss", "val.acc"]
    loss, equal = metrics["train.loss"]
    assert [v["latest"] for v in loss] == [1.0, 1.0, 1.0] and equal is True
    assert [v["min"] for v in loss] == [1.0, 1.0, 1.0] and loss[0]["max"] == 3.0 and loss[0]["count"] == 2
    assert metrics["val.acc"][0][1:] == [None, None] and metrics["val.acc"][1] is False
    attributes = _rows(body, "attributes")
    assert list(attributes) == ["name", "path", "status", "start", "end", "duration", "user"]
    assert attributes["name"] == (["a", "b", "c"], False)
    assert attributes["path"][0] == ["/alice/one/a", "/alice/two/b", "/bob/shared/c"]
    assert attributes["status"] == (["Complete"] * 3, True)
    assert attributes["duration"][0][:2] == [600.0, 600.0]
    assert attributes["user"] == (["alice", "alice", "bob"], False)


def test_compare_refuses_without_naming_the_run_it_cannot_show(trio, alice, bob, api):
    a, b, _ = trio
    hidden = make_run(folder(root(bob), "private"), "secret")
    response = api(alice).post("/api/v1/runs/compare", {"runs": [str(a.pk), str(hidden.pk)]}, format="json")
    assert response.status_code == 404
    assert str(hidden.pk) not in response.content.decode()
    trash.trash_node(node=b.node, by=alice)
    assert api(alice).post("/api/v1/runs/compare", {"runs": [str(a.pk), str(b.pk)]}, format="json").status_code == 404


@pytest.mark.parametrize("count", [0, 1, 101])
def test_compare_takes_two_to_a_hundred_runs(count, trio, alice, api):
    a = trio[0]
    ids = [str(a.pk)] * min(count, 1) + [f"00000000-0000-0000-0000-{i:012d}" for i in range(max(count - 1, 0))]
    response = api(alice).post("/api/v1/runs/compare", {"runs": ids}, format="json")
    assert response.status_code == 400, response.content


def _queries(client, url, body) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_compare_and_history_cost_the_same_for_more_runs_and_keys(alice, api):
    home = folder(root(alice), "many")
    made = [
        make_run(home, f"r{i}", hparams={f"p{j}": j for j in range(i + 1)}, series={"train.loss": [1.0, float(i)]})
        for i in range(8)
    ]
    client = api(alice)
    few, many = [str(r.pk) for r in made[:2]], [str(r.pk) for r in made]
    compare_few = _queries(client, "/api/v1/runs/compare", {"runs": few})
    compare_many = _queries(client, "/api/v1/runs/compare", {"runs": many})
    assert compare_few == compare_many
    history = {"keys": ["train.loss"], "max_points": 10}
    one = _queries(client, "/api/v1/metrics/history", {**history, "runs": few[:1]})
    eight = _queries(client, "/api/v1/metrics/history", {**history, "runs": many})
    assert eight - one <= 7 * PER_SERIES_READ


def test_history_overlays_the_runs_asked_for(trio, alice, api):
    a, b, c = trio
    response = api(alice).post(
        "/api/v1/metrics/history",
        {"runs": [str(c.pk), str(a.pk), str(b.pk)], "keys": ["training.loss", "val.acc"], "max_points": 100},
        format="json",
    )
    assert response.status_code == 200, response.content
    series = response.json()["series"]
    assert [(s["run"], s["key"]) for s in series] == [
        (str(c.pk), "train.loss"),
        (str(a.pk), "train.loss"),
        (str(a.pk), "val.acc"),
        (str(b.pk), "train.loss"),
    ]
    assert series[1]["value"] == [3.0, 1.0] and series[1]["step"] == [0, 1]
    assert series[1]["downsampled"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"runs": [], "keys": ["train.loss"]},
        {"runs": ["x"], "keys": ["train.loss"]},
        {"keys": ["nodot"]},
        {"keys": ["train.loss"], "max_points": 1},
    ],
)
def test_history_requests_are_checked(body, trio, alice, api):
    body = {"runs": [str(trio[0].pk)], **body}
    assert api(alice).post("/api/v1/metrics/history", body, format="json").status_code == 400
