"""The base of every MLflow endpoint: EM's key auth and permissions, MLflow's request and error shapes.

MLflow's wire format is protobuf's JSON: a server ignores fields it does not know (clients of other
versions send them), so these views read the fields they need and do not refuse the rest, the one
place EM's strict-body rule gives way to the format it serves. Bodies parse with NaN and Infinity
(metric values MLflow allows); GET parameters come from the query string, lists as repeated keys.
These endpoints are MLflow's API, documented by MLflow and docs/mlflow.md, not EM's OpenAPI schema
(whose error shape they do not use).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar
from uuid import UUID

from rest_framework.request import Request
from rest_framework.views import APIView

from em.access import Checker
from em.api.runs import PointsJSONParser

from . import errors


class MlflowView(APIView):
    schema = None  # MLflow's API, not EM's: see the module docstring
    parser_classes: ClassVar[list[Any]] = [PointsJSONParser]  # type: ignore[misc]
    checker: Checker

    def get_exception_handler(self) -> Any:
        return errors.exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.checker = Checker(request.user)

    def params(self) -> dict[str, Any]:
        """The request's fields: the JSON body, or for GET the query string (a repeated key is a list)."""
        if self.request.method == "GET":
            query = self.request.query_params
            return {key: (values if len(values) > 1 else values[0]) for key, values in query.lists()}
        data = self.request.data
        if not isinstance(data, dict):
            raise errors.MlflowError("The request body must be a JSON object.")
        return data


def text(params: dict[str, Any], *names: str, required: bool = True, default: str = "") -> str:
    """The first of `names` given (MLflow renamed `run_uuid` to `run_id`, and clients send both)."""
    for name in names:
        value = params.get(name)
        if value is not None and value != "":
            if not isinstance(value, str | int):
                raise errors.MlflowError(f"Invalid value for parameter '{name}': expected a string.")
            return str(value)
    if required:
        raise errors.MlflowError(f"Missing value for required parameter '{names[0]}'.")
    return default


def is_uuid(value: str) -> bool:
    """Whether `value` spells an id: anything else names nothing, and is not worth a query."""
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def integer(params: dict[str, Any], name: str, *, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.MlflowError(f"Invalid value {value!r} for parameter '{name}': expected an integer.") from None


def listed(params: dict[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        return [value]
    return value


def pairs(params: dict[str, Any], name: str) -> dict[str, str]:
    """`[{"key": ..., "value": ...}]` (params, tags) as a mapping, in order; a later key wins."""
    out: dict[str, str] = {}
    for item in listed(params, name):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise errors.MlflowError(f"Each of '{name}' is an object with a string 'key' and 'value'.")
        value = item.get("value", "")
        out[item["key"]] = value if isinstance(value, str) else json.dumps(value)
    return out


def page_offset(token: str) -> int:
    """The offset a `page_token` of ours encodes (base64 of `{"offset": n}`)."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.MlflowError(f"Invalid page token {token[:80]!r}.") from None
    if not isinstance(offset, int) or offset < 0:
        raise errors.MlflowError(f"Invalid page token {token[:80]!r}.")
    return offset


def next_token(offset: int, size: int, total_seen: int) -> str | None:
    """A token for the page after `offset`+`size`, when the page came back full."""
    if total_seen <= size:
        return None
    return base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
