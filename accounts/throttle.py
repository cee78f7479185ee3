"""Failed sign-ins and invalid API keys meet a 429 with `Retry-After` instead of an endless guess.

Passwords (the login page, the admin's) are django-axes' job: it counts failures per client IP and per
user name in the cache and calls `login_locked_out` for the answer. API keys are counted here, the same
way: per client IP and per key prefix (the first characters a client sends, so one script stuck on a
revoked key is stopped without locking out its whole network). Both use Django's default cache, which
is Redis when EM_REDIS_URL is set, so a limit holds across gunicorn workers and replicas.

A blocked client is refused *before* its key is looked at: otherwise a guess that happened to be right
would still get in, and the limit would slow nothing down.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

_PREFIX = "em:apikey-failures"


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the entry EM_TRUSTED_PROXY_COUNT hops back in
    X-Forwarded-For when that many proxies (which each append the address they saw) stand in front.

    Entries further left were written by the client and prove nothing, so they are never used. None
    when there is no address at all (axes stores it in an IP column, where a placeholder would not fit).
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.EM_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else remote


def lockout_period() -> timedelta:
    return timedelta(minutes=settings.EM_AUTH_LOCKOUT_MINUTES)


def login_locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: the login page again, with 429 and Retry-After."""
    seconds = int(lockout_period().total_seconds())
    response = render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "locked_out_minutes": math.ceil(seconds / 60),
            "next": request.POST.get("next") or request.GET.get("next") or "/",
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _keys(request: HttpRequest, key_prefix: str) -> dict[str, str]:
    """Cache keys of the counters this attempt is charged to; hashed, so any header bytes make a valid key."""
    parts = {"ip": client_ip(request) or "unknown", "key": key_prefix}
    return {kind: f"{_PREFIX}:{kind}:{hashlib.sha256(v.encode()).hexdigest()[:32]}" for kind, v in parts.items()}


def key_attempts_blocked(request: HttpRequest, key_prefix: str) -> int | None:
    """Seconds until this client (or this key prefix) may try API keys again, or None if it may now."""
    blocked_until = cache.get_many([f"{k}:until" for k in _keys(request, key_prefix).values()])
    if not blocked_until:
        return None
    return max(1, math.ceil(max(blocked_until.values()) - time.time()))


def record_key_failure(request: HttpRequest, key_prefix: str) -> None:
    """Count one invalid key; at EM_API_KEY_FAILURE_LIMIT, block for EM_AUTH_LOCKOUT_MINUTES.

    Each failure restarts the period (as axes does for passwords), so a client that keeps guessing
    stays blocked; one that stops is free again a period after its last failure.
    """
    period = int(lockout_period().total_seconds())
    for key in _keys(request, key_prefix).values():
        if cache.add(key, 1, timeout=period):
            failures = 1
        else:
            try:
                failures = cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=period)
                failures = 1
            cache.touch(key, timeout=period)
        if failures >= settings.EM_API_KEY_FAILURE_LIMIT:
            cache.set(f"{key}:until", time.time() + period, timeout=period)
