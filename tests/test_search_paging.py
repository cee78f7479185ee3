"""What the fast search path must not change: a comparison on the metric the runs are ordered by reads
the joined series, text params compare through their indexed prefix, and a page's count stops at a limit
(saying so) unless asked for in full — each giving exactly the answers of the plain reading."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.api.pagination import CappedCountPagination
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


def _run_queries(ctx: CaptureQueriesContext) -> list[str]:
    """The captured queries that search runs (joining the series they are ordered by as `order_0`), not
    those reading the key, the folder, the grants or the page's rows."""
    return [q["sql"] for q in ctx.captured_queries if "order_0" in q["sql"]]


def test_a_few_matches_are_paged_and_counted_in_one_query(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    for query in ({}, {"page_size": 2}, {"page_size": 2, "page": 3}):
        with CaptureQueriesContext(connection) as ctx:
            body = page(client, filter="metrics.val.acc > 0", order_by="metrics.val.acc", **query)
        searches = _run_queries(ctx)
        assert len(searches) == 1 and "COUNT(*) OVER ()" in searches[0], searches
        assert (body["count"], body["count_exact"]) == (5, True)
    assert names(body) == ["r5"] and body["next"] is None
    assert page(client, filter="metrics.val.acc > 7") | {"results": None} == {
        "count": 0,
        "count_exact": True,
        "next": None,
        "previous": None,
        "results": None,
    }


def test_pages_walk_every_match_by_their_next_links(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    first = page(client, filter="metrics.val.acc > 0", order_by="metrics.val.acc", page_size=2)
    assert (first["count"], first["count_exact"], names(first)) == (5, True, ["r1", "r2"])
    seen, body = names(first), first
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += names(body)
        assert body["count"] == 5
    assert seen == ["r1", "r2", "r3", "r4", "r5"]
    past = client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page_size": 2, "page": 4})
    assert past.status_code == 404
    assert client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page": "0"}).status_code == 404
    assert client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page": "two"}).status_code == 404
    assert client.get(SEARCH, {"filter": "metrics.val.acc > 0", "page": "9" * 40}).status_code == 404


@pytest.fixture
def limit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CappedCountPagination, "count_limit", 3)


@pytest.mark.usefixtures("limit_3")
def test_counts_stop_at_the_limit_the_same_on_every_page(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    query = {"filter": "metrics.val.acc > 0", "order_by": "metrics.val.acc", "page_size": 2}
    answers = [page(client, **query, page=number) for number in (1, 2, 3)]
    assert [(a["count"], a["count_exact"]) for a in answers] == [(3, False)] * 3
    assert [names(a) for a in answers] == [["r1", "r2"], ["r3", "r4"], ["r5"]]
    assert answers[0]["next"] is not None and answers[2]["next"] is None
    with CaptureQueriesContext(connection) as ctx:
        page(client, **query)
    sample, ordered = _run_queries(ctx)  # the sample held more than the limit: the page is read in order
    assert "COUNT(*) OVER ()" in sample and "LIMIT 4" in sample  # up to the limit and one more
    assert "COUNT(*)" not in ordered


@pytest.mark.usefixtures("limit_3")
def test_a_sample_of_the_limit_is_every_match(api: Any, alice: Any, exp: Node) -> None:
    body = page(api(alice), filter="metrics.val.acc > 0.2", order_by="metrics.val.acc DESC", page_size=2)
    assert (body["count"], body["count_exact"], names(body)) == (3, True, ["r5", "r4"])
    body = page(api(alice), filter="metrics.val.acc > 0.1", page_size=2)
    assert (body["count"], body["count_exact"]) == (3, False)


@pytest.mark.usefixtures("limit_3")
def test_the_exact_count_is_there_when_asked_for(api: Any, alice: Any, exp: Node) -> None:
    client = api(alice)
    query = {"filter": "metrics.val.acc > 0", "order_by": "metrics.val.acc", "page_size": 2}
    for asked in ("1", "true"):
        body = page(client, **query, exact_count=asked)
        assert (body["count"], body["count_exact"]) == (5, True)
    last = page(client, **query, page="last")
    assert (last["count"], last["count_exact"], names(last)) == (5, True, ["r5"])
    assert (page(client, **query, exact_count="0")["count_exact"]) is False


@pytest.mark.usefixtures("limit_3")
def test_export_takes_every_match_past_the_count_limit(api: Any, alice: Any, exp: Node) -> None:
    response = api(alice).get(f"{SEARCH}/export.csv", {"filter": "metrics.val.acc > 0"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 5
    assert response["X-Total-Count"] == "5"


@pytest.mark.parametrize(
    "order_by",
    [
        "",
        "metrics.val.acc DESC",
        "metrics.val.acc",
        "params.optimizer DESC, metrics.val.acc",
        "params.note DESC",
        "attributes.name DESC",
        "attributes.duration",
        "attributes.created DESC",
        "tags.none",
    ],
)
def test_a_sorted_sample_orders_as_the_ordered_query(api: Any, alice: Any, exp: Node, order_by: str) -> None:
    """Few matches are sorted after sampling them; `exact_count` reads the ordered query: the same runs
    in the same order, runs without the key last either way."""
    client = api(alice)
    for query in ({}, {"filter": "metrics.val.acc >= 0.1"}):
        total = page(client, **query)["count"]
        for number in range(1, -(-total // 3) + 1):
            asked = {**query, "page_size": 3, "page": number} | ({"order_by": order_by} if order_by else {})
            assert names(page(client, **asked)) == names(page(client, **asked, exact_count=1)), number
