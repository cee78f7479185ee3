"""The portal's page: Django serves the single-page app's shell; the app itself talks to /api/v1 only.

Vite writes the build into static/frontend/app/ with a manifest naming the hashed entry files; the
shell reads it (again whenever the file changes, so a rebuild shows without a restart). Without a build
the shell would be a blank page, so a page saying how to build it is served instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie

MANIFEST = "frontend/app/manifest.json"
ENTRY = "src/main.tsx"
APP_PREFIX = "frontend/app/"


@dataclass(frozen=True)
class Entry:
    """The built entry's static paths (relative to STATIC_URL): its script and its stylesheets."""

    js: str
    css: list[str] = field(default_factory=list)


_cache: dict[str, tuple[float, Entry]] = {}


def _manifest_path() -> Path | None:
    """The manifest from the app's static directory (development) or STATIC_ROOT (collected)."""
    found = finders.find(MANIFEST)
    if isinstance(found, list):
        found = found[0] if found else None
    if found:
        return Path(found)
    collected = Path(settings.STATIC_ROOT) / MANIFEST
    return collected if collected.is_file() else None


def built_entry() -> Entry | None:
    """The entry named by Vite's manifest, or None when the portal has not been built."""
    path = _manifest_path()
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime
        cached = _cache.get(str(path))
        if cached and cached[0] == mtime:
            return cached[1]
        chunk = json.loads(path.read_text())[ENTRY]
        entry = Entry(js=APP_PREFIX + chunk["file"], css=[APP_PREFIX + c for c in chunk.get("css", [])])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _cache[str(path)] = (mtime, entry)
    return entry


@ensure_csrf_cookie
def index(request: HttpRequest, **_route: str) -> HttpResponse:
    """Every portal address (/, /browse/…, /runs/…): the same shell; the app's router draws the page.

    Signing in is Django's form, so a visitor without a session goes there first and comes back.
    The CSRF cookie set here is what lets the app write through the API.
    """
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
    entry = built_entry()
    if entry is None:
        return render(request, "frontend/build_missing.html", {"manifest": MANIFEST}, status=503)
    return render(request, "frontend/index.html", {"entry": entry})


def signin(request: HttpRequest) -> HttpResponse:
    """/signin?next=…: Django's sign-in form, or straight to `next` for who is signed in already."""
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.user.is_authenticated:
        return redirect(next_url)
    return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")
