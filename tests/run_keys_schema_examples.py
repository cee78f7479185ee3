"""Requests for `GET /api/v1/runs/keys`, for tests/test_schema_conformance.py's table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

RUN_KEYS_EXAMPLES: dict[str, list[Callable[[APIClient, Any], Any]]] = {
    "GET /api/v1/runs/keys": [
        lambda c, w: c.get("/api/v1/runs/keys", {"folder": "/alice/work"}),
        lambda c, w: c.get("/api/v1/runs/keys", {"filter": "metrics.x >>> 1"}),
    ],
}
