"""GET /api/v1/runs and /api/v1/runs/export.csv: scope and permissions, pagination, ordering, errors,
the CSV, and a query count that does not grow with the number of runs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.access import Level
from em.api.search import CSV_COLUMNS
from em.models import Kind, Node, Run
from em.runs.selectors import export_batches, search_runs
from em.services import sharing, trash
from tests.factories import folder, root
from tests.test_search_language import JAN, make_run

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/runs"
EXPORT = "/api/v1/runs/export.csv"


@pytest.fixture
def trees(alice: Any, bob: Any) -> dict[str, Node]:
    """Alice's runs in exp/ (one a level down, one trashed); bob's private and shared runs."""
    exp = folder(root(alice), "exp")
    sub = folder(exp, "sub")
    made = {
        "a1": make_run(
            exp,
            "a1",
            started=JAN,
            ended=JAN + timedelta(seconds=90),
            params={"lr": 0.01, "optimizer": "adam"},
            metrics={"val.acc": (0.5, 0.9, 0.9)},
            tags={"team": "vision"},
        ),
        "a2": make_run(
            sub, "a2", started=JAN + timedelta(days=1), params={"lr": 0.1}, metrics={"val.acc": (0, 1, 0.7)}
        ),
        "gone": make_run(exp, "gone", params={"lr": 0.01}),
        "b-private": make_run(root(bob), "b-private", params={"lr": 0.01}),
    }
    shared = folder(root(bob), "shared")
    made["b-shared"] = make_run(folder(shared, "deep"), "b-shared", params={"lr": 0.01, "batch": 64})
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    trash.trash_node(node=made["gone"], by=alice)
    made["exp"], made["sub"], made["shared"] = exp, sub, shared
    return made


def hits(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_everything_visible_and_nothing_else(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    assert sorted(hits(api(alice).get(SEARCH))) == ["a1", "a2", "b-shared"]
    assert sorted(hits(api(alice).get(SEARCH, {"filter": "params.lr = 0.01"}))) == ["a1", "b-shared"]


def test_a_strangers_runs_never_appear(api: Any, make_user: Any, trees: dict[str, Node]) -> None:
    stranger = make_user("stranger")
    assert hits(api(stranger).get(SEARCH)) == []
    response = api(stranger).get(SEARCH, {"folder": str(trees["exp"].pk)})
    assert response.status_code == 404
    assert api(stranger).get(SEARCH, {"folder_path": "/alice/exp"}).status_code == 404


def test_folder_scope_is_recursive(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    assert sorted(hits(api(alice).get(SEARCH, {"folder": str(trees["exp"].pk)}))) == ["a1", "a2"]
    assert hits(api(alice).get(SEARCH, {"folder_path": "/alice/exp/sub"})) == ["a2"]
    assert hits(api(alice).get(SEARCH, {"folder_path": "/bob/shared"})) == ["b-shared"]


def test_trashed_runs_never_appear(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    assert "gone" not in hits(api(alice).get(SEARCH, {"filter": "attributes.name = 'gone'"}))
    trash.trash_node(node=trees["sub"], by=alice)
    assert sorted(hits(api(alice).get(SEARCH))) == ["a1", "b-shared"]


def test_anonymous_and_read_keys(api: Any, key_client: Any, alice: Any, trees: dict[str, Node]) -> None:
    assert api().get(SEARCH).status_code in (401, 403)
    assert sorted(hits(key_client(alice, "read").get(SEARCH))) == ["a1", "a2", "b-shared"]


def test_row_shape(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    response = api(alice).get(SEARCH, {"filter": "tags.team = 'vision'"})
    [row] = response.json()["results"]
    assert row["id"] == str(trees["a1"].pk)
    assert row["path"] == "/alice/exp/a1"
    assert row["access"] == "owner"
    assert row["run"] == {
        "status": "Complete",
        "started_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:01:30Z",
        "duration": 90.0,
        "source_type": "SDK",
        "source_name": "",
        "alternative_name": "",
    }
    assert row["params"] == {"lr": "0.01", "optimizer": "adam"}
    assert row["metrics"] == {"val.acc": 0.9}
    assert row["tags"] == {"team": "vision"}


def test_order_and_pages(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    client = api(alice)
    assert hits(client.get(SEARCH, {"order_by": "metrics.val.acc DESC"})) == ["a1", "a2", "b-shared"]
    assert hits(client.get(SEARCH, {"order_by": ["params.batch DESC", "attributes.name"]})) == ["b-shared", "a1", "a2"]
    first = client.get(SEARCH, {"order_by": "params.lr, attributes.name", "page_size": 2}).json()
    assert first["count"] == 3
    assert [r["name"] for r in first["results"]] == ["a1", "b-shared"]
    second = client.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["a2"]
    assert second["next"] is None


def test_bad_filter_is_a_400_pointing_at_the_token(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    response = api(alice).get(SEARCH, {"filter": "metrics.val.acc > 0.5 AND (params.lr = )"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_filter",
            "message": "Unexpected ')' at column 40: expected a value",
            "detail": {"position": 39, "line": 1, "column": 40, "token": ")", "expected": ["a value"]},
        }
    }
    response = api(alice).get(SEARCH, {"order_by": "metrics.x sideways"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_order_by"
    response = api(alice).get(EXPORT, {"filter": "tags.x = 1"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_filter"
    both = api(alice).get(SEARCH, {"folder": str(trees["exp"].pk), "folder_path": "/alice/exp"})
    assert both.status_code == 400


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    rows = _csv(api(alice).get(EXPORT, {"order_by": "attributes.name"}))
    assert rows[0] == [*CSV_COLUMNS, "params.batch", "params.lr", "params.optimizer", "metrics.val.acc"]
    assert CSV_COLUMNS == ["Run ID", "Name", "Source Type", "Source Name", "User", "Status"]
    assert rows[1] == [str(trees["a1"].pk), "a1", "SDK", "", "alice", "Complete", "", "0.01", "adam", "0.9"]
    assert rows[2][1:] == ["a2", "SDK", "", "alice", "Complete", "", "0.1", "", "0.7"]
    assert rows[3][1:] == ["b-shared", "SDK", "", "bob", "Complete", "64", "0.01", "", ""]
    assert len(rows) == 4
    only = _csv(api(alice).get(EXPORT, {"filter": "params.lr = 0.1", "folder_path": "/alice/exp"}))
    assert only[0][6:] == ["params.lr", "metrics.val.acc"]
    assert [r[1] for r in only[1:]] == ["a2"]


def test_csv_export_says_when_it_stops_at_the_limit(
    api: Any, alice: Any, trees: dict[str, Node], settings: Any
) -> None:
    settings.EM_EXPORT_MAX_ROWS = 2
    response = api(alice).get(EXPORT, {"order_by": "attributes.name"})
    assert response["X-EM-Truncated"] == "2 of 3 runs"
    rows = _csv(response)
    assert [r[1] for r in rows[1:3]] == ["a1", "a2"]
    assert rows[3] == ["# truncated: 1 more runs matched; narrow the filter to export them"]


def test_csv_export_negotiates_text_csv(api: Any, alice: Any, trees: dict[str, Node]) -> None:
    assert len(_csv(api(alice).get(EXPORT, HTTP_ACCEPT="text/csv"))) == 4
    bad = api(alice).get(EXPORT, {"filter": "("}, HTTP_ACCEPT="text/csv")
    assert bad.status_code == 400
    assert bad.content.decode().splitlines()[1].startswith("invalid_filter,")


def _page_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        query = {"filter": "params.lr > 0 AND metrics.acc > 0", "order_by": "metrics.acc DESC", "page_size": 4}
        response = client.get(SEARCH, query)
    assert response.status_code == 200
    assert response.json()["next"] is not None  # a page that is not the last one: the matches are counted
    return len(ctx.captured_queries)


def _fill(parent: Node, count: int) -> None:
    for i in range(count):
        metrics = {"acc": (0.0, 1.0, i / count)}
        make_run(parent, f"run-{i:04d}", params={"lr": 0.1, "x": i}, metrics=metrics, tags={"i": "t"})


def test_page_queries_do_not_grow_with_runs(api: Any, alice: Any, bob: Any, django_assert_max_num_queries: Any) -> None:
    shared = folder(root(bob), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    _fill(folder(root(alice), "mine"), 5)
    _fill(shared, 5)
    client = api(alice)
    few = _page_queries(client)
    _fill(folder(root(alice), "more"), 95)
    _fill(folder(shared, "more"), 95)
    assert _page_queries(client) == few
    # session, user, grant roots, page ids with their count, nodes, params + metrics + tags, grants on the
    # shared runs' paths, display paths
    with django_assert_max_num_queries(8):
        _page_queries(client)


def _export(client: Any) -> tuple[int, list[list[str]]]:
    """The CSV rows of an export of every run, and the queries it took, streaming included."""
    with CaptureQueriesContext(connection) as ctx:
        rows = _csv(client.get(EXPORT))
    return len(ctx.captured_queries), rows


def test_export_queries_do_not_grow_with_runs(api: Any, alice: Any, bob: Any) -> None:
    shared = folder(root(bob), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    _fill(folder(root(alice), "mine"), 5)
    _fill(shared, 5)
    client = api(alice)
    few, rows = _export(client)
    assert len(rows) == 1 + 10
    _fill(folder(root(alice), "more"), 145)
    _fill(folder(shared, "more"), 145)
    many, rows = _export(client)
    assert len(rows) == 1 + 300
    assert rows[0][6:] == ["params.lr", "params.x", "metrics.acc"]
    # session, user, scope, count, param keys, metric keys, then per 1,000 runs: heads, params, metrics
    assert many == few == 9


def test_export_of_many_runs_keeps_each_value_in_its_row_and_column(api: Any, alice: Any, bob: Any) -> None:
    sweep = folder(root(alice), "sweep")
    for i in range(120):
        make_run(
            sweep,
            f"r{i:03d}",
            status="Complete" if i % 4 else "Error",
            params={"lr": i / 1000, **({"odd": "yes"} if i % 2 else {})},
            metrics={"acc": (0.0, 1.0, i / 120)} if i % 3 else {"loss": (0.0, 1.0, None)},  # type: ignore[dict-item]
        )
    shared = folder(root(bob), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.EDIT, by=bob)
    theirs = folder(shared, "by-alice", by=alice, kind=Kind.RUN)
    Run.objects.create(node=theirs, source_type="CLI", source_name="train.py")
    make_run(shared, "by-bob", params={"lr": 1})

    header, *rows = _csv(api(alice).get(EXPORT, {"order_by": "attributes.name"}))
    assert header == [*CSV_COLUMNS, "params.lr", "params.odd", "metrics.acc", "metrics.loss"]
    assert [row[1] for row in rows] == ["by-alice", "by-bob", *(f"r{i:03d}" for i in range(120))]
    assert rows[0][2:] == ["CLI", "train.py", "alice", "Running", "", "", "", ""]
    assert rows[1][4:] == ["bob", "Complete", "1", "", "", ""]
    for i, row in enumerate(rows[2:]):
        status = "Complete" if i % 4 else "Error"
        acc = str(i / 120) if i % 3 else ""
        assert row[4:] == ["alice", status, str(i / 1000), "yes" if i % 2 else "", acc, ""], row

    runs = search_runs(user=alice, folder=sweep, order_by=["attributes.name"])
    batches = list(export_batches(runs, params=["lr"], metrics=["acc"], size=7))
    assert [len(batch) for batch in batches] == [7] * 17 + [1]
    assert [[str(v) for v in row] for batch in batches for row in batch] == [[*r[:7], r[8]] for r in rows[2:]]
