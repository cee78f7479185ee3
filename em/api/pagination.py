"""Page-number pagination: `?page=N&page_size=M` (at most 1,000), answering `{count, next, previous, results}`.

`PagePagination` counts every item, as DRF does. `CappedCountPagination` (the run search) counts at most
`count_limit` matches unless asked for the exact figure: counting all 8,000 matches of a filter over
100,000 runs cost as much as finding and sorting the page itself, for a number a person reads as "many".
Up to that many matches, the page and its count are one query (`sorted_sample`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, OrderBy, QuerySet
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class PagePagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 1,000), answering `{count, next, previous, results}`."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


TRUE = frozenset({"1", "true", "yes", "on"})
MAX_PAGE = 2**40  # times the largest page (1,000) stays below 2**63


class CappedCountPagination(PagePagination):
    """Pages of an ordered queryset whose count stops at `count_limit` (`count_exact` false past it).

    First one query takes any `count_limit + 1` matches (no order: the database may stop there),
    counts them and sorts only those (`sorted_sample`). When they are all there are — the common case —
    that query gave both the page and its exact count. Otherwise the page comes from the ordered query,
    fetched with one row more than it shows so that whether another page follows is known, and the
    count is the limit, flagged as not exact. `?exact_count=1` or `?page=last` count every match
    instead. The count of a search never depends on which page was asked for, so a client that polls
    page 1 can compare it with the count it showed.
    """

    count_limit = 1000
    exact_count_query_param = "exact_count"

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet):
            raise TypeError("CappedCountPagination counts in the database: give it a queryset.")
        self.request = request
        self.url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size
        exact = str(request.query_params.get(self.exact_count_query_param, "")).lower() in TRUE
        asked = request.query_params.get(self.page_query_param) or "1"
        if asked in self.last_page_strings:
            total = queryset.order_by().count()
            self.number, exact = max(1, -(-total // size)), True
        else:
            self.number = self._number(asked)
        offset = (self.number - 1) * size
        if not exact:
            found, rows = sorted_sample(queryset, most=self.count_limit, offset=offset, size=size + 1)
            if found is not None and found <= self.count_limit:  # every match: the page and the count
                return self._page(rows, size, count=found, count_exact=True)
        rows = list(queryset[offset : offset + size + 1])
        if not rows and self.number > 1:
            raise NotFound(self.invalid_page_message)
        if exact:
            if len(rows) <= size:  # the last page tells the total
                return self._page(rows, size, count=offset + len(rows), count_exact=True)
            return self._page(rows, size, count=queryset.order_by().count(), count_exact=True)
        return self._page(rows, size, count=self.count_limit, count_exact=False)

    def _page(self, rows: list[Any], size: int, *, count: int, count_exact: bool) -> list[Any]:
        if not rows and self.number > 1:
            raise NotFound(self.invalid_page_message)
        self.has_next = len(rows) > size
        self.count, self.count_exact = count, count_exact
        return rows[:size]

    def _number(self, text: str) -> int:
        """The page asked for; past `MAX_PAGE` there is none (its offset would not fit the database's
        integers), as there is none below 1."""
        try:
            number = int(text)
        except ValueError:
            raise NotFound(self.invalid_page_message) from None
        if not 1 <= number <= MAX_PAGE:
            raise NotFound(self.invalid_page_message)
        return number

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return replace_query_param(self.url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number == 1:
            return None
        if self.number == 2:
            return remove_query_param(self.url, self.page_query_param)
        return replace_query_param(self.url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["properties"]["count"]["description"] = (
            f"How many match, counted up to {self.count_limit:,} unless `exact_count` was asked for."
        )
        paged["properties"]["count_exact"] = {
            "type": "boolean",
            "description": f"False when more than {self.count_limit:,} match and `count` says only that many.",
        }
        paged["required"] = [*paged["required"], "count_exact"]
        return paged


EXACT_COUNT = OpenApiParameter(
    "exact_count",
    bool,
    description="Count every match, however many: `count` is then exact. Without it the count stops at "
    f"{CappedCountPagination.count_limit:,} (`count_exact` false), which costs far less over many runs; "
    "`next` says whether another page follows either way.",
)


def sorted_sample(queryset: QuerySet[Any, Any], *, most: int, offset: int, size: int) -> tuple[int | None, list[Any]]:
    """How many rows a sample of at most `most + 1` rows of `queryset` held, and the primary keys of
    `size` of them from `offset` in the queryset's order: one query, the sample taken unordered (so the
    database may stop once it has enough), counted beside each row and then sorted. When it held at
    most `most` rows it held them all, and the keys are the queryset's own page. The count is None when
    it cannot be told: an empty slice past the first row.
    """
    db = queryset.db
    connection = connections[db]
    orders = [_ordering(term) for term in queryset.query.order_by]
    sorts = {f"_sort{i}": order.expression for i, order in enumerate(orders)}
    sample = queryset.order_by().annotate(_row=F("pk"), **sorts).values_list("_row", *sorts)[: most + 1]
    compiler = sample.query.get_compiler(using=db)
    try:
        inner, params = compiler.as_sql()
    except EmptyResultSet:  # a filter that can match nothing (`pk IN ()`), known before asking
        return 0, []
    by: list[str] = []
    for name, order in zip(sorts, orders, strict=True):
        column = RawSQL(connection.ops.quote_name(name), ())  # noqa: S611 — our own alias, quoted
        text, by_params = compiler.compile(
            OrderBy(column, descending=order.descending, nulls_first=order.nulls_first, nulls_last=order.nulls_last)
        )
        by.append(text)
        params = (*params, *by_params)
    row = connection.ops.quote_name("_row")
    sort = f" ORDER BY {', '.join(by)}" if by else ""
    sql = f"SELECT {row}, COUNT(*) OVER () FROM ({inner}) AS sample{sort} LIMIT %s OFFSET %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, size, offset))
        rows = cursor.fetchall()
    if not rows:
        return (0 if offset == 0 else None), []
    pk = queryset.model._meta.pk
    return rows[0][1], [pk.to_python(value) for value, _ in rows]


def _ordering(term: Any) -> OrderBy:
    """An `order_by()` term as an `OrderBy`: `"-name"` is `F("name").desc()`."""
    if isinstance(term, OrderBy):
        return term
    if isinstance(term, str):
        return OrderBy(F(term.removeprefix("-")), descending=term.startswith("-"))
    return OrderBy(term)
