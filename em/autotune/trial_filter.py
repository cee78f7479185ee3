"""The run filter language over a search's trials: the grammar of em/search (`parse_filter`,
`parse_order`, with their positioned errors) and its value helpers, compiled here to `Trial` queries.

em/search/compiler.py compiles to `Node` queries of runs (metric series, tags, paths), so only its
grammar and literal checks are reused; what a trial offers is:

- `metrics.<objective>` (or `metrics.value`): the trial's final value; MIN/MAX/LATEST do not apply;
- `params.<key>`: a flattened parameter, a number against a number, its text against a string;
- `attributes.status`, `attributes.id` (the trial number), `attributes.start_time`, `attributes.end_time`,
  `attributes.duration` (seconds).
"""

from __future__ import annotations

import operator
from datetime import timedelta
from functools import reduce

from django.db.models import DurationField, Exists, ExpressionWrapper, F, OrderBy, OuterRef, Q, QuerySet, Subquery

from em.models.autotune import Trial, TrialParam
from em.search import Comparison, Entity, Expr, OrderTerm, parse_filter, parse_order
from em.search.compiler import _compare, _number, _text, _time  # the literal checks, shared with runs
from em.search.grammar import BoolOp, Not

from .bundle import Problem, trial_status

MAX_COMPARISONS = 100
_DURATION = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
_ATTRIBUTES = {
    "status": "status",
    "id": "number",
    "number": "number",
    "start_time": "started_at",
    "end_time": "ended_at",
}


def filter_trials(trials: QuerySet[Trial], text: str, *, objective: str) -> QuerySet[Trial]:
    """`trials` narrowed by the filter `text` (empty: all); FilterError at the first bad token."""
    expr = parse_filter(text) if text.strip() else None
    if expr is None:
        return trials
    return trials.filter(_Compiler(objective).compile(expr))


def order_trials(trials: QuerySet[Trial], text: str, *, objective: str) -> QuerySet[Trial]:
    """`trials` ordered by `text` (`metrics.acc DESC, params.lr`), then by number; OrderByError if bad."""
    terms: list[OrderTerm] = parse_order(text) if text.strip() else []
    order: list[OrderBy] = []
    for index, term in enumerate(terms):
        expression = _order_expression(term.entity, objective, index)
        if isinstance(expression, tuple):
            alias, subquery = expression
            trials = trials.annotate(**{alias: subquery})
            expression = F(alias)
        order.append(expression.desc(nulls_last=True) if term.descending else expression.asc(nulls_last=True))
    return trials.order_by(*order, "number")


def _order_expression(entity: Entity, objective: str, index: int) -> F | tuple[str, Subquery]:
    if entity.aggregate is not None:
        raise entity.span.error("MIN, MAX and LATEST do not apply to trials.")
    if entity.kind == "metrics":
        _metric(entity, objective)
        return F("value")
    if entity.kind == "params":
        rows = TrialParam.objects.filter(trial_id=OuterRef("pk"), key=entity.key)
        return f"_order_{index}", Subquery(rows.values("number")[:1])
    if entity.kind == "attributes":
        if entity.key == "duration":
            return f"_order_{index}", Subquery(Trial.objects.filter(pk=OuterRef("pk")).values(d=_DURATION)[:1])
        return F(_attribute(entity))
    raise entity.span.error(f"Trials have no {entity.kind}; use metrics, params or attributes.")


def _metric(entity: Entity, objective: str) -> None:
    if entity.key not in {objective, "value", "final"}:
        raise entity.span.error(f"A trial has one metric, its final value: metrics.{objective or 'value'}.")


def _attribute(entity: Entity) -> str:
    field = _ATTRIBUTES.get(entity.key)
    if field is None:
        raise entity.span.error(
            f"Trials have no attribute {entity.key!r}: status, id, start_time, end_time or duration."
        )
    return field


class _Compiler:
    def __init__(self, objective: str) -> None:
        self.objective = objective
        self.comparisons = 0

    def compile(self, expr: Expr) -> Q:
        if isinstance(expr, BoolOp):
            parts = [self.compile(item) for item in expr.items]
            return reduce(operator.and_ if expr.op == "AND" else operator.or_, parts)
        if isinstance(expr, Not):
            return ~self.compile(expr.item)
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise expr.entity.span.error(f"A filter holds at most {MAX_COMPARISONS} comparisons.")
        return self.comparison(expr)

    def comparison(self, c: Comparison) -> Q:
        entity = c.entity
        if entity.aggregate is not None:
            raise entity.span.error("MIN, MAX and LATEST do not apply to trials.")
        if entity.kind == "metrics":
            _metric(entity, self.objective)
            return _compare("value", _numeric(c), [_number(v, f"{entity.label} holds numbers") for v in c.values])
        if entity.kind == "params":
            return Q(Exists(TrialParam.objects.filter(self.param(c), trial_id=OuterRef("pk"), key=entity.key)))
        if entity.kind != "attributes":
            raise entity.span.error(f"Trials have no {entity.kind}; use metrics, params or attributes.")
        if entity.key == "duration":
            seconds = [_number(v, f"{entity.label} is a number of seconds") for v in c.values]
            limits = [F("started_at") + timedelta(seconds=s) for s in seconds]
            return _compare("ended_at", _numeric(c, allow_in=False), limits)
        field = _attribute(entity)
        if field == "number":
            return _compare(field, _numeric(c), [_number(v, f"{entity.label} is a number") for v in c.values])
        if field in ("started_at", "ended_at"):
            return _compare(field, _numeric(c), [_time(v, entity.label) for v in c.values])
        texts = [_text(v, f"{entity.label} is text") for v in c.values]
        if c.op not in ("LIKE", "ILIKE"):
            try:
                texts = [trial_status(text) for text in texts]
            except Problem as exc:
                raise c.values[0].span.error(str(exc)) from None
        return _compare(field, c.op, texts)

    def param(self, c: Comparison) -> Q:
        if c.op in ("LIKE", "ILIKE"):
            return _compare("value", c.op, [_text(v, f"{c.op} compares text") for v in c.values])
        numbers = [v.value for v in c.values if isinstance(v.value, float)]
        texts = [v.value for v in c.values if isinstance(v.value, str)]
        if numbers and texts:
            either = Q(value__in=texts) | Q(number__in=numbers)
            return either if c.op == "IN" else ~either
        return _compare("number", c.op, numbers) if numbers else _compare("value", c.op, texts)


def _numeric(c: Comparison, *, allow_in: bool = True) -> str:
    if c.op in ("LIKE", "ILIKE") or (not allow_in and c.op in ("IN", "NOT IN")):
        raise c.op_span.error(f"{c.entity.label} compares with =, !=, <, <=, > or >=, not {c.op}.")
    return c.op
