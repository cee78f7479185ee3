"""Requests for every AutoTune operation, for tests/test_schema_conformance.py's table.

Each example starts a live search of its own in alice's `/alice/work` (with trial 0 when it needs one)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from rest_framework.test import APIClient

_names = count()
J = {"format": "json"}
PROFILE = {"objective": {"metric": "acc", "goal": "maximize"}, "maxTrialNum": 4}


def _created(c: APIClient, w: Any) -> Any:
    body = {"parent_path": "/alice/work", "name": f"search-{next(_names)}", "profile": PROFILE}
    return c.post("/api/v1/autotune", body, **J)


def _search(c: APIClient, w: Any, *, trial: bool = True) -> str:
    url = f"/api/v1/autotune/{_created(c, w).json()['id']}"
    if trial:
        c.post(f"{url}/trials", {"id": 0, "parameters": {"lr": 0.1}, "final": 0.5, "status": "Succeeded"}, **J)
    return url


AUTOTUNE_EXAMPLES: dict[str, list[Callable[[APIClient, Any], Any]]] = {
    "POST /api/v1/autotune": [
        _created,
        lambda c, w: c.post("/api/v1/autotune", {"parent_path": "/alice/work", "name": "x", "profile": []}, **J),  # 400
    ],
    "GET /api/v1/autotune/{autotune_id}": [
        lambda c, w: c.get(_search(c, w)),
        lambda c, w: c.get("/api/v1/autotune/00000000-0000-0000-0000-000000000000"),  # 404
    ],
    "PATCH /api/v1/autotune/{autotune_id}": [
        lambda c, w: c.patch(_search(c, w), {"profile": {**PROFILE, "status": "DONE"}}, **J)
    ],
    "GET /api/v1/autotune/{autotune_id}/trials": [
        lambda c, w: c.get(f"{_search(c, w)}/trials", {"order_by": "metrics.acc DESC"}),
        lambda c, w: c.get(f"{_search(c, w)}/trials", {"filter": "metrics.acc >"}),  # 400
    ],
    "POST /api/v1/autotune/{autotune_id}/trials": [
        lambda c, w: c.post(f"{_search(c, w, trial=False)}/trials", {"id": 0, "parameters": {"lr": 1}}, **J),
        lambda c, w: c.post(f"{_search(c, w)}/trials", {"id": 0}, **J),  # 409
    ],
    "GET /api/v1/autotune/{autotune_id}/trials/{number}": [lambda c, w: c.get(f"{_search(c, w)}/trials/0")],
    "PATCH /api/v1/autotune/{autotune_id}/trials/{number}": [
        lambda c, w: c.patch(f"{_search(c, w)}/trials/0", {"intermediate": [{"step": 1, "value": 0.4}]}, **J)
    ],
    "POST /api/v1/autotune/{autotune_id}/trials/{number}/promote": [
        lambda c, w: c.post(f"{_search(c, w)}/trials/0/promote", {}, **J)
    ],
    "GET /api/v1/autotune/{autotune_id}/charts": [lambda c, w: c.get(f"{_search(c, w)}/charts")],
}
