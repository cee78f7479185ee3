"""Metric chunks in and out of the database, their arrays in PostgreSQL's binary protocol.

Django binds parameters on the client with psycopg 3 and reads `bytea` as text: either way an array
travels as hex, twice its bytes, spelt out and parsed again on both ends. That alone made an insert of
a 10,000-point chunk (330 KB) take 5 ms instead of 1, and would take a million-point read past its
50 ms budget. So chunk rows are read and written here through a psycopg cursor that binds on the server
and, for reads, answers in binary; the cursor is still wrapped by Django, so query logging, counting and
execute wrappers see every statement. SQLite runs the same statements on Django's cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection
from django.db.models import QuerySet

from em.models import MetricChunk, MetricSeries
from em.prepared import array_type, planned_cursor, spelt_once

# What a chunk's INSERT and UPDATE write, by attribute name (the series' id, not the series).
WRITTEN = ("count", "first_step", "last_step", "steps", "epochs", "timestamps", "values", "overview")
# What a new series' INSERT writes beside its run and key: its summary (`insert_series`).
SUMMARY = ("count", "min", "max", "latest", "latest_step", "latest_timestamp")


def _binary() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _cursor(*, binary_results: bool = False) -> Iterator[Any]:
    """A cursor binding parameters on the server (PostgreSQL), or Django's own cursor elsewhere."""
    if not _binary():
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if binary_results:
        raw.format = psycopg.pq.Format.BINARY
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(cast(Any, raw)) as cursor:
        yield cursor


def rows(query: QuerySet[MetricChunk, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of a `values_list` query of chunks: only the columns it names leave the database."""
    if not _binary():
        return list(query)
    sql, params = query.query.sql_with_params()
    with _cursor(binary_results=True) as cursor:
        cursor.execute(sql, params)
        return cast(list[tuple[Any, ...]], cursor.fetchall())


def overview_slices(series_id: int, ranges: list[tuple[int, int]]) -> list[tuple[bytes, ...]]:
    """Per chunk of a series in seq order: its overview's bytes in each (start, length) of `ranges`.

    Spelt in SQL rather than built with the ORM, whose compiling of it (0.2 ms) costs a sampled read,
    the portal's most frequent, as much as PostgreSQL takes to answer it for a series of 100,000 points.
    """
    table = connection.ops.quote_name(MetricChunk._meta.db_table)
    column, series, seq = _columns(("overview", "series_id", "seq"))
    parts = ", ".join([f"SUBSTR({column}, %s, %s)"] * len(ranges))
    sql = f"SELECT {parts} FROM {table} WHERE {series} = %s ORDER BY {seq}"  # noqa: S608 - our own names
    params = [*(bound for start, length in ranges for bound in (start + 1, length)), series_id]
    with _cursor(binary_results=True) as cursor:
        cursor.execute(sql, params)
        return cast(list[tuple[bytes, ...]], cursor.fetchall())


def _columns(names: tuple[str, ...]) -> list[str]:
    columns = {field.attname: str(field.column) for field in MetricChunk._meta.concrete_fields}
    return [connection.ops.quote_name(columns[name]) for name in names]


def insert(chunks: list[MetricChunk]) -> None:
    """INSERT new chunks (their ids are not read back): one statement run for each (a pipeline on
    PostgreSQL)."""
    if not chunks:
        return
    names = ("series_id", "seq", *WRITTEN)
    table = connection.ops.quote_name(MetricChunk._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(_columns(names))}) VALUES ({', '.join(['%s'] * len(names))})"  # noqa: S608 - our own names
    with _cursor() as cursor:
        cursor.executemany(sql, [[getattr(chunk, name) for name in names] for chunk in chunks])


def update(chunks: list[MetricChunk]) -> None:
    """Write the points, range and overview of chunks already stored (by id): one statement run for each."""
    if not chunks:
        return
    table = connection.ops.quote_name(MetricChunk._meta.db_table)
    sets = ", ".join(f"{column} = %s" for column in _columns(WRITTEN))
    sql = f"UPDATE {table} SET {sets} WHERE {_columns(('id',))[0]} = %s"  # noqa: S608 - our own names
    with _cursor() as cursor:
        cursor.executemany(sql, [[*(getattr(chunk, name) for name in WRITTEN), chunk.pk] for chunk in chunks])


def insert_series(run_id: Any, summaries: list[tuple[Any, ...]], chunks: list[tuple[Any, ...]]) -> dict[str, int]:
    """INSERT new series of a run (`summaries`: rows of the key and `SUMMARY`) and their chunks (`chunks`: rows of
    the series' key, `seq` and `WRITTEN`) in one statement on PostgreSQL; each series' id by key.

    The chunks name their series by key, joined to the ids the series' insert returns, so the two
    inserts make one round trip instead of two. The write of every run's first live batch: its five new
    series took 1.5 ms as two statements (the chunks' a pipeline), 1.1 ms as this one.
    """
    with planned_cursor() as cursor:
        cursor.execute(
            _insert_series_sql(),
            [run_id, *_columns_of(summaries, 1 + len(SUMMARY)), *_columns_of(chunks, 2 + len(WRITTEN))],
        )
        return {key: pk for pk, key in cursor.fetchall()}


def _columns_of(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _insert_series_sql() -> str:
    return spelt_once(("insert series",), _spell_insert_series)


def _spell_insert_series() -> str:
    """`insert_series`'s statement: UNNEST of one array per column, typed as the columns are."""
    quote = connection.ops.quote_name
    series_fields = {field.attname: field for field in MetricSeries._meta.concrete_fields}
    chunk_fields = {field.attname: field for field in MetricChunk._meta.concrete_fields}

    def arrays(fields: list[Any]) -> str:
        # `%b`: sent in binary, as psycopg would not choose for a list; a list of bytes spelt as text
        # took 1.4 ms to escape for five one-point chunks (when their overviews were padded to 13 KB each).
        return ", ".join(f"%b::{array_type(field)}" for field in fields)

    chunk_names = ("seq", *WRITTEN)
    run = series_fields["run_id"]
    series_columns = ", ".join(quote(str(series_fields[name].column)) for name in ("run_id", "key", *SUMMARY))
    chunk_columns = ", ".join(quote(str(chunk_fields[name].column)) for name in ("series_id", *chunk_names))
    return f"""
WITH made AS (
    INSERT INTO {quote(MetricSeries._meta.db_table)} ({series_columns})
    SELECT %s::{run.db_type(connection)}, * FROM UNNEST({arrays([series_fields[name] for name in ("key", *SUMMARY)])})
    RETURNING {quote(str(series_fields["id"].column))} AS id, {quote(str(series_fields["key"].column))} AS key
), chunks AS (
    INSERT INTO {quote(MetricChunk._meta.db_table)} ({chunk_columns})
    SELECT made.id, {", ".join(f"c.{name}" for name in chunk_names)}
    FROM UNNEST({arrays([series_fields["key"], *(chunk_fields[name] for name in chunk_names)])})
        AS c(key, {", ".join(chunk_names)})
    JOIN made ON made.key = c.key
)
SELECT id, key FROM made"""  # noqa: S608 - our own names
