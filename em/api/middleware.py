"""Refuse API requests whose URL holds text the database cannot take.

A `%00` in a path segment or a query parameter arrives in Python as NUL, and PostgreSQL refuses NUL in
any text it is compared with: `nodes/resolve?path=/alice/a%00`, a tag key or metric key in the path, a
search's `folder_path` would each fail as a 500 in whichever view first queried with it. No name, key or
path EM stores can hold NUL, so such a URL names nothing: it is refused here, once, in the error shape.
(Invalid UTF-8 in a URL cannot reach a view as text: Django decodes it to U+FFFD or keeps it escaped.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from em.api.errors import error_body
from em.services.validation import unstorable


class RefuseUnstorableURLs:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith("/api/"):
            where, why = _unstorable_part(request)
            if why is not None:
                return JsonResponse(error_body("invalid", f"The {where} {why}.", {"field": where}), status=400)
        return self.get_response(request)


def _unstorable_part(request: HttpRequest) -> tuple[str, str | None]:
    """(which part of the URL, why it cannot be stored) — why is None when every part can."""
    why = unstorable(request.path_info)
    if why is not None:
        return "path", why
    for name, values in request.GET.lists():
        for text in (name, *values):
            why = unstorable(text)
            if why is not None:
                return f"parameter {name.replace(chr(0), '')[:50]!r}", why
    return "", None
