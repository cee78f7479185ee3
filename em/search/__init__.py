"""Run search: the filter language (`grammar`), its compilation to ORM expressions (`compiler`) and the
error that points at a bad token (`errors`). `em.runs.selectors.search_runs` puts them together."""

from .compiler import Compiled, compile_filter, like_to_regex, order_runs, ordered_metrics
from .errors import FilterError, OrderByError
from .grammar import Comparison, Entity, Expr, OrderTerm, parse_filter, parse_order

__all__ = [
    "Comparison",
    "Compiled",
    "Entity",
    "Expr",
    "FilterError",
    "OrderByError",
    "OrderTerm",
    "compile_filter",
    "like_to_regex",
    "order_runs",
    "ordered_metrics",
    "parse_filter",
    "parse_order",
]
