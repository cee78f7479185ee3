"""What every T9k AIStore endpoint shares: `?apikey=<uuid>` sign-in, the plain-text errors the T9k SDK
parses, node JSON in that API's shape, and its pagination.

The SDK reads error bodies as text and matches exact words: `permission denied` (403), `Invalid
conflicting node Name` (400), `node not found [<path>]` (404; it splits on the bracket), `api key …
not found` (400); an empty 404 means the address is wrong. So EM's errors are mapped here, once, to
those texts instead of EM's JSON error shape. The key travels in the URL, which is why em.api.t9k.redact
takes it out of every log line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as key_services
from accounts import throttle
from accounts.models import ApiKey
from em import errors
from em.access import Checker, Level
from em.api.errors import _body_limit_error
from em.api.json_codec import JSONParser
from em.models import Node
from em.services.paths import display_paths

PERMISSION_DENIED = "permission denied"
NAME_CLASH = "Invalid conflicting node Name"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class KeyNotFound(errors.EMError):
    """The `apikey` names no live key (the SDK reads `api key … not found` as "log in again")."""

    status = 400


def masked(key: str) -> str:
    """Enough of a sent key to recognise it in an error, never enough to use it."""
    return f"{key[:8]}…" if len(key) > 8 else "…"


class QueryKeyAuthentication(BaseAuthentication):
    """`?apikey=<the UUID form of an EM API key>` (accounts.services.uuid_form); invalid ones are counted
    per client IP and key prefix like bearer keys (accounts.throttle)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        sent = request.query_params.get("apikey")
        if sent is None:
            return None
        prefix = sent[:8]
        wait = throttle.key_attempts_blocked(request._request, prefix)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail="too many invalid api keys; wait and retry")
        try:
            return key_services.authenticate_uuid_key(sent)
        except key_services.KeyRejected as exc:
            throttle.record_key_failure(request._request, prefix)
            raise KeyNotFound(f"api key {masked(sent)} not found: {exc.message}") from exc

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey realm="em", query="apikey"'


class SignedInWithScope(BasePermission):
    """Signed in by a key, and a `read` key only reads (403 `permission denied` on every write)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("api key required: add ?apikey=<the UUID form of your EM API key>")
        key = request.auth
        if isinstance(key, ApiKey) and key.scope == ApiKey.Scope.READ and request.method not in SAFE_METHODS:
            raise errors.PermissionDenied(PERMISSION_DENIED)
        return True


def text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def error_text(exc: Exception) -> HttpResponse | None:
    """An exception as the T9k API's plain-text answer; None for what is not an error a client made."""
    exc = _body_limit_error(exc) or exc
    if isinstance(exc, errors.PermissionDenied):
        return text(403, PERMISSION_DENIED)
    if isinstance(exc, errors.NameClash):
        return text(400, NAME_CLASH)
    if isinstance(exc, errors.NotFound):
        message = exc.message if "[" in exc.message else f"not found [{exc.message}]"
        return text(404, message)
    if isinstance(exc, errors.EMError):
        return text(exc.status, exc.message)
    if isinstance(exc, exceptions.PermissionDenied):
        return text(403, PERMISSION_DENIED)
    if isinstance(exc, exceptions.ValidationError):
        return text(400, _first(exc.detail))
    if isinstance(exc, exceptions.APIException):
        return text(exc.status_code, str(exc.detail))
    return None


def _first(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            return f"{field}: {_first(value)}"
    if isinstance(detail, list) and detail:
        return _first(detail[0])
    return str(detail) or "invalid request"


def _handle(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    return error_text(exc)


class T9kView(APIView):
    """Base of the T9k endpoints: key in the query, JSON answers, text errors, never cached, and left out
    of EM's OpenAPI schema (this is another product's API; docs/t9k.md describes it)."""

    authentication_classes = [QueryKeyAuthentication]
    permission_classes = [SignedInWithScope]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list[Any] = []
    schema = None
    checker: Checker

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.checker = Checker(request.user)

    def get_exception_handler(self) -> Any:
        return _handle

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    def param(self, name: str, *, required: bool = True) -> str:
        value = self.request.query_params.get(name)
        if value is None or (required and not value):
            if required:
                raise errors.InvalidInput(f"query parameter {name!r} is required")
            return ""
        return value

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise errors.InvalidInput("the body must be a JSON object")
        return dict(data)


def page_of(request: Request) -> tuple[int, int]:
    """(page, size) from `?page=&size=`: pages count from 1 (0 reads as the first), size 1 to 1000."""
    try:
        page = max(int(request.query_params.get("page") or 1), 1)
        size = int(request.query_params.get("size") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise errors.InvalidInput("page and size are whole numbers") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise errors.InvalidInput(f"size is from 1 to {MAX_PAGE_SIZE}")
    return page, size


def paginated(items: list[dict[str, Any]] | None, *, page: int, size: int, total: int) -> dict[str, Any]:
    """`{"data": [...] | null, "pagination": {...}}`: an empty page is `null`, as that API answers."""
    return {"data": items or None, "pagination": {"page": page, "size": size, "total": total}}


def _timestamp(node: Node) -> str:
    return node.modified_at.isoformat().replace("+00:00", "Z")


def node_json(checker: Checker, nodes: Sequence[Node]) -> list[dict[str, Any]]:
    """Nodes in the T9k shape: two queries at most (grants, paths) for any number of nodes, editors
    loaded with them. `extra` is a JSON *string*, as the SDK expects (it holds `alternativeName`)."""
    if not nodes:
        return []
    levels = checker.levels(nodes)
    paths = display_paths(nodes)
    return [
        {
            "id": str(node.pk),
            "name": node.name,
            "path": paths[node.pk],
            "type": node.kind,
            "storageType": int(node.storage_type),
            "labels": list(node.labels or []),
            "description": node.description,
            "editor": node.editor.username if node.editor is not None else "",
            "extra": json.dumps(node.extra or {}, ensure_ascii=False),
            "modifiedTimestamp": _timestamp(node),
            "permission": max(levels[node.pk], Level.VIEW).label,
        }
        for node in nodes
    ]


def ok(data: Any, status: int = 200) -> Response:
    return Response(data, status=status)


__all__ = [
    "NAME_CLASH",
    "PERMISSION_DENIED",
    "KeyNotFound",
    "QueryKeyAuthentication",
    "SignedInWithScope",
    "T9kView",
    "error_text",
    "masked",
    "node_json",
    "ok",
    "page_of",
    "paginated",
]
