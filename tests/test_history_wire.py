"""The compact form of metric histories (`Accept: application/vnd.em.history`) says exactly what the JSON
form says: the same points, nulls and bands, for one series and for many, whole and downsampled; errors
stay JSON; and the SDK reads it from a live server."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pytest

from accounts import services as account_services
from em.client.http import Client
from em.client.sdk.history import ACCEPT, MEDIA_TYPE, decode, metric_histories, metric_history
from em.runs import metrics
from em.runs.metrics import NO_EPOCH, Points
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


def _awkward(count: int) -> Points:
    """A series with what JSON spells null: NaN and infinite values, unknown epochs and times."""
    values = np.linspace(1.0, 0.1, count)
    values[3], values[5], values[7] = np.nan, np.inf, -np.inf
    epochs = np.arange(count) // 10
    epochs[::4] = NO_EPOCH
    stamps = 1.7e9 + np.arange(count, dtype=np.float64)
    stamps[2] = np.nan
    return Points(np.arange(count) * 3, epochs, stamps, values)


@pytest.fixture
def run(alice: Any) -> Any:
    made = make_run(folder(root(alice), "exp"), "r1", by=alice)
    metrics.replace(made, "train.loss", _awkward(5_000))
    metrics.replace(made, "val.acc", Points([1, 2], [0, 0], [1.7e9, 1.7e9 + 1], [0.5, 0.75]))
    return made


def _same(compact: dict[str, Any], plain: dict[str, Any]) -> None:
    assert compact.keys() == plain.keys(), (compact.keys(), plain.keys())
    for key, value in plain.items():
        if isinstance(value, list):
            assert len(compact[key]) == len(value), key
            for a, b in zip(compact[key], value, strict=True):
                assert a == b or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b)), (key, a, b)
        else:
            assert compact[key] == value, key


@pytest.mark.parametrize("max_points", [100_000, 500])
def test_one_series_reads_the_same_in_both_forms(api, alice, run, max_points):
    client = api(alice)
    url = f"/api/v1/runs/{run.node_id}/metrics/train.loss"
    plain = client.get(url, {"max_points": max_points}).json()
    answer = client.get(url, {"max_points": max_points}, HTTP_ACCEPT=MEDIA_TYPE)
    assert answer.status_code == 200
    assert answer["Content-Type"] == MEDIA_TYPE
    assert len(answer.content) < len(client.get(url, {"max_points": max_points}).content)
    (compact,) = decode(answer.content)
    _same(compact, plain)
    assert plain["downsampled"] is (max_points < 5_000)
    assert None in plain["epoch"]
    assert (None in plain["value"]) is not plain["downsampled"]  # means leave non-finite values out


def test_many_series_read_the_same_in_both_forms(api, alice, run):
    client = api(alice)
    body = {"runs": [str(run.node_id)], "keys": ["train.loss", "val.acc", "val.missing"], "max_points": 300}
    plain = client.post("/api/v1/metrics/history", body, format="json").json()["series"]
    answer = client.post("/api/v1/metrics/history", body, format="json", HTTP_ACCEPT=ACCEPT)
    assert answer["Content-Type"] == MEDIA_TYPE
    compact = decode(answer.content)
    assert [s["key"] for s in compact] == ["train.loss", "val.acc"]
    for a, b in zip(compact, plain, strict=True):
        _same(a, {**b, "run": str(b["run"])})


def test_errors_stay_json_and_strangers_see_nothing(api, alice, bob, run):
    missing = api(alice).get(f"/api/v1/runs/{run.node_id}/metrics/val.nothing", HTTP_ACCEPT=MEDIA_TYPE)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json"
    assert missing.json()["error"]["code"] == "not_found"
    hidden = api(bob).get(f"/api/v1/runs/{run.node_id}/metrics/train.loss", HTTP_ACCEPT=MEDIA_TYPE)
    assert hidden.status_code == 404
    assert hidden.json() == api(bob).get(f"/api/v1/runs/{uuid.uuid4()}/metrics/train.loss").json()


@pytest.mark.django_db(transaction=True)
def test_the_sdk_reads_histories_from_a_live_server(live_server, alice, run):
    key = account_services.create_key(user=alice, name="sdk", scope="read")[1]
    with Client(live_server.url, key) as client:
        whole = metric_history(str(run.node_id), "train.loss", max_points=100_000, client=client)
        assert whole["count"] == len(whole["step"]) == 5_000 and not whole["downsampled"]
        assert whole["step"][:3] == [0, 3, 6] and whole["epoch"][:2] == [None, 0]
        assert whole["timestamp"][2] is None and whole["value"][3] is None and whole["value"][5] is None
        both = metric_histories([str(run.node_id)], ["val.acc", "train.loss"], max_points=50, client=client)
    assert [(h["run"], h["key"]) for h in both] == [(str(run.node_id), "val.acc"), (str(run.node_id), "train.loss")]
    assert both[0]["value"] == [0.5, 0.75] and both[1]["downsampled"] and len(both[1]["min"]) <= 50


def test_a_long_series_sampled_through_the_api_costs_a_fixed_few_queries(
    key_client: Any, alice: Any, django_assert_max_num_queries: Any
) -> None:
    """100,000 points to 1,000 buckets: what a chart of a long run asks for, answered from the chunks'
    overviews (their finest level) whatever the series' length, and the same as the selector's read."""
    made = make_run(folder(root(alice), "long"), "r", by=alice)
    steps = np.arange(100_000)
    points = Points(steps, np.full(len(steps), NO_EPOCH), 1.7e9 + steps * 0.05, np.cos(steps / 700.0))
    series = metrics.replace(made, "train.loss", points)
    client = key_client(alice, "read")
    url = f"/api/v1/runs/{made.node_id}/metrics/train.loss"
    client.get(url, {"max_points": 1_000}, HTTP_ACCEPT=MEDIA_TYPE)  # the key's first use is written down
    with django_assert_max_num_queries(4):  # the key with its user, the node with its run, the series, its overviews
        answer = client.get(url, {"max_points": 1_000}, HTTP_ACCEPT=MEDIA_TYPE)
    (compact,) = decode(answer.content)
    assert compact["downsampled"] and 900 < len(compact["value"]) <= 1_000
    _same(compact, dict(metrics.read(series, max_points=1_000)))
    assert (compact["value"][0], compact["value"][-1]) == (1.0, math.cos(99_999 / 700.0))
