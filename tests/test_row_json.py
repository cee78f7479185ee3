"""A search page's rows written by PostgreSQL (`em.runs.row_json`) are the rows Python spells from column
values (`em.api.run_detail.rows_of`, the path SQLite takes): the same keys, values and JSON types, for
text that needs escaping, floats PostgreSQL writes its own way, times with and without a fraction, a
nested run, runs shared by someone else, and a page whose runs moved away from their folder."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from em.access import Checker, Level
from em.api.json_codec import JSONRenderer, RawJSON
from em.api.run_detail import rows_of, search_rows
from em.models import MetricSeries, Node
from em.runs import row_json
from em.runs.selectors import RowCells, page_rows
from em.services import nodes, sharing
from tests.factories import chain, folder, root
from tests.run_helpers import make_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Text a node name may hold (no control characters there) and text the other fields may hold.
NAME = 'quote " back\\slash é 🧪 <b>&amp;'
TEXT = NAME + " new\nline tab\t bell\x07 del\x7f line\u2028para\u2029 nul-free"
# Latest metric values PostgreSQL writes otherwise than Python: integral (`1` without care), negative
# zero, exponents, the extremes, a subnormal; and the non-finite ones, which EM writes as null.
FLOATS = [
    1.0,
    -0.0,
    0.0,
    0.1 + 0.2,
    1e-7,
    1e20,
    123456789.0,
    99999999999999.0,
    1e15,
    -2.5e16,
    5e-324,
    1.7976931348623157e308,
    -123.456,
    math.nan,
    math.inf,
    -math.inf,
]


def typed(value: Any) -> Any:
    """`value` with every leaf tagged by its JSON type: 1 and 1.0, or 0.0 and -0.0, then differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def rendered(rows: Any) -> Any:
    return json.loads(JSONRenderer().render({"results": rows}))["results"]


def python_rows(user: Any, ids: list[Any]) -> Any:
    return rendered(rows_of(Checker(user), page_rows(ids), RowCells.load(ids)))


def database_rows(user: Any, ids: list[Any]) -> Any:
    rows = search_rows(Checker(user), ids)
    assert all(isinstance(row, RawJSON) for row in rows)  # the PostgreSQL path, not Python's
    return rendered(rows)


def test_rows_written_by_postgresql_are_the_rows_python_spells(alice, bob):
    assert row_json.available()
    deep = chain(root(alice), 3, prefix=NAME)[-1]
    started = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # no fraction: written without one
    ended = datetime(2026, 3, 4, 6, 7, 8, 901, tzinfo=UTC)
    top = make_run(
        deep,
        NAME,
        by=alice,
        started_at=started,
        ended_at=ended,
        hparams={"text": TEXT, "lr": 0.1, "nested": {"a": [1, 2.5, None, True]}, "empty": ""},
        series={f"m{i:02d}": [0.5, value] for i, value in enumerate(FLOATS)},
        tags={"note": TEXT, "": "empty key", "k": ""},
    )
    MetricSeries.objects.create(run=top, key="no points", count=0)  # latest null
    Node.objects.filter(pk=top.node_id).update(
        labels=[TEXT, "x"],
        description=TEXT,
        extra={"n": 1.0, "big": 10**20, "small": 1e-300, "s": TEXT, "deep": {"list": [0, -0.0, "é"]}},
        created_by=None,
        editor=bob,
    )
    inner = make_run(top.node, "inner", by=alice, status="Running", hparams={"lr": 0.2})  # nested, no end
    trashed = make_run(deep, "trashed", by=alice)
    Node.objects.filter(pk=trashed.node_id).update(deleted_at=timezone.now())
    shared = folder(root(bob), "shared by bob")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.EDIT, by=bob)
    bobs = make_run(shared, "bob's", by=bob, hparams={"x": "1"}, series={"loss": [3.0]})
    ids = [inner.node_id, top.node_id, bobs.node_id, trashed.node_id]

    expected, got = python_rows(alice, ids), database_rows(alice, ids)
    assert [row["id"] for row in got] == [str(pk) for pk in ids]
    assert typed(got) == typed(expected)
    # What the comparison stands for, spelt out.
    row = got[1]
    assert row["path"] == "/alice/" + "/".join(f"{NAME}{i}" for i in range(3)) + f"/{NAME}"
    assert row["run"]["started_at"] == "2026-03-04T05:06:07Z"
    assert row["run"]["ended_at"] == "2026-03-04T06:07:08.000901Z"
    assert row["run"]["duration"] == 3661.000901
    assert [row["metrics"][f"m{i:02d}"] for i in range(3)] == [1.0, -0.0, 0.0]
    assert math.copysign(1, row["metrics"]["m01"]) == -1
    assert [row["metrics"][f"m{i:02d}"] for i in range(13, 16)] == [None, None, None]
    assert row["metrics"]["no points"] is None
    assert (row["created_by"], row["editor"], row["params"]["text"], row["tags"]["note"]) == (None, "bob", TEXT, TEXT)
    assert got[0]["parent_run"] == str(top.node_id) and got[0]["run"]["ended_at"] is None
    assert (got[2]["access"], got[2]["owner"], got[2]["path"]) == ("edit", "bob", "/bob/shared by bob/bob's")
    assert got[3]["deleted_at"] is not None
    assert typed(database_rows(bob, [bobs.node_id])) == typed(python_rows(bob, [bobs.node_id]))


def test_a_page_keeps_the_order_asked_and_leaves_out_runs_that_are_gone(alice):
    sweep = folder(root(alice), "sweep")
    made = [make_run(sweep, f"r{i}", by=alice).node_id for i in range(3)]
    gone = make_run(sweep, "gone", by=alice).node_id
    Node.objects.filter(pk=gone).delete()
    ids = [made[2], gone, made[0], made[1]]
    assert [row["id"] for row in database_rows(alice, ids)] == [str(made[2]), str(made[0]), str(made[1])]
    assert database_rows(alice, []) == []


def test_display_paths_follow_a_move_made_after_the_page_was_chosen(alice):
    """The rows are read in one statement, paths and ancestors' names together: a folder moved between
    the search and the rows shows its new place, never a mix of old and new."""
    old, new = folder(root(alice), "old home"), folder(root(alice), "new home")
    sweep = folder(old, "sweep")
    ids = [make_run(sweep, f"r{i}", by=alice).node_id for i in range(2)]
    nodes.move_node(node=sweep, destination=new, by=alice)
    rows = database_rows(alice, ids)
    assert [row["path"] for row in rows] == ["/alice/new home/sweep/r0", "/alice/new home/sweep/r1"]
    assert typed(rows) == typed(python_rows(alice, ids))


def test_raw_json_renders_through_every_path_of_the_renderer():
    """orjson puts the text in as it is (U+2028/9 still escaped); DRF's paths (indented JSON, and the
    ASCII one a lone surrogate elsewhere in the answer needs) parse it and write it again."""
    raw = RawJSON('{"a": [1.0, "line\u2028sep"], "b": null}')
    fast = JSONRenderer().render({"rows": [raw]})
    assert b"\\u2028" in fast and "\u2028".encode() not in fast
    assert json.loads(fast) == {"rows": [{"a": [1.0, "line\u2028sep"], "b": None}]}
    indented = JSONRenderer().render({"rows": [raw]}, "application/json; indent=2")
    assert b"\n  " in indented and json.loads(indented) == json.loads(fast)
    escaped = JSONRenderer().render({"rows": [raw], "odd": "\ud800"})
    assert json.loads(escaped) == {"rows": [{"a": [1.0, "line\u2028sep"], "b": None}], "odd": "\ud800"}


def test_under_another_time_zone_the_rows_are_spelt_in_python(alice):
    """PostgreSQL writes times in UTC only: where times are shown in another zone, the rows come from the
    Python path, in that zone, as every other answer gives them."""
    run = make_run(folder(root(alice), "sweep"), "r", by=alice, started_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    with timezone.override("Europe/Paris"):
        assert not row_json.available()
        rows = search_rows(Checker(alice), [run.node_id])
        assert not any(isinstance(row, RawJSON) for row in rows)
        assert rendered(rows)[0]["run"]["started_at"] == "2026-03-04T06:06:07+01:00"
