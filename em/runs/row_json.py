"""A search page's rows written as JSON by PostgreSQL, in one statement (`page_json`).

A 100-run page shows each run's node, its run's summary, ~10 params, ~5 latest metric values, its tags
and its display path. Read as column values and spelt in Python (`em.runs.selectors.page_rows`,
`RowCells.load`, `em.api.run_detail.rows_of`), that took three statements and ~8 ms of Python for
~1,700 values: tuples, dicts, UUIDs, ISO times. Here PostgreSQL writes each row's JSON itself
(`json_object_agg` over each table, times and numbers as DRF writes them) and Python only adds what
depends on the caller, the access level, and hands the text on unparsed (`em.api.json_codec.RawJSON`).

The row is the same JSON `rows_of` writes (tests/test_row_json.py holds the two alike, value for value):
- times in UTC ending in `Z`, microseconds only when there are any (Python's `isoformat`); EM's
  TIME_ZONE is UTC, and `available` says no under any other current zone;
- numbers as floats (`1.0`, not `1`), and NaN or ±Infinity as null, as EM's renderer writes them;
- the display path from the runs' ancestors' names, read in the same statement, so it cannot mix the
  tree before and after a move (which `em.services.paths.display_paths` must check for across two).

PostgreSQL only: SQLite keeps the Python path, which is fast enough for the embedded default's sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from em import tree
from em.models import STORAGE_TYPE_OF_KIND, MetricSeries, Node, Param, Run, Tag
from em.prepared import planned_cursor


class RowJSON(NamedTuple):
    """One run's row as JSON text, and what a rights check reads of its node (`em.access.Owned`)."""

    pk: str  # the id as text: it is only matched, never built into a UUID
    path: str
    owner_id: Any
    json: str  # the whole RunRow but `access`


def available() -> bool:
    """Whether `page_json` can write rows: on PostgreSQL, with times shown in UTC."""
    zone = timezone.get_current_timezone()
    return connection.vendor == "postgresql" and (zone is UTC or getattr(zone, "key", None) == "UTC")


def page_json(ids: Sequence[Any]) -> list[RowJSON]:
    """The rows of the runs with these ids, in this order (an id whose run is gone is left out): one
    statement, planned once per connection, whatever the number of runs."""
    if not ids:
        return []
    texts = [str(pk if isinstance(pk, UUID) else UUID(str(pk))) for pk in ids]  # as PostgreSQL spells them
    with planned_cursor() as cursor:
        cursor.execute(_statement(), {"ids": "{" + ",".join(texts) + "}"})  # an array literal: no quoting needed
        found = {row[0]: RowJSON(*row) for row in cursor.fetchall()}
    return [found[pk] for pk in texts if pk in found]


def _number(value: str) -> str:
    """SQL for a float column as a JSON value, as EM writes floats: `1.0` for an integral value (PostgreSQL
    would write `1`, which a JSON reader in Python takes for an int; `-0.0` keeps its sign), null for NaN
    and ±Infinity (PostgreSQL would write them as strings) and for null. Only the integral case is parsed
    as JSON again, the rare one."""
    return (
        f"CASE WHEN {value} IN ('NaN', 'Infinity', '-Infinity') THEN NULL"
        f" WHEN {value} = trunc({value}) AND abs({value}) < 1e15 THEN ({value}::text || '.0')::json"
        f" ELSE to_json({value}) END"
    )


def _time(value: str) -> str:
    """SQL for the JSON text of a timestamptz as DRF writes it in UTC: `2026-01-02T03:04:05.000006Z`, the
    fraction only when there is one."""
    utc = f"({value} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {value} IS NULL THEN 'null' ELSE"
        f" '\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' ELSE to_char({utc}, '.US') END || 'Z\"' END"
    )


def _text(value: str) -> str:
    """SQL for the JSON text of a text column (null stays null)."""
    return f"COALESCE(to_json({value})::text, 'null')"


def _object(fields: Sequence[tuple[str, str]]) -> str:
    """SQL concatenating a JSON object from (key, SQL of the value's JSON text) pairs."""
    parts = [f"'{'{' if i == 0 else ','}\"{key}\":' || {value}" for i, (key, value) in enumerate(fields)]
    return " || ".join(parts) + " || '}'"


def _cells(table: str, value: str) -> str:
    """SQL for one JSON object per run of the page, key → `value`, in key order, from a table of (run_id,
    key, …): aggregated over rows sorted first, which is cheaper than sorting inside each aggregate."""
    ordered = (
        f"SELECT run_id, key, {value} AS value FROM {table} WHERE run_id = ANY(%(ids)s::uuid[]) ORDER BY run_id, key"  # noqa: S608 - our own names
    )
    return f"SELECT run_id, json_object_agg(key, value)::text AS json FROM ({ordered}) AS o GROUP BY run_id"  # noqa: S608


@cache
def _statement() -> str:
    """The page statement, spelt once from the models' table names."""
    node, run = Node._meta.db_table, Run._meta.db_table
    users = get_user_model()._meta.db_table
    duration = "extract(epoch FROM r.ended_at - r.started_at)::float8"  # Python's total_seconds()
    storage = " ".join(f"WHEN '{kind}' THEN {int(storage_type)}" for kind, storage_type in STORAGE_TYPE_OF_KIND.items())
    body = _object(
        [
            ("id", "'\"' || n.id::text || '\"'"),
            ("name", _text("n.name")),
            ("kind", _text("n.kind")),
            ("storage_type", f"(CASE n.kind {storage} END)::text"),
            ("path", _text("folders.shown || '/' || n.name")),
            ("parent", "COALESCE('\"' || n.parent_id::text || '\"', 'null')"),
            ("owner", _text("owner.username")),
            ("labels", "n.labels::text"),
            ("description", _text("n.description")),
            ("extra", "n.extra::text"),
            ("target", "'null'"),
            ("created_at", _time("n.created_at")),
            ("modified_at", _time("n.modified_at")),
            ("created_by", _text("creator.username")),
            ("editor", _text("editor.username")),
            ("deleted_at", _time("n.deleted_at")),
            (
                "run",
                _object(
                    [
                        ("status", _text("r.status")),
                        ("started_at", _time("r.started_at")),
                        ("ended_at", _time("r.ended_at")),
                        ("duration", f"COALESCE(({_number(duration)})::text, 'null')"),
                        ("source_type", _text("r.source_type")),
                        ("source_name", _text("r.source_name")),
                        ("alternative_name", _text("r.alternative_name")),
                    ]
                ),
            ),
            ("params", "COALESCE(params.json, '{}')"),
            ("metrics", "COALESCE(metrics.json, '{}')"),
            ("tags", "COALESCE(tags.json, '{}')"),
            ("parent_run", "CASE WHEN parent.kind = 'Run' THEN '\"' || n.parent_id::text || '\"' ELSE 'null' END"),
        ]
    )
    step = tree.STEP
    sql = f"""
    WITH page AS (SELECT * FROM {node} WHERE id = ANY(%(ids)s::uuid[])),
    folders AS MATERIALIZED (
        SELECT above, (
            SELECT COALESCE(string_agg('/' || a.name, '' ORDER BY a.path), '')
            FROM {node} AS a
            WHERE a.path = ANY(ARRAY(SELECT left(above, k) FROM generate_series({step}, length(above), {step}) AS k))
        ) AS shown
        FROM (SELECT DISTINCT left(path, length(path) - {step}) AS above FROM page) AS parents
    ),
    params AS ({_cells(Param._meta.db_table, "value")}),
    metrics AS ({_cells(MetricSeries._meta.db_table, _number("latest"))}),
    tags AS ({_cells(Tag._meta.db_table, "value")})
    SELECT n.id::text, n.path, n.owner_id, {body}
    FROM page AS n
    JOIN {run} AS r ON r.node_id = n.id
    JOIN {users} AS owner ON owner.id = n.owner_id
    LEFT JOIN {users} AS creator ON creator.id = n.created_by_id
    LEFT JOIN {users} AS editor ON editor.id = n.editor_id
    LEFT JOIN {node} AS parent ON parent.id = n.parent_id
    JOIN folders ON folders.above = left(n.path, length(n.path) - {step})
    LEFT JOIN params ON params.run_id = n.id
    LEFT JOIN metrics ON metrics.run_id = n.id
    LEFT JOIN tags ON tags.run_id = n.id
    """  # noqa: S608 - our own names and SQL, values bound
    return sql
