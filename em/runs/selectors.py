"""Reading runs: the search behind `GET /api/v1/runs` and its CSV export, and the rows they show.

Scope comes first and from `em.access` alone: the runs a user may see (or those below a folder they
may see), never trashed ones; the filter and ordering only narrow and sort that. A page is fetched in
two steps — the ordered ids of the page from the (lean) search query, then those runs with everything
a row shows (`runs_by_id`, `RowCells.load`) — because joining users and runs into a query that filters
and sorts 100,000 runs makes PostgreSQL carry wide rows through the whole plan. Either way a page costs
the same few queries however many runs it holds, and it is read as plain column values: building a
model instance for each of a page's ~1,500 params, metric summaries and tags, and five joined instances
for each node, cost ten times what reading their columns costs. The API turns the nodes and cells into
rows (`em.api.run_detail.run_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, FloatField, Prefetch, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In

from em import access
from em.models import Kind, MetricSeries, Node, NodeQuerySet, Param, Run, Tag
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
    folder: Node | None = None,
    order_by: Sequence[str] = (),
) -> NodeQuerySet:
    """Run nodes visible to `user` (below `folder`, which the caller has checked they may see) that
    match `filter`, ordered by `order_by` terms such as `metrics.val.acc DESC` (newest first without).

    Raises FilterError / OrderByError, with the position of the first bad token, before any query.
    Take the page's ids from it (`.values_list("pk", flat=True)[a:b]`) and load them with `runs_by_id`.
    """
    expr = parse_filter(filter)
    terms = [term for text in order_by if text.strip() for term in parse_order(text)]
    where, filled = compile_filter(expr, joined=ordered_metrics(terms))
    runs = access.scope(Node.objects.filter(kind=Kind.RUN), user)
    if folder is not None:
        runs = runs.subtree(folder.path)
    return order_runs(runs.filter(run__isnull=False), terms, filled=filled).filter(where)


_NODE_COLUMNS = tuple(f.attname for f in Node._meta.concrete_fields)
# What a RunRow shows of the run row; the rest (hyper-parameters, platform, git: large JSON) is left unread.
ROW_RUN_COLUMNS = ("node_id", "status", "started_at", "ended_at", "alternative_name", "source_type", "source_name")


class _AnyOf(In):
    """`column IN (ids)`, sent to PostgreSQL as `column = ANY(%s)` with the ids as one array: a page's
    100 ids as 100 placeholders each cost the driver splicing them into the SQL, and the server a
    longer statement to parse."""

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


_NO_TEXT = Value(None, output_field=TextField())
_NO_NUMBER = Value(None, output_field=FloatField())
_USER_FIELDS = ("owner", "created_by", "editor")
_USER_COLUMNS = tuple(f"{name}__username" for name in _USER_FIELDS)


def runs_by_id(ids: Sequence[Any]) -> list[Node]:
    """The run nodes with these ids, in this order, with their run rows (the RunRow columns only), users
    (id and username) and parents (id and kind: whether a run is nested in another, which the rows
    show): one query of plain columns. Their params, metrics and tags come with `RowCells.load`.

    The related objects go straight into the nodes' relation caches, as a `select_related` leaves them:
    assigning them (`node.owner = user`) checks each one's type and database, five times a row."""
    if not ids:
        return []
    columns = (*_NODE_COLUMNS, *(f"run__{c}" for c in ROW_RUN_COLUMNS[1:]), *_USER_COLUMNS, "parent__kind")
    node_end, run_end = len(_NODE_COLUMNS), len(_NODE_COLUMNS) + len(ROW_RUN_COLUMNS) - 1
    user_model = get_user_model()
    users: dict[Any, Any] = {None: None}
    parents: dict[Any, Node] = {}
    found: dict[Any, Node] = {}
    query = Node.objects.filter(_AnyOf(F("pk"), list(ids)))
    db = query.db
    for values in query.values_list(*columns):
        node = Node.from_db(db, _NODE_COLUMNS, values[:node_end])
        cache = node._state.fields_cache
        cache["run"] = Run.from_db(db, ROW_RUN_COLUMNS, (node.pk, *values[node_end:run_end]))
        for name, pk, username in zip(_USER_FIELDS, _user_ids(node), values[run_end:-1], strict=True):
            if pk not in users:
                users[pk] = user_model(pk=pk, username=username)  # all a row shows of a user
            cache[name] = users[pk]
        if node.parent_id is not None:  # its other fields are deferred: read if ever asked for
            if node.parent_id not in parents:
                parents[node.parent_id] = Node.from_db(db, ("id", "kind"), (node.parent_id, values[-1]))
            cache["parent"] = parents[node.parent_id]
        found[node.pk] = node
    return [found[pk] for pk in ids if pk in found]


def _user_ids(node: Node) -> tuple[Any, Any, Any]:
    return node.owner_id, node.created_by_id, node.editor_id


@dataclass
class RowCells:
    """What a RunRow shows of a run's params (text as written), latest metric values and tags, by run id."""

    params: dict[Any, dict[str, str]] = field(default_factory=dict)
    metrics: dict[Any, dict[str, float | None]] = field(default_factory=dict)
    tags: dict[Any, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, ids: Sequence[Any]) -> RowCells:
        """One query of plain columns whatever the number of runs (none for none): the three tables'
        rows in one `UNION ALL` (a text and a number column, each NULL where its table has none), in key order.
        Run ids come as text (hex digits, with dashes on PostgreSQL), matched back to `ids`: ~1,500 rows
        a page would each build a `UUID`."""
        ids = list(ids)
        by_hex = {pk.hex: pk for pk in ids}
        cells = cls()
        if not ids:
            return cells
        parts = [
            table.objects.filter(_AnyOf(F("run_id"), ids)).values_list(
                Value(kind), _text("run_id"), "key", text, number
            )
            for kind, table, text, number in (
                ("params", Param, "value", _NO_NUMBER),
                ("metrics", MetricSeries, _NO_TEXT, "latest"),
                ("tags", Tag, "value", _NO_NUMBER),
            )
        ]
        for kind, run_id, key, text, number in parts[0].union(*parts[1:], all=True).order_by("key"):
            run = by_hex[run_id.replace("-", "")]
            getattr(cells, kind).setdefault(run, {})[key] = number if kind == "metrics" else text
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
