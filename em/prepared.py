"""Lookups made on every API request, their SQL compiled once instead of on every call.

The ORM builds and compiles a queryset's SQL each time it runs it. For the lookups nearly every API
request makes, the bearer key with its user (`accounts.services.authenticate_key`) and the node the URL
names (`em.access.load`), and for a metric series by run and key (`em.runs.metrics.series_named`, on every
chart), that cost up to half a millisecond each: as much as the SQL itself, and a tenth of a small
request (`bench/runs.py --vs-mlflow`). A `Prepared` lookup compiles its queryset once per database
connection (a compiler belongs to its connection, and each thread has its own) and afterwards only
binds the values looked up. Its rows still go through the compiler's converters and the populators
that `select_related` uses, so the instances are exactly those the queryset would have made, and the
statement goes through Django's cursor, so query logging and counting see it.

Statements a lookup cannot hold (a locking read, an upsert, an INSERT) are spelt once by the ORM with
sentinel values (`spelt`, `spelt_once`) and then only bound; `insert_row` inserts a row that way, its
values prepared by the ORM's own insert compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, Generic, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)


class Prepared(Generic[M]):
    """At most one instance of a queryset that filters by given values (`first`), or every row of a
    `values_list` queryset (`rows`), its SQL compiled once per connection.

    `build(*values)` gives the queryset for one set of values (each used once in the filter, with no
    other parameter equal to it); `params` names, for each value in order, its model field and a
    sentinel: any valid value of that field, used to compile the template and to find where the value
    lands among the SQL's parameters.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *params: tuple[Field[Any, Any], Any]) -> None:
        self._build = build
        self._fields = [field for field, _ in params]
        self._sentinels = [sentinel for _, sentinel in params]

    def first(self, *values: Any, using: str = "default") -> M | None:
        compiled, rows = self._execute(values, using, most=1)
        if not rows:
            return None
        row = rows[0]
        select, klass_info = compiled.compiler.select, compiled.compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        instance: M = klass_info["model"].from_db(using, names, row[start:end])
        for populator in compiled.populators:  # the select_related relations, as ModelIterable fills them
            populator.populate(row, instance)
        return instance

    def rows(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        """Every row of a `values_list` queryset (unions too), as tuples through the fields' converters."""
        return [tuple(row) for row in self._execute(values, using)[1]]

    def _execute(self, values: tuple[Any, ...], using: str, most: int | None = None) -> tuple[_Compiled, list[Any]]:
        """The rows for `values`, through the converters the fields ask for (as `results_iter` applies them)."""
        connection = connections[using]
        cache = connection.__dict__.setdefault("em_prepared", {})
        compiled = cache.get(self)
        if compiled is None:
            compiled = cache[self] = self._compile(using)
        bound = list(compiled.params)
        for at, field, value in zip(compiled.places, self._fields, values, strict=True):
            bound[at] = field.get_db_prep_value(field.to_python(value), connection, prepared=False)
        with planned_cursor(using) as cursor:
            cursor.execute(compiled.sql, bound)
            rows = cursor.fetchall() if most is None else cursor.fetchmany(most)
        if compiled.converters and rows:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, rows

    def _compile(self, using: str) -> _Compiled:
        compiler = self._build(*self._sentinels).query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # also sets up the select list the converters and populators read
        places = []
        for field, sentinel in zip(self._fields, self._sentinels, strict=True):
            marker = field.get_db_prep_value(sentinel, connections[using], prepared=False)
            found = [i for i, param in enumerate(params) if param == marker]
            if len(found) != 1:
                raise ValueError(f"each value must appear once among the query's parameters, not {len(found)} times")
            places.append(found[0])
        populators = []
        if compiler.klass_info is not None:  # instances, not `values_list` tuples
            # Django 5.2's signature; the stubs follow 6.x, which adds a fetch mode (pinned by tests/test_prepared.py).
            populators = get_related_populators(compiler.klass_info, compiler.select, using)  # type: ignore[call-arg]
        # What `results_iter` works out on every call: the same for every row this statement will ever give.
        converters = compiler.get_converters([column[0] for column in compiler.select[0 : compiler.col_count]])
        return _Compiled(compiler, sql, tuple(params), places, populators, converters)


class _Compiled(NamedTuple):
    """A `Prepared` lookup's statement on one connection, and what reading its rows needs."""

    compiler: Any
    sql: str
    params: tuple[Any, ...]
    places: list[int]  # where each looked-up value goes among `params`
    populators: list[Any]
    converters: dict[int, Any]


# psycopg prepares a statement after this many runs when asked nothing: never, in effect. Django leaves
# the threshold unset, which makes psycopg refuse even what asks (`planned_cursor`).
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


@contextmanager
def planned_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """A cursor whose statements PostgreSQL parses and plans once per connection: bound on the server and
    prepared on first use (psycopg keeps them by their text, up to 100), then only executed. For the
    statements of every create and live batch, spelt once (`spelt_once`), and the `Prepared` lookups of
    every request: parsing and planning them was most of their time on the server, ~0.14 ms of the ~0.2 a
    statement took; executing, 0.05. Elsewhere Django's own cursor. Still Django's cursor wrapper: query
    logging and counting see every statement."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(_preparing_cursor()(raw)) as cursor:
        yield cursor


@cache
def _preparing_cursor() -> type[Any]:
    import psycopg

    class PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
        """Asks for every statement to be prepared (Django's cursor wrapper passes no `prepare`), and keeps
        it as the one executed, which psycopg does only for statements it does not prepare: Django's query
        log reads it (`last_executed_query`), and would read None. psycopg's own hook, held by
        tests/test_create_chain.py."""

        def _maybe_prepare_gen(self, pgq: Any, *, prepare: bool | None = None, binary: bool | None = None) -> Any:
            self._query = pgq
            return super()._maybe_prepare_gen(pgq, prepare=True if prepare is None else prepare, binary=binary)

    return PreparingCursor


# SQL that the ORM spelt once, by what it is for and the shape of its parameters (`spelt_once`).
SPELT: dict[tuple[Any, ...], str] = {}


def spelt_once(key: tuple[Any, ...], build: Callable[[], str]) -> str:
    """The statement `build` spells for `key`, spelt once: compiling a queryset costs about as much CPU
    as sending the statement, and a create sends several that differ only in their values (bound anew).
    For statements a `Prepared` lookup cannot hold: locking reads, upserts, inserts (`insert_row`)."""
    key = (connection.vendor, *key)
    sql = SPELT.get(key)
    if sql is None:
        sql = SPELT[key] = build()
    return sql


def spelt(query: QuerySet[Any, Any], sentinels: list[Any]) -> str:
    """The SQL of `query`, built with `sentinels` as its values, which must be its parameters in order."""
    sql, params = query.query.sql_with_params()
    if list(params) != sentinels:
        raise AssertionError(f"the query's parameters are not its values alone: {params!r}")
    return str(sql)


# What `insert_row` inserts with a row, only if it lands: more rows, each one model instance, or a list of
# instances of one model inserted together.
Rows = Model | Sequence[Model]


def insert_row(instance: Model, *, suffix: str = "", then: Sequence[Rows] = ()) -> bool:
    """INSERT `instance` as `save(force_insert=True)` would, its statement (with `suffix`) spelt once per
    model (`spelt_once`) and only its values prepared on each call, by the ORM's own insert compiler;
    whether a row landed. When it lands, the rows of `then` are inserted too, in order (a list as
    `bulk_create` would, its columns read back), on PostgreSQL in the same statement (`_insert_chain`).

    For the rows every create writes (its node, its run, its params). Only for a model whose insert reads
    nothing back (its key made in Python, no generated column) and that has no save() override or signal
    receivers to skip (tests/test_node_insert.py checks the models it is used for); a list of `then` may
    read columns back.
    """
    if connection.vendor == "postgresql" and then:
        return _insert_chain(instance, suffix, [rows for rows in then if rows])
    sql, params = _insert_one(instance, suffix)
    with planned_cursor() as cursor:
        cursor.execute(sql, params)
        landed = bool(cursor.rowcount == 1)
    if landed:
        _inserted(instance)
        for rows in then:
            if isinstance(rows, Model):
                insert_row(rows)
            elif rows:
                type(rows[0])._default_manager.bulk_create(rows)
    return landed


def _insert_one(instance: Model, suffix: str) -> tuple[str, list[Any]]:
    """The INSERT of one row, spelt once, and its values."""
    model = type(instance)
    if model._meta.db_returning_fields:
        raise ValueError(f"{model._meta.label} reads columns back from its insert: save it instead.")
    fields = model._meta.local_concrete_fields
    query = InsertQuery(model)
    query.insert_values(fields, [instance])
    compiler = query.get_compiler(connection=connection)
    sql = spelt_once(("insert", model._meta.label, suffix), lambda: f"{compiler.as_sql()[0][0]}{suffix}")
    return sql, [compiler.prepare_value(field, compiler.pre_save_val(field, instance)) for field in fields]


def _inserted(instance: Model) -> None:
    instance._state.adding = False
    instance._state.db = connection.alias


def _insert_many(rows: Sequence[Model]) -> tuple[str, list[Any], list[Field[Any, Any]]]:
    """`INSERT ... SELECT * FROM UNNEST(<one array per column>)` of `rows` (one model), as `bulk_create`
    spells it on PostgreSQL, spelt once; its values as arrays, and the fields it reads back."""
    model = type(rows[0])
    returning = list(model._meta.db_returning_fields)
    fields = [f for f in model._meta.local_concrete_fields if not f.generated and f not in returning]
    query = InsertQuery(model)
    query.insert_values(fields, list(rows))
    compiler = query.get_compiler(connection=connection)

    def build() -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in fields)
        arrays = ", ".join(f"(%s)::{array_type(field)}" for field in fields)
        back = ", ".join(quote(str(field.column)) for field in returning)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
        return sql + "{where}" + (f" RETURNING {back}" if back else "")

    sql = spelt_once(("insert many", model._meta.label), build)
    values = [[compiler.prepare_value(field, compiler.pre_save_val(field, row)) for row in rows] for field in fields]
    return sql, values, returning


def array_type(field: Field[Any, Any]) -> str:
    """The array type of `field`'s column, for an UNNEST of one array per column: its parameters dropped,
    as Django's own UNNEST does, so nothing is cut to fit (`varchar[]`, not `varchar(500)[]`)."""
    return f"{str(field.db_type(connection)).split('(')[0]}[]"


def _insert_chain(head: Model, suffix: str, then: list[Rows]) -> bool:
    """`head` and, if it lands, the rows of `then` in one statement: data-modifying CTEs, each later
    insert selecting its values only when the head's insert returned its row. One round trip instead of
    one per table (three for a live run: node, run, params). At most one list of `then` reads columns
    back; they are set on its instances in the order the rows were given, as `bulk_create` does."""
    first, params = _insert_one(head, suffix)
    inserts: list[tuple[str, bool]] = []  # each one's INSERT, and whether it is of a list
    reading: tuple[list[Model], list[Field[Any, Any]]] | None = None
    for rows in then:
        if isinstance(rows, Model):
            sql, values = _insert_one(rows, "")
            inserts.append((sql, False))
        else:
            sql, values, returning = _insert_many(rows)
            inserts.append((sql, True))
            if returning:
                if reading is not None:
                    raise ValueError("only one list of rows inserted with a row may read columns back")
                reading = (list(rows), returning)
        params += values
    key = (
        "chain",
        type(head)._meta.label,
        suffix,
        *(type(r)._meta.label if isinstance(r, Model) else type(r[0])._meta.label for r in then),
    )
    with planned_cursor() as cursor:
        cursor.execute(spelt_once(key, lambda: _chain_sql(first, inserts)), params)
        answer = cursor.fetchall()
    if not answer[0][0]:
        return False
    for made in (head, *then):
        for instance in [made] if isinstance(made, Model) else made:
            _inserted(instance)
    if reading is not None:
        rows, returning = reading
        for instance, row in zip(rows, answer, strict=True):
            for field, value in zip(returning, row[1:], strict=True):
                setattr(instance, field.attname, value)
    return True


def _chain_sql(first: str, inserts: list[tuple[str, bool]]) -> str:
    """`_insert_chain`'s statement: the first INSERT as `head`, each later one selecting its values
    (`VALUES (...)` turned into `SELECT ...`, or its UNNEST) only where `head` returned a row; then
    whether it did, and the columns the last list that reads any read back (NULLs when it did not land)."""
    parts = [f"head AS ({first} RETURNING 1)"]
    reads = None
    landed = " WHERE EXISTS (SELECT FROM head)"
    for number, (sql, many) in enumerate(inserts):
        name = f"then{number}"
        if many:
            parts.append(f"{name} AS ({sql.format(where=landed)})")
            reads = name if " RETURNING " in sql else reads
        else:
            columns, placeholders = sql.rsplit(" VALUES (", 1)
            parts.append(f"{name} AS ({columns} SELECT {placeholders.removesuffix(')')}{landed})")
    select, join = (f", {reads}.*", f" LEFT JOIN {reads} ON true") if reads else ("", "")
    counted = "(SELECT count(*) AS n FROM head) AS landed"
    return f"WITH {', '.join(parts)} SELECT landed.n{select} FROM {counted}{join}"  # noqa: S608 - no values
