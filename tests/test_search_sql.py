"""The SQL behind a run search (em/search/compiler.py): text terms compare the stored `prefix` column,
which PostgreSQL answers from its index alone; the series the runs are ordered by is joined to the node
without em_run; and a run node without a run row is never found, whichever way the SQL is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from em.models import Kind, Node, Param, Tag
from em.models.runs import TEXT_PREFIX
from em.runs.selectors import search_runs
from em.search.compiler import _text_compare
from tests.factories import folder, root
from tests.test_search_language import make_run

pytestmark = pytest.mark.django_db

# Characters, not bytes: a prefix that cut a multibyte character (or counted bytes) would differ here.
LONG = "é" * (TEXT_PREFIX - 1) + "✓ü" + "x" * 50


@pytest.fixture
def exp(alice: Any) -> Node:
    parent = folder(root(alice), "exp")
    for i in range(4):
        optimizer = "adam" if i % 2 else "sgd"
        make_run(parent, f"r{i}", params={"optimizer": optimizer, "note": LONG}, metrics={"acc": (0, 1, i / 10)})
    make_run(parent, "long", params={"note": LONG + "?"}, tags={"t": LONG})
    folder(parent, "rowless", kind=Kind.RUN)  # a run node whose run row is not (or no longer) there
    return parent


def names(runs: Any) -> list[str]:
    return [node.name for node in runs]


def test_prefix_holds_the_first_characters_of_the_value_as_written_and_rewritten(exp: Node) -> None:
    assert set(Param.objects.filter(key="note").values_list("prefix", flat=True)) == {LONG[:TEXT_PREFIX]}
    tag = Tag.objects.get(key="t")
    assert tag.prefix == LONG[:TEXT_PREFIX]
    Tag.objects.filter(pk=tag.pk).update(value="short")
    assert Tag.objects.get(pk=tag.pk).prefix == "short"


def test_long_texts_match_in_full_through_their_prefix(alice: Any, exp: Node) -> None:
    def found(text: str) -> set[str]:
        return set(names(search_runs(user=alice, filter=text, folder=exp)))

    assert found(f"params.note = '{LONG}'") == {"r0", "r1", "r2", "r3"}
    assert found(f"params.note = '{LONG}?'") == {"long"}
    assert found(f"params.note = '{LONG[:TEXT_PREFIX]}'") == set()
    assert found(f"params.note != '{LONG}'") == {"long"}
    assert found("tags.t = 'short'") == set()
    assert found(f"tags.t IN ('{LONG}', 'other')") == {"long"}


def test_the_series_ordered_by_is_joined_to_the_node_without_the_run_row(alice: Any, exp: Node) -> None:
    runs = search_runs(
        user=alice, filter="params.optimizer = 'adam' AND metrics.acc > 0", folder=exp, order_by=["metrics.acc DESC"]
    )
    sql = str(runs.query)
    assert "em_run" not in sql.replace("em_runs", "") and '"prefix"' in sql, sql
    assert names(runs) == ["r3", "r1"]
    # ordered by a param or tag alike, runs lacking it last
    by_optimizer = names(search_runs(user=alice, folder=exp, order_by=["params.optimizer"]))
    assert [set(by_optimizer[:2]), set(by_optimizer[2:4]), by_optimizer[4]] == [{"r1", "r3"}, {"r0", "r2"}, "long"]
    assert names(search_runs(user=alice, folder=exp, order_by=["tags.t DESC"]))[0] == "long"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "attributes.name = 'rowless'",
        "attributes.name = 'rowless' OR params.optimizer = 'adam'",
        "NOT params.optimizer = 'adam'",
        "NOT metrics.acc > 0.1",
    ],
)
def test_a_run_node_without_its_run_row_is_never_found(alice: Any, exp: Node, text: str) -> None:
    assert "rowless" not in names(search_runs(user=alice, filter=text, folder=exp))
    assert "rowless" not in names(search_runs(user=alice, filter=text, folder=exp, order_by=["metrics.acc"]))


@pytest.mark.postgres
@pytest.mark.parametrize("model", [Param, Tag])
def test_a_text_term_is_answered_by_an_index_only_scan(model: type[Param | Tag]) -> None:
    """A term's rows, as the filter selects them (`_text_compare`), read with no other way open than the
    (key, prefix) index (the others dropped, in a transaction rolled back): from the index alone, run
    ids included. An index on the expression left(value, 100) could not do that: PostgreSQL rechecks
    it against each row's `value`."""
    table = model._meta.db_table
    rows = model.objects.filter(_text_compare("IN", ["adam", "x"]), key="optimizer").values("run_id")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor, transaction.atomic():
        for scan in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        for (index,) in cursor.fetchall():
            if index != f"{table}_key_prefix":
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {index}")
                cursor.execute(f"DROP INDEX IF EXISTS {index}")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)  # the indexes come back
    assert f"Index Only Scan using {model._meta.db_table}_key_prefix" in plan, plan


def test_a_pages_rows_and_cells_are_the_same_statements_for_any_page(exp: Node) -> None:
    """A page's ids are one parameter (`_AnyOf`), so its two statements are compiled once per connection
    and are the same text for every page and page size: what pages ask the database differs in values only."""
    from em.runs.selectors import RowCells, page_rows

    runs = list(Node.objects.filter(parent=exp, kind=Kind.RUN, run__isnull=False).order_by("name"))
    sent: list[list[str]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent[-1].append(sql)
        return execute(sql, params, many, context)

    for some in (runs[:1], runs[1:4], runs[::-1]):
        ids = [node.pk for node in some]
        sent.append([])
        with connection.execute_wrapper(record):
            rows, cells = page_rows(ids), RowCells.load(ids)
        assert [row.name for row in rows] == [node.name for node in some]  # in the order asked for
        assert set(cells.params) == set(ids) and all(cells.params[pk]["note"] for pk in ids)
        measured = {pk for pk in ids if pk != runs[0].pk}  # "long" (first by name) has no metric
        assert {pk: set(metrics) for pk, metrics in cells.metrics.items()} == {pk: {"acc"} for pk in measured}
        assert cells.tags == ({runs[0].pk: {"t": LONG}} if runs[0] in some else {})
    assert len(sent[0]) == 2
    assert sent[0] == sent[1] == sent[2]


def test_a_pages_cells_are_read_with_no_converter(exp: Node) -> None:
    """The ~1,500 cells of a page are plain text and numbers: no column of their statement may ask the
    ORM to convert each row (a float `Value` typing the union's first part did: a millisecond a page)."""
    from django.db import connections

    from em.runs.selectors import _CELLS, RowCells

    ids = list(Node.objects.filter(parent=exp, run__isnull=False).values_list("pk", flat=True))
    assert RowCells.load(ids).metrics
    assert connections["default"].__dict__["em_prepared"][_CELLS].converters == {}
