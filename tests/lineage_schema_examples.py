"""Requests for every lineage operation, for tests/test_schema_conformance.py's table.

Each example uses the world's run (alice's `/alice/work/run-1`) and makes what it links to itself.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from rest_framework.test import APIClient

from tests.assethub_helpers import commit, create

_names = count()
J = {"format": "json"}


def _dataset(c: APIClient) -> str:
    """A fresh dataset with one commit; its path (bare: its `main`)."""
    asset = create(c, f"lineage-example-{next(_names)}", kind="Dataset")
    commit(c, asset["id"], {"rows.csv": b"x\n1\n"})
    return str(asset["path"])


def _linked(c: APIClient, w: Any) -> Any:
    return c.post(f"/api/v1/runs/{w.run.node.pk}/lineage", {"input": [_dataset(c)]}, **J)


def _edge(c: APIClient, w: Any) -> int:
    return int(_linked(c, w).json()["input"][0]["edge"])


LINEAGE_EXAMPLES: dict[str, list[Callable[[APIClient, Any], Any]]] = {
    "GET /api/v1/lineage": [
        lambda c, w: (_linked(c, w), c.get("/api/v1/lineage", {"node": str(w.run.node.pk), "depth": 2}))[1],
        lambda c, w: c.get("/api/v1/lineage", {"node": "/alice/nothing:v1"}),  # 404
        lambda c, w: c.get("/api/v1/lineage", {"node": str(w.run.node.pk), "depth": 99}),  # 400
    ],
    "GET /api/v1/runs/{run_id}/lineage": [
        lambda c, w: (_linked(c, w), c.get(f"/api/v1/runs/{w.run.node.pk}/lineage"))[1]
    ],
    "POST /api/v1/runs/{run_id}/lineage": [
        _linked,
        lambda c, w: c.post(f"/api/v1/runs/{w.run.node.pk}/lineage", {"input": ["/alice/nothing:v1"]}, **J),  # 400
    ],
    "DELETE /api/v1/runs/{run_id}/lineage/{edge_id}": [
        lambda c, w: c.delete(f"/api/v1/runs/{w.run.node.pk}/lineage/{_edge(c, w)}"),
        lambda c, w: c.delete(f"/api/v1/runs/{w.run.node.pk}/lineage/999999"),  # 404
    ],
}
