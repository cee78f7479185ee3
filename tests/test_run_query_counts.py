"""Run creation, metric logging and a search page cost a fixed number of queries: none grows with the
depth of the folder, the number of hyper-parameters or metric keys, or the number of runs searched.

The ceilings hold on SQLite and on PostgreSQL (which adds the lock that holds the parent's place).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.api.json_codec import JSONRenderer
from em.api.run_detail import run_rows
from em.api.serializers import present
from em.models import Node
from em.runs.selectors import ROW_PREFETCH
from tests.factories import chain, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/runs"
# key, parent, transaction, place lock (PostgreSQL), last path with the position claim, node (a taken
# path or name lands nothing rather than failing, so no savepoint), run, params (on PostgreSQL one
# statement with the node), path; the name is checked by its unique constraint, not by a query
CREATE_QUERIES = {"postgresql": 8, "sqlite": 9}
# key, node with its run, transaction, run lock, series, new series, chunks (on PostgreSQL one statement
# with the series)
LOG_QUERIES = {"postgresql": 7, "sqlite": 8}
# key, folder, page ids with the count, then the rows: on PostgreSQL one statement writes them as JSON
# (`em.runs.row_json`); on SQLite nodes with their runs, users and parents' kinds, params + metrics + tags,
# display paths. Below a folder the caller may see, their grants are not read (everything there is visible).
SEARCH_QUERIES = {"postgresql": 4, "sqlite": 6}


def _hparams(count: int) -> dict[str, Any]:
    return {
        "model": {f"p{i}": i / 10 for i in range(count // 2)},
        **{f"q{i}": f"v{i}" for i in range(count - count // 2)},
    }


def _metrics(keys: int) -> dict[str, Any]:
    return {"metrics": {f"train.m{i}": {"step": [1, 2], "value": [0.5, 0.25]} for i in range(keys)}}


def _warm(client: Any) -> Any:
    """A first request, so the key's once-in-a-while bookkeeping is not counted against what is measured."""
    client.get("/api/v1/me")
    return client


def _queries(call: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        answer = call()
    return len(ctx.captured_queries), answer


def test_creating_a_run_costs_the_same_at_depth_2_and_21_with_2_or_50_params(alice, key_client):
    client = _warm(key_client(alice))
    shallow, deep = chain(root(alice), 1, prefix="top")[-1], chain(root(alice), 20)[-1]
    counts = []
    for i, (parent, params) in enumerate(((shallow, 2), (deep, 2), (shallow, 50), (deep, 50))):
        body = {"parent": str(parent.pk), "name": f"run-{i}", "hparams": _hparams(params)}
        count, answer = _queries(lambda body=body: client.post(RUNS, body, format="json"))
        assert answer.status_code == 201, answer.content
        assert len(answer.json()["params"]) == params
        counts.append(count)
    assert len(set(counts)) == 1, counts
    assert counts[0] <= CREATE_QUERIES[connection.vendor], counts


def test_a_run_made_with_its_first_points_costs_one_statement_more_for_1_or_20_keys(alice, key_client):
    """The series and their chunks are one INSERT on PostgreSQL (two elsewhere), in the run's own
    transaction: no second transaction, lock or key lookup as a separate live-logging call costs."""
    client = _warm(key_client(alice))
    counts = []
    for keys in (1, 20):
        body = {"parent": str(root(alice).pk), "name": f"first-{keys}", "hparams": _hparams(4), **_metrics(keys)}
        count, answer = _queries(lambda body=body: client.post(RUNS, body, format="json"))
        assert answer.status_code == 201, answer.content
        assert len(answer.json()["metrics"]) == keys
        counts.append(count)
    more = {"postgresql": 1, "sqlite": 2}[connection.vendor]
    assert len(set(counts)) == 1 and counts[0] <= CREATE_QUERIES[connection.vendor] + more, counts


def test_logging_a_batch_costs_the_same_for_1_or_20_new_keys_and_for_existing_ones(alice, key_client):
    client = _warm(key_client(alice))
    counts = []
    for keys in (1, 20):
        run = client.post(RUNS, {"parent": str(root(alice).pk), "name": f"live-{keys}"}, format="json").json()
        for _ in range(2):  # new keys, then the same keys again (their last chunk has room)
            count, answer = _queries(
                lambda run=run, keys=keys: client.post(f"{RUNS}/{run['id']}/metrics", _metrics(keys), format="json")
            )
            assert answer.json() == {"appended": 2 * keys}
            counts.append(count)
    new, existing = counts[0::2], counts[1::2]
    assert len(set(new)) == 1 and max(new) <= LOG_QUERIES[connection.vendor], counts
    assert existing[1] == existing[0], counts  # the last chunks that had room: one UPDATE run for each


def test_a_search_page_costs_the_same_for_3_and_60_runs(alice, key_client):
    client = _warm(key_client(alice))
    sweep = chain(root(alice), 3)[-1]
    counts = []
    for total in (3, 60):
        while Node.objects.filter(parent=sweep).count() < total:
            number = Node.objects.filter(parent=sweep).count()
            make_run(
                sweep,
                f"r{number:03d}",
                by=alice,
                hparams={"lr": number / 100, "opt": "adam"},
                series={"val.acc": [number / 100]},
            )
        query = {
            "folder": str(sweep.pk),
            "filter": "params.opt = 'adam' AND metrics.val.acc >= 0",
            "order_by": "metrics.val.acc DESC",
        }
        count, answer = _queries(lambda query=query: client.get(RUNS, query))
        assert (answer.json()["count"], answer.json()["count_exact"]) == (total, True)
        counts.append(count)
        # A page that is not the last one: the same query gives the page and the count.
        count, answer = _queries(lambda query=query: client.get(RUNS, {**query, "page_size": 2}))
        assert (answer.json()["count"], len(answer.json()["results"])) == (total, 2)
        counts.append(count)
    assert len(set(counts)) == 1 and counts[0] == SEARCH_QUERIES[connection.vendor], counts


def test_search_rows_read_from_column_values_are_the_rows_read_from_instances(alice, api):
    """The search builds its rows from plain columns (`runs_by_id`, `RowCells.load`); the run page and
    compare build them from loaded instances. Both must answer the same RunRow."""
    exp = chain(root(alice), 1, prefix="exp")[-1]
    top = make_run(exp, "top", by=alice, hparams={"lr": 0.1, "model": {"depth": 3}}, series={"val.acc": [0.5, 0.7]})
    make_run(top.node, "inner", by=alice, hparams={"lr": 0.2}, tags={"team": "vision"}, series={"val.acc": [0.9]})
    answer = api(alice).get(RUNS, {"folder": str(exp.pk), "order_by": "attributes.name"}).json()["results"]
    nodes = (
        Node.objects.filter(pk__in=[row["id"] for row in answer])
        .select_related("run", "owner", "created_by", "editor", "target")
        .prefetch_related(*ROW_PREFETCH)
        .order_by("name")
    )
    expected = json.loads(JSONRenderer().render(run_rows(user=alice, runs=nodes)))
    assert [row["name"] for row in answer] == ["inner", "top"]
    assert answer == expected
    serialized = json.loads(JSONRenderer().render(present(alice, list(nodes))))  # NodeSerializer's spelling
    assert [{key: row[key] for key in node} for row, node in zip(answer, serialized, strict=True)] == serialized
    assert answer[0]["parent_run"] == str(top.node_id) and answer[0]["tags"] == {"team": "vision"}
