"""Filter and ordering syntax trees to Django ORM expressions over `Node` (kind Run).

Every comparison on a metric, param or tag is an `EXISTS` over that table for the run's key, so a run
without the key never matches — not even `!=` or `NOT IN` (only an explicit `NOT (...)` inverts that);
a metric the runs are also ordered by is read from the ordering's join instead (`compile_filter`).
Text (in)equality goes through the (key, first `TEXT_PREFIX` characters) index, see `_text_compare`.
Values are typed: metrics hold numbers (the series summary: `LATEST` unless `MIN`/`MAX` says otherwise),
tags and most attributes hold text, and a param is compared as a number with a number and as its text
with a string. A mismatch is a `FilterError` at the offending token, never a silent empty result.
`LIKE`/`ILIKE` keep SQL's wildcards (`%`, `_`, `\\` escapes) with the same case rules on every database,
which is why they compile to an anchored regular expression rather than the database's own `LIKE`.

The filter only narrows: the caller's scope (`em.access.scope`) is applied by whoever runs the query, so
`attributes.path` looks its paths up with no access check of its own. That is what lets `LIKE
'/alice/%'` find a public run below folders the caller cannot see, and it leaks nothing: a match is a run
the caller may see, whose path (shown in every hit) spells those folders' names already, and a hidden
folder with nothing visible below matches nothing, exactly like a name that exists nowhere.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any, NamedTuple

from django.db.models import (
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Model,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.lookups import Exact, In
from django.utils.dateparse import parse_datetime

from em import errors, tree
from em.models import MetricSeries, Node, NodeQuerySet, Param, RunStatus, Tag
from em.models.runs import TEXT_PREFIX
from em.services import paths

from .errors import FilterError, OrderByError
from .grammar import BoolOp, Comparison, Entity, Expr, Literal, Not, OrderTerm

MAX_NESTING = 32
MAX_COMPARISONS = 100

COMPARE = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
# MLflow's status names, so filters written for MLflow keep working.
STATUS_ALIASES = {"finished": RunStatus.COMPLETE, "failed": RunStatus.ERROR, "scheduled": RunStatus.RUNNING}
# attribute -> (type, ORM field); `duration` and `path` are computed, see `_attribute`.
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "status": ("status", "run__status"),
    "name": ("text", "name"),
    "run_name": ("text", "name"),
    "start_time": ("time", "run__started_at"),
    "end_time": ("time", "run__ended_at"),
    "created": ("time", "created_at"),
    "duration": ("duration", ""),
    "created_by": ("text", "created_by__username"),
    "path": ("path", "path"),
    "run_id": ("uuid", "pk"),
}
_DURATION = ExpressionWrapper(F("run__ended_at") - F("run__started_at"), output_field=DurationField())


class Compiled(NamedTuple):
    where: Q
    filled: frozenset[str]  # joined columns (`order_0__latest`) that hold a value in every match
    # Every match has a metric, param or tag row, so a run row (their foreign key's target): the caller
    # need not join em_run to exclude run nodes without one.
    has_run: bool


def compile_filter(expr: Expr | None, *, joined: Mapping[str, str] | None = None) -> Compiled:
    """The `Q` selecting the runs `expr` describes, to narrow a queryset already scoped to the caller,
    the joined columns it compares in every match (never NULL there: see `order_runs`), and whether
    every match has a run row.

    `joined` maps metric keys to the aliases `order_runs` joined them under (`ordered_metrics`): a
    comparison on such a metric that every match must pass (not under OR or NOT) then reads the joined
    row instead of adding an `EXISTS`, so "`val.acc > 0.5` ordered by `val.acc`" reads the series once.
    """
    if expr is None:
        return Compiled(Q(), frozenset(), has_run=False)
    compiler = _Compiler(joined or {})
    where = compiler.compile(expr, 0, required=True)
    return Compiled(where, frozenset(compiler.filled), has_run=compiler.has_run)


class _Compiler:
    def __init__(self, joined: Mapping[str, str]) -> None:
        self.joined = joined
        self.comparisons = 0
        self.filled: set[str] = set()
        self.has_run = False  # a comparison every match passes reads a metric, param or tag row

    def compile(self, expr: Expr, depth: int, *, required: bool) -> Q:
        if depth > MAX_NESTING:
            raise _first_span(expr).error(f"The filter nests more than {MAX_NESTING} levels deep.")
        if isinstance(expr, BoolOp):
            required = required and expr.op == "AND"
            parts = [self.compile(item, depth + 1, required=required) for item in expr.items]
            return reduce(operator.and_ if expr.op == "AND" else operator.or_, parts)
        if isinstance(expr, Not):
            return ~self.compile(expr.item, depth + 1, required=False)
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise expr.entity.span.error(f"A filter holds at most {MAX_COMPARISONS} comparisons.")
        return self.comparison(expr, required=required)

    def comparison(self, c: Comparison, *, required: bool) -> Q:
        entity = c.entity
        if entity.aggregate and entity.kind != "metrics":
            raise _aggregate_error(entity)
        if required and entity.kind in RELATIONS:  # an EXISTS or inner join every match passes
            self.has_run = True
        if entity.kind == "metrics":
            _refuse_text_ops(c, "holds numbers")
            numbers = [_number(v, f"{entity.label} holds numbers") for v in c.values]
            field = entity.aggregate or "latest"
            alias = self.joined.get(entity.key)
            if required and alias is not None and c.op not in ("!=", "NOT IN"):  # no negation: NULL must fail
                self.filled.add(f"{alias}__{field}")  # a comparison no NULL passes
                return _compare(f"{alias}__{field}", c.op, numbers)
            return _exists(MetricSeries, entity.key, _compare(field, c.op, numbers))
        if entity.kind == "tags":
            texts = [_text(v, f"{entity.label} holds text") for v in c.values]
            return _exists(Tag, entity.key, _text_compare(c.op, texts))
        if entity.kind == "params":
            return _exists(Param, entity.key, _param_condition(c))
        return self.attribute(c)

    def attribute(self, c: Comparison) -> Q:
        kind, field = _attribute_of(c.entity)
        label = c.entity.label
        if kind in ("time", "duration", "uuid", "path"):
            _refuse_text_ops(c, "is not text", allow_like=kind == "path")
        if kind in ("duration",) and c.op in ("IN", "NOT IN"):
            raise c.op_span.error(f"{label} compares with =, !=, <, <=, > or >=, not {c.op}.")
        if kind in ("uuid", "path") and c.op in ("<", "<=", ">", ">="):
            raise c.op_span.error(f"{label} compares with =, !=, IN or NOT IN, not {c.op}.")
        if kind == "time":
            return _compare(field, c.op, [_time(v, label) for v in c.values])
        if kind == "duration":
            seconds = [_number(v, f"{label} is a number of seconds") for v in c.values]
            return _compare("run__ended_at", c.op, [F("run__started_at") + timedelta(seconds=s) for s in seconds])
        if kind == "uuid":
            return _compare(field, c.op, [_uuid(v, label) for v in c.values])
        if kind == "path":
            return self.path(c)
        texts = [_text(v, f"{label} is text") for v in c.values]
        if kind == "status" and c.op not in ("LIKE", "ILIKE"):
            texts = [_status(v, text) for v, text in zip(c.values, texts, strict=True)]
        return _compare(field, c.op, texts)

    def path(self, c: Comparison) -> Q:
        """`attributes.path = '/alice/a/run'` names runs; `LIKE '/alice/a/%'` everything below a folder.
        Paths are looked up unchecked: see the module's docstring for why that is safe and needed."""
        texts = [_text(v, "attributes.path is text") for v in c.values]
        if c.op in ("LIKE", "ILIKE"):
            folder = texts[0]
            if not folder.endswith("/%") or "%" in folder[:-2]:
                raise c.values[0].span.error(
                    "attributes.path LIKE takes a folder's path and '/%', as in '/alice/exp/%'."
                )
            node = _node_at(folder[:-2])
            if node is None:
                return Q(pk__in=[])
            low, high = tree.subtree_range(node.path)
            return Q(path__gt=low, path__lt=high)
        pks = [node.pk for node in map(_node_at, texts) if node is not None]
        return _compare("pk", "IN" if c.op in ("=", "IN") else "NOT IN", pks)


def _node_at(path: str) -> Node | None:
    """The live node at `path`, whoever may see it (the scope is applied to the results, not here);
    None for a path naming nothing or no path at all."""
    try:
        parts = paths.split(path)
    except errors.InvalidInput:
        return None
    found = paths.along(parts)
    return found[-1] if len(found) == len(parts) else None


def _param_condition(c: Comparison) -> Q:
    """Numbers compare with `Param.number` (so text params never match them), strings with the text."""
    if c.op in ("LIKE", "ILIKE"):
        return _compare("value", c.op, [_text(v, f"{c.op} compares text") for v in c.values])
    numbers = [v.value for v in c.values if isinstance(v.value, float)]
    texts = [v.value for v in c.values if isinstance(v.value, str)]
    if numbers and texts:  # IN / NOT IN with both kinds of literal
        either = _text_compare("IN", texts) | Q(number__in=numbers)
        return either if c.op == "IN" else ~either
    return _compare("number", c.op, numbers) if numbers else _text_compare(c.op, texts)


def _text_compare(op: str, texts: Sequence[str]) -> Q:
    """`value <op> texts` for a param or tag, written so (in)equality uses the (key, prefix) index.

    `prefix` is the stored `Left(value, TEXT_PREFIX)`, so `prefix = t` already means `value = t` when `t`
    is shorter than the prefix; a longer literal is matched by its prefix and then in full. `value` (and
    so `prefix`) is never NULL, so negating is exact. Comparing the column, not the expression, is what
    lets PostgreSQL answer from the index alone (`em.models.runs._prefix`).
    """
    if op in ("!=", "NOT IN"):
        return ~_text_compare("=" if op == "!=" else "IN", texts)
    if op not in ("=", "IN"):
        return _compare("value", op, texts)
    prefix = F("prefix")
    short = [text for text in texts if len(text) < TEXT_PREFIX]
    matches = [Q(In(prefix, short))] if short else []
    matches += [Q(Exact(prefix, text[:TEXT_PREFIX]), value=text) for text in texts if len(text) >= TEXT_PREFIX]
    return reduce(operator.or_, matches)


def _compare(field: str, op: str, values: Sequence[Any]) -> Q:
    """`field <op> values`; `!=` and `NOT IN` only match rows that have a value at all."""
    if op in ("LIKE", "ILIKE"):
        lookup = "regex" if op == "LIKE" else "iregex"
        return Q(**{f"{field}__{lookup}": like_to_regex(values[0])})
    if op in ("!=", "NOT IN"):
        positive = _compare(field, "=" if op == "!=" else "IN", values)
        return Q(**{f"{field}__isnull": False}) & ~positive
    if op == "IN":
        return Q(**{f"{field}__in": list(values)})
    return Q(**{f"{field}__{COMPARE[op]}": values[0]})


def _exists(model: type[Model], key: str, condition: Q) -> Q:
    rows: QuerySet[Any] = model._default_manager.filter(condition, run_id=OuterRef("pk"), key=key)
    return Q(Exists(rows))


def like_to_regex(pattern: str) -> str:
    """SQL LIKE to an anchored regex that PostgreSQL (ARE) and Python's `re` (SQLite) read alike."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        else:
            out.append({"%": ".*", "_": "."}.get(ch) or re.escape(ch))
    return "(?s)^" + "".join(out) + "$"


def order_runs(runs: NodeQuerySet, terms: Sequence[OrderTerm], *, filled: Collection[str] = ()) -> NodeQuerySet:
    """`runs` ordered by `terms` (runs lacking a key last either way), newest first without any,
    and always by pk last so pages never overlap.

    A metric, param or tag key is a LEFT JOIN on (run, key) — unique, so it never repeats a run —
    rather than a subquery per row, which lets PostgreSQL hash-join it over many runs at once.
    A joined column named in `filled` (`compile_filter`) holds a value in every match, so where it
    goes NULL does not matter: it sorts descending as plain `DESC`, the order a (key, value) index is
    read backwards in, and PostgreSQL can walk the index from the top and stop at the page's end
    instead of sorting every match (`DESC NULLS LAST` is an order no such index is kept in).
    """
    orderings: list[OrderBy] = []
    for index, term in enumerate(terms):
        runs, names = _order_values(runs, _alias(index), term.entity)
        for name in names:
            value = F(name)
            if term.descending and name in filled:
                orderings.append(value.desc())
            else:
                orderings.append(value.desc(nulls_last=True) if term.descending else value.asc(nulls_last=True))
    if not terms:
        orderings = [F("run__started_at").desc(nulls_last=True), F("created_at").desc()]
    return runs.order_by(*orderings, "pk")


# Straight from the node to the table (`em.models.runs._run_node`), not through `run__metrics`: that
# path joined em_run too, which the planner then had to order (a third of a search's planning time).
RELATIONS = {"metrics": "run_metrics", "params": "run_params", "tags": "run_tags"}


def ordered_metrics(terms: Sequence[OrderTerm]) -> dict[str, str]:
    """Metric key -> the alias `order_runs` joins that series under, for `compile_filter(joined=...)`."""
    found: dict[str, str] = {}
    for index, term in enumerate(terms):
        if term.entity.kind == "metrics":
            found.setdefault(term.entity.key, _alias(index))
    return found


def _alias(index: int) -> str:
    return f"order_{index}"


def _order_values(runs: NodeQuerySet, alias: str, entity: Entity) -> tuple[NodeQuerySet, list[str]]:
    """`runs` with what ordering by `entity` needs joined, and the names of the values to sort by."""
    if entity.aggregate and entity.kind != "metrics":
        raise _aggregate_error(entity, OrderByError)
    relation = RELATIONS.get(entity.kind)
    if relation is not None:
        joined = FilteredRelation(relation, condition=Q(**{f"{relation}__key": entity.key}))
        runs = runs.annotate(**{alias: joined})
        columns = {"metrics": [entity.aggregate or "latest"], "params": ["number", "value"], "tags": ["value"]}
        # params: numbers in numeric order first, then text params by their text
        return runs, [f"{alias}__{column}" for column in columns[entity.kind]]
    kind, field = _attribute_of(entity, OrderByError)
    if kind == "path":
        raise entity.span.error("Runs cannot be ordered by attributes.path.", OrderByError)
    if kind == "duration":
        return runs.annotate(**{alias: _DURATION}), [alias]
    return runs, [field]


def _attribute_of(entity: Entity, error: type[FilterError] = FilterError) -> tuple[str, str]:
    found = ATTRIBUTES.get(entity.key.lower())
    if found is None:
        names = ", ".join(name for name in ATTRIBUTES if name != "run_name")
        raise entity.span.error(f"Unknown attribute {entity.key!r}: one of {names}.", error)
    return found


def _aggregate_error(entity: Entity, error: type[FilterError] = FilterError) -> FilterError:
    assert entity.aggregate_span is not None  # noqa: S101 — set together with aggregate by the grammar
    function, name = entity.aggregate_span.text.upper(), f"{entity.kind}.{entity.key}"
    return entity.aggregate_span.error(f"{function} applies to metrics only, not {name}.", error)


def _refuse_text_ops(c: Comparison, what: str, *, allow_like: bool = False) -> None:
    if c.op in ("LIKE", "ILIKE") and not allow_like:
        raise c.op_span.error(f"{c.op} compares text, and {c.entity.label} {what}.")


def _first_span(expr: Expr) -> Any:
    while isinstance(expr, BoolOp):
        expr = expr.items[0]
    return expr.span if isinstance(expr, Not) else expr.entity.span


def _number(literal: Literal, what: str) -> float:
    if not isinstance(literal.value, float):
        raise literal.span.error(f"{what}: compare it with a number, not {literal.span.text}.")
    return literal.value


def _text(literal: Literal, what: str) -> str:
    if not isinstance(literal.value, str):
        raise literal.span.error(f"{what}: quote the value, as in '{literal.span.text}'.")
    return literal.value


def _status(literal: Literal, text: str) -> str:
    by_name = {s.lower(): s for s in RunStatus.values}
    found = by_name.get(text.lower()) or STATUS_ALIASES.get(text.lower())
    if found is None:
        raise literal.span.error(f"Unknown status {literal.span.text}: one of {', '.join(RunStatus.values)}.")
    return str(found)


def _time(literal: Literal, label: str) -> datetime:
    """Milliseconds since the epoch (MLflow's way) or an ISO 8601 time (UTC unless it says otherwise)."""
    if isinstance(literal.value, float):
        try:
            return datetime.fromtimestamp(literal.value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise literal.span.error(f"{literal.span.text} is out of range for {label}.") from None
    try:
        parsed = parse_datetime(literal.value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise literal.span.error(
            f"{label} compares with an ISO 8601 time ('2026-03-01T10:00:00Z') or milliseconds since the epoch,"
            f" not {literal.span.text}."
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(literal: Literal, label: str) -> uuid.UUID:
    try:
        return uuid.UUID(_text(literal, f"{label} is text"))
    except ValueError:
        raise literal.span.error(f"{literal.span.text} is not a run id.") from None
