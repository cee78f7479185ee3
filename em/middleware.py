"""Response headers every answer of a kind must carry, set once here rather than in each view."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

# Public descriptions of the API, the same for everyone: caching them harms nobody.
PUBLIC_API_PREFIXES = ("/api/schema/", "/api/docs/")


class PrivateApiAnswers:
    """`Cache-Control: no-store` (with Django's never-cache companions) on every API answer.

    Each answer under /api/ is what one caller may see (their nodes, runs, keys, files), so no shared
    cache or browser history may keep it: a proxy that served it to the next user would leak it, and a
    back button after sign-out would show it. The headers overwrite whatever a view set.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path_info
        if (path == "/api" or path.startswith("/api/")) and not path.startswith(PUBLIC_API_PREFIXES):
            if "Cache-Control" in response:
                del response["Cache-Control"]
            add_never_cache_headers(response)
        return response
