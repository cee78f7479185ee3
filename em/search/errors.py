"""The one error a bad filter or ordering raises, pointing at the first token that is wrong.

The API maps it to 400 `{"error": {"code": "invalid_filter", "message", "detail": {position, line,
column, token, expected?}}}`: `position` counts characters from 0, `line` and `column` from 1, so an
editor can underline the token and a person can find it.
"""

from __future__ import annotations

from em.errors import InvalidInput


class FilterError(InvalidInput):
    code = "invalid_filter"

    def __init__(
        self,
        message: str,
        *,
        position: int,
        line: int,
        column: int,
        token: str,
        expected: list[str] | None = None,
    ) -> None:
        detail: dict[str, object] = {"position": position, "line": line, "column": column, "token": token}
        if expected:
            detail["expected"] = expected
        super().__init__(message, detail=detail)
        self.position = position
        self.line = line
        self.column = column
        self.token = token
        self.expected = expected


class OrderByError(FilterError):
    """The same failure in `order_by`: positions count within that one ordering term."""

    code = "invalid_order_by"
