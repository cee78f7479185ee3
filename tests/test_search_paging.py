"""What the fast search path must not change: a filtered page counts its matches in the query that
fetches it, a comparison on the metric the runs are ordered by reads the joined series, and text params
compare through their indexed prefix — each giving exactly the answers of the plain reading."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.models import Node
from em.models.runs import TEXT_PREFIX
from tests.factories import folder, root
from tests.test_search_language import make_run

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/runs"
LONG = "x" * TEXT_PREFIX + "-long"


@pytest.fixture
def exp(alice: Any) -> Node:
    """r0..r5 with val.acc 0.0..0.5 and an optimizer; `bare` has neither acc nor optimizer."""
    parent = folder(root(alice), "exp")
    for i in range(6):
        make_run(parent, f"r{i}", params={"optimizer": "adam" if i % 2 else "sgd"}, metrics={"val.acc": (0, 1, i / 10)})
    make_run(parent, "bare", params={"note": LONG})
    make_run(parent, "near", params={"note": LONG[:TEXT_PREFIX] + "-other"})
    return parent


def page(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [row["name"] for row in body["results"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.val.acc > 0.25", ["r5", "r4", "r3"]),
        ("metrics.val.acc >= 0.2 AND params.optimizer = 'adam'", ["r5", "r3"]),
        ("MIN(metrics.val.acc) = 0 AND metrics.val.acc < 0.15", ["r1", "r0"]),
        ("metrics.val.acc IN (0.1, 0.3)", ["r3", "r1"]),
        # not required of every match: read through EXISTS, so runs without val.acc stay possible
        ("metrics.val.acc > 0.4 OR params.note = '" + LONG + "'", ["r5", "bare"]),
        ("NOT metrics.val.acc > 0.15", ["r1", "r0", "bare", "near"]),
        ("metrics.val.acc != 0.5", ["r4", "r3", "r2", "r1", "r0"]),
        ("metrics.val.acc NOT IN (0.5, 0.4)", ["r3", "r2", "r1", "r0"]),
    ],
)
def test_filter_on_the_ordered_metric(api: Any, alice: Any, exp: Node, text: str, expected: list[str]) -> None:
    body = page(api(alice), filter=text, order_by="metrics.val.acc DESC, attributes.name")
    assert names(body) == expected
    assert body["count"] == len(expected)


def test_text_params_compare_in_full_past_the_indexed_prefix(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    assert names(page(client, filter=f"params.note = '{LONG}'")) == ["bare"]
    assert set(names(page(client, filter=f"params.note != '{LONG}'"))) == {"near"}
    assert set(names(page(client, filter=f"params.note IN ('{LONG}', 'sgd')"))) == {"bare"}
    assert set(names(page(client, filter=f"params.optimizer IN ('adam', '{LONG}')"))) == {"r1", "r3", "r5"}
    assert set(names(page(client, filter=f"params.note NOT IN ('{LONG}', 'sgd')"))) == {"near"}
    assert names(page(client, filter=f"params.note = '{LONG[:TEXT_PREFIX]}'")) == []


def test_filtered_pages_count_in_the_page_query(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    with CaptureQueriesContext(connection) as ctx:
        first = page(client, filter="metrics.val.acc > 0", order_by="metrics.val.acc", page_size=2)
    assert not any("COUNT(*) AS" in q["sql"] for q in ctx.captured_queries)
    assert (first["count"], names(first)) == (5, ["r1", "r2"])
    last = page(client, filter="metrics.val.acc > 0", order_by="metrics.val.acc", page_size=2, page=3)
    assert (last["count"], names(last), last["next"]) == (5, ["r5"], None)
    assert page(client, filter="metrics.val.acc > 7")["count"] == 0
    past = client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page_size": 2, "page": 4})
    assert past.status_code == 404
    assert client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page": "last", "page_size": 2}).json()["count"] == 5
    assert client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page": "0"}).status_code == 404
