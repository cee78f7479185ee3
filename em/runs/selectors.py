"""Reading runs: the search behind `GET /api/v1/runs` and its CSV export, and the rows they show.

Scope comes first and from `em.access` alone: the runs a user may see (or those below a folder they
may see), never trashed ones; the filter and ordering only narrow and sort that. A page is fetched in
two steps — the ordered ids of the page from the (lean) search query, then those runs with everything
a row shows — because joining users and runs into a query that filters and sorts 100,000 runs makes
PostgreSQL carry wide rows through the whole plan. On PostgreSQL the second step is one statement
that writes the rows' JSON itself (`em.runs.row_json`); elsewhere it is `page_rows` and `RowCells.load`
here, which the API spells as rows (`em.api.run_detail.rows_of`). Either way a page costs the same few
queries however many runs it holds, and it is read as plain column values: building a model instance
for each of a page's ~1,500 params, metric summaries and tags, and five joined instances for each node,
cost ten times what reading their columns costs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import F, FloatField, Prefetch, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In

from em import access
from em.models import Kind, MetricSeries, Node, NodeQuerySet, Param, Run, Tag
from em.prepared import Prepared
from em.search import compile_filter, order_runs, ordered_metrics, parse_filter, parse_order

ROW_PREFETCH = (
    Prefetch("run__params", queryset=Param.objects.only("run_id", "key", "value").order_by("key")),
    Prefetch("run__metrics", queryset=MetricSeries.objects.only("run_id", "key", "latest").order_by("key")),
    Prefetch("run__tags", queryset=Tag.objects.order_by("key")),
)


def search_runs(
    *,
    user: Any,
    filter: str = "",  # the query parameter's name
    folder: Node | access.Access | None = None,
    order_by: Sequence[str] = (),
) -> NodeQuerySet:
    """Run nodes visible to `user` (below `folder`) that match `filter`, ordered by `order_by` terms such
    as `metrics.val.acc DESC` (newest first without). Given the `Access` a check on the folder gave, the
    runs below it are all visible and the user's grants are not read again (`access.scope_below`).

    Raises FilterError / OrderByError, with the position of the first bad token, before any query.
    Take the page's ids from it (`.values_list("pk", flat=True)[a:b]`) and load them with `page_rows`.
    """
    expr = parse_filter(filter)
    terms = [term for text in order_by if text.strip() for term in parse_order(text)]
    where, filled, has_run = compile_filter(expr, joined=ordered_metrics(terms))
    if isinstance(folder, access.Access):
        runs = access.scope_below(Node.objects.filter(kind=Kind.RUN), folder)
    else:
        runs = access.scope(Node.objects.filter(kind=Kind.RUN), user)
        if folder is not None:
            runs = runs.subtree(folder.path)
    if not has_run:  # else the filter's EXISTS on params, metrics or tags already implies the run row
        runs = runs.filter(run__isnull=False)
    return order_runs(runs, terms, filled=filled).filter(where)


# What a RunRow shows of the run row; the rest (hyper-parameters, platform, git: large JSON) is left unread.
ROW_RUN_COLUMNS = ("status", "started_at", "ended_at", "alternative_name", "source_type", "source_name")


class RowValues(NamedTuple):
    """What a search row shows of one run node, as plain column values: no `Node`, `Run` or user
    instances, whose construction (five a row) cost more than the rest of building a 100-row page.
    It is `Placed`/`Owned` (pk, path, owner_id), so rights and display paths are computed from it."""

    pk: UUID
    name: str
    kind: str
    path: str
    parent_id: UUID | None
    owner_id: Any
    owner: str
    labels: Any
    description: str
    extra: Any
    created_at: datetime
    modified_at: datetime
    created_by: str | None
    editor: str | None
    deleted_at: datetime | None
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    alternative_name: str
    source_type: str
    source_name: str
    parent_is_run: bool

    @classmethod
    def of_node(cls, node: Node, *, parent_is_run: bool) -> RowValues:
        """The same values from a loaded node (its run and users loaded or loadable)."""
        run = node.run
        return cls(
            node.pk,
            node.name,
            node.kind,
            node.path,
            node.parent_id,
            node.owner_id,
            node.owner.username,
            node.labels,
            node.description,
            node.extra,
            node.created_at,
            node.modified_at,
            None if node.created_by is None else node.created_by.username,
            None if node.editor is None else node.editor.username,
            node.deleted_at,
            run.status,
            run.started_at,
            run.ended_at,
            run.alternative_name,
            run.source_type,
            run.source_name,
            parent_is_run,
        )


# `RowValues`' fields as `values_list` names them, in order.
_ROW_COLUMNS = (
    "pk",
    "name",
    "kind",
    "path",
    "parent_id",
    "owner_id",
    "owner__username",
    "labels",
    "description",
    "extra",
    "created_at",
    "modified_at",
    "created_by__username",
    "editor__username",
    "deleted_at",
    *(f"run__{column}" for column in ROW_RUN_COLUMNS),
)
assert len(_ROW_COLUMNS) == len(RowValues._fields) - 1  # noqa: S101 — all but parent_is_run, read as the parent's kind


class _AnyOf(In):
    """`column IN (ids)` with the ids as ONE parameter, so that a page's statements are the same text
    for every page and are compiled once (`Prepared`): on PostgreSQL `column = ANY(%s::uuid[])` with an
    array literal (the driver's array dumper spent ~0.3 ms a list in Python, joining the ids' text a
    tenth of that); on SQLite `column IN (SELECT value FROM json_each(%s))` with a JSON array of the
    ids as SQLite stores them (hex). For UUID columns (every use here)."""

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::uuid[])", (*lhs_params, _IDS.get_db_prep_value(self.rhs, connection))

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = _IDS.get_db_prep_value(self.rhs, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, ids)  # noqa: S608 — a column, quoted


class _IdList:
    """How a list of ids is bound as `_AnyOf`'s one parameter: a `Prepared` lookup binds each value
    through a field's `to_python` and `get_db_prep_value`, and this stands in for that field."""

    def to_python(self, value: Iterable[Any]) -> list[UUID]:
        return [pk if isinstance(pk, UUID) else UUID(str(pk)) for pk in value]

    def get_db_prep_value(self, value: Iterable[Any], connection: Any, prepared: bool = False) -> str:
        ids = self.to_python(value)
        if connection.vendor == "postgresql":  # UUIDs' text needs no quoting in an array literal
            return "{" + ",".join(map(str, ids)) + "}"
        return "[" + ",".join(f'"{pk.hex}"' for pk in ids) + "]"


_IDS = _IdList()
# Sentinel id lists the statements below are compiled with: any ids, one list per place they are used.
_SENTINELS = [[UUID(int=n)] for n in range(1, 4)]

_NO_TEXT = Value(None, output_field=TextField())
_NO_NUMBER = Value(None, output_field=FloatField())
# What a row shows of each table: (name, model, its text column, its number column). Metrics come first:
# the first part of a union types its columns, and a float `Value` would give the number column a
# converter that runs on each of a page's ~1,500 rows (a millisecond) where the metric's own column has none.
_CELL_TABLES: tuple[tuple[str, type[Param | MetricSeries | Tag], str | Value, str | Value], ...] = (
    ("metrics", MetricSeries, _NO_TEXT, "latest"),
    ("params", Param, "value", _NO_NUMBER),
    ("tags", Tag, "value", _NO_NUMBER),
)


def _page_query(ids: list[UUID]) -> Any:
    return Node.objects.filter(_AnyOf(F("pk"), ids)).values_list(*_ROW_COLUMNS, "parent__kind")


def _cells_query(*ids: list[UUID]) -> Any:
    """The three tables' rows in one `UNION ALL` (a text and a number column, each NULL where its table
    has none), in key order; each part takes its own id list (a `Prepared` value is used once)."""
    parts = [
        table._default_manager.filter(_AnyOf(F("run_id"), some)).values_list(
            Value(kind), _text("run_id"), "key", text, number
        )
        for some, (kind, table, text, number) in zip(ids, _CELL_TABLES, strict=True)
    ]
    return parts[0].union(*parts[1:], all=True).order_by("key")


# Compiled once per connection: a page's rows and its cells are asked for on every search.
_PAGE: Prepared[Node] = Prepared(_page_query, (_IDS, _SENTINELS[0]))  # type: ignore[arg-type]
_CELLS: Prepared[Any] = Prepared(_cells_query, *((_IDS, sentinel) for sentinel in _SENTINELS))  # type: ignore[arg-type]


def page_rows(ids: Sequence[Any]) -> list[RowValues]:
    """The run nodes with these ids, in this order, as the values their rows show (with their run's
    columns, their users' names and whether their parent is a run): one query of plain columns, its
    SQL compiled once per connection. Their params, metrics and tags come with `RowCells.load`."""
    if not ids:
        return []
    found = {values[0]: RowValues._make((*values[:-1], values[-1] == Kind.RUN)) for values in _PAGE.rows(ids)}
    return [found[pk] for pk in ids if pk in found]


@dataclass
class RowCells:
    """What a RunRow shows of a run's params (text as written), latest metric values and tags, by run id."""

    params: dict[Any, dict[str, str]] = field(default_factory=dict)
    metrics: dict[Any, dict[str, float | None]] = field(default_factory=dict)
    tags: dict[Any, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, ids: Sequence[Any]) -> RowCells:
        """One query whatever the number of runs (none for none), its SQL compiled once per connection.

        Every column is text or a number on both databases (the run id is cast to text: hex digits, with
        dashes on PostgreSQL, matched back to `ids`), so the ORM's converters have nothing to do: the
        rows of a page (~1,500) are gathered by the run id's text (a str hashes once; a UUID in Python on
        every lookup), then keyed by the ids asked for."""
        ids = list(ids)
        cells = cls()
        if not ids:
            return cells
        by_text: dict[str, dict[str, dict[str, Any]]] = {"params": {}, "metrics": {}, "tags": {}}
        for kind, run_id, key, text, number in _CELLS.rows(ids, ids, ids):
            by_text[kind].setdefault(run_id, {})[key] = number if kind == "metrics" else text
        by_hex = {pk.hex: pk for pk in _IDS.to_python(ids)}
        for kind, found in by_text.items():
            getattr(cells, kind).update((by_hex[run_id.replace("-", "")], row) for run_id, row in found.items())
        return cells

    @classmethod
    def of_runs(cls, runs: Iterable[Run]) -> RowCells:
        """From runs whose params, metrics and tags are loaded already (prefetched, or just made)."""
        cells = cls()
        for run in runs:
            cells.params[run.pk] = {p.key: p.value for p in run.params.all()}
            cells.metrics[run.pk] = {m.key: m.latest for m in run.metrics.all()}
            cells.tags[run.pk] = {t.key: t.value for t in run.tags.all()}
        return cells


def run_keys(runs: NodeQuerySet) -> tuple[list[str], list[str]]:
    """The sorted param keys and metric keys found across `runs`: the columns of a CSV export."""
    ids = runs.order_by().values("pk")
    params = Param.objects.filter(run_id__in=ids).order_by("key").values_list("key", flat=True).distinct()
    metrics = MetricSeries.objects.filter(run_id__in=ids).order_by("key").values_list("key", flat=True).distinct()
    return list(params), list(metrics)


# What the CSV export shows of each run before its params and metrics: id, name, source type and name,
# user (the creator, else the owner) and status.
EXPORT_HEAD = (
    "pk",
    "name",
    "run__source_type",
    "run__source_name",
    Coalesce("created_by__username", "owner__username"),
    "run__status",
)


def export_batches(
    runs: NodeQuerySet, *, params: Sequence[str], metrics: Sequence[str], size: int = 1000
) -> Iterator[list[list[Any]]]:
    """The CSV export rows of `runs` (as sliced and ordered), `size` runs at a time: the columns of
    `EXPORT_HEAD`, then the value of each of `params` and the latest value of each of `metrics` ("" where
    a run has none). A key outside `params` / `metrics` (written since they were chosen) is left out.

    The head columns ride on the search query itself, read through one cursor; each batch then costs two
    queries (its params, its metric summaries), so 10,000 runs take ~20. Plain column tuples, never model
    instances: building and prefetching the ~15 param and metric objects of each run cost half a
    millisecond a run, ten times what reading their columns costs.
    """
    heads = runs.values_list(_text("pk"), *EXPORT_HEAD).iterator(chunk_size=size)
    blank = [""] * (len(params) + len(metrics))
    while batch := list(islice(heads, size)):
        rows = {key: [*head, *blank] for key, *head in batch}
        ids = [row[0] for row in rows.values()]
        values = Param.objects.filter(run_id__in=ids).values_list(_text("run_id"), "key", "value")
        _place(rows, values, params, len(EXPORT_HEAD))
        latest = MetricSeries.objects.filter(run_id__in=ids, latest__isnull=False)
        _place(rows, latest.values_list(_text("run_id"), "key", "latest"), metrics, len(EXPORT_HEAD) + len(params))
        yield list(rows.values())


def _text(field: str) -> Cast:
    """A run id as the database spells it: rows are matched to their run by this text rather than by
    `UUID`, which the driver builds in Python, at a cost of ~2 µs for each of a run's ~15 rows."""
    return Cast(field, TextField())


def _place(rows: dict[Any, list[Any]], cells: Iterable[tuple[Any, str, Any]], keys: Sequence[str], first: int) -> None:
    """Put each (run id, key, value) into its run's row, in the column of its key (`first` + its index)."""
    columns = {key: first + i for i, key in enumerate(keys)}
    for run_id, key, value in cells:
        row, column = rows.get(run_id), columns.get(key)
        if row is not None and column is not None:
            row[column] = value
