"""Page-number pagination: `?page=N&page_size=M` (at most 1,000), answering `{count, next, previous, results}`.

`PagePagination` counts every item, as DRF does. `CappedCountPagination` (the run search) counts at most
`count_limit` matches unless asked for the exact figure: counting all 8,000 matches of a filter over
100,000 runs cost as much as finding and sorting the page itself, for a number a person reads as "many".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
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

    The page is fetched with one row more than it shows, so whether another page follows is known
    without any count; a page that is the last one also tells the total, so a short result costs no
    count query at all. Otherwise the count is `SELECT COUNT(*)` over at most `count_limit + 1` matches,
    unordered (the database may stop at the limit rather than sort), or over all of them with
    `?exact_count=1` or `?page=last`. The count of a search never depends on which page was asked for,
    so a client that polls page 1 can compare it with the count it showed.
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
        rows = list(queryset[offset : offset + size + 1])
        if not rows and self.number > 1:
            raise NotFound(self.invalid_page_message)
        self.has_next = len(rows) > size
        rows = rows[:size]
        seen = offset + len(rows) + self.has_next  # matches known to exist without counting
        if not self.has_next and (exact or seen <= self.count_limit):
            self.count, self.count_exact = seen, True
        elif exact:
            self.count, self.count_exact = queryset.order_by().count(), True
        elif seen > self.count_limit:
            self.count, self.count_exact = self.count_limit, False
        else:
            found = queryset.order_by()[: self.count_limit + 1].count()
            self.count, self.count_exact = min(found, self.count_limit), found <= self.count_limit
        return rows

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
