"""Requests for every Asset Hub operation, for tests/test_schema_conformance.py's table.

Each example makes its own model (under the world's alice, who is the client) with one commit tagged
`v1`, so it needs nothing from the shared world but its storage.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from rest_framework.test import APIClient

from tests.assethub_helpers import commit, create, listing

_names = count()
J = {"format": "json"}


def _model(c: APIClient) -> str:
    """A fresh model with a commit tagged `v1` and a branch `dev`; its id."""
    asset = create(c, f"example-{next(_names)}")["id"]
    commit(c, asset, {"weights.bin": b"weights", "config.yaml": b"layers: 50\n"})
    c.post(f"/api/v1/assets/{asset}/tags", {"name": "v1"}, **J)
    c.post(f"/api/v1/assets/{asset}/branches", {"name": "dev"}, **J)
    return asset


def _path_of(c: APIClient, asset: str) -> str:
    path: str = c.get(f"/api/v1/assets/{asset}").json()["asset"]["path"]
    return path


def on(method: str, tail: str, body: Any = None, **params: Any) -> Callable[[APIClient, Any], Any]:
    """An example calling `method` on `/api/v1/assets/<fresh model><tail>`."""

    def call(c: APIClient, w: Any) -> Any:
        url = f"/api/v1/assets/{_model(c)}{tail}"
        if method == "get":
            return c.get(url, params)
        return getattr(c, method)(url, body, **J)

    return call


def by_path(url: str, **refs: str) -> Callable[[APIClient, Any], Any]:
    def call(c: APIClient, w: Any) -> Any:
        path = _path_of(c, _model(c))
        return c.get(url, {key: value.format(path=path) for key, value in refs.items()})

    return call


ASSET_EXAMPLES: dict[str, list[Callable[[APIClient, Any], Any]]] = {
    "POST /api/v1/assets": [
        lambda c, w: c.post("/api/v1/assets", {"name": "new-model", "kind": "Model"}, **J),
        lambda c, w: c.post("/api/v1/assets", {"name": "x", "kind": "Run"}, **J),  # 400
    ],
    "GET /api/v1/assets/resolve": [
        by_path("/api/v1/assets/resolve", ref="{path}:v1"),
        lambda c, w: c.get("/api/v1/assets/resolve", {"ref": "/alice/nothing:v1"}),  # 404
    ],
    "GET /api/v1/assets/diff": [by_path("/api/v1/assets/diff", **{"from": "{path}:v1", "to": "{path}"})],
    "GET /api/v1/assets/{node_id}": [on("get", "")],
    "GET /api/v1/assets/{node_id}/commits": [on("get", "/commits", ref="main")],
    "POST /api/v1/assets/{node_id}/commits": [
        on("post", "/commits", {"message": "nothing staged"}),  # 400
    ],
    "GET /api/v1/assets/{node_id}/commits/{ref}": [on("get", "/commits/v1"), on("get", "/commits/nope")],
    "GET /api/v1/assets/{node_id}/branches": [on("get", "/branches")],
    "POST /api/v1/assets/{node_id}/branches": [
        on("post", "/branches", {"name": "feature"}),
        on("post", "/branches", {"name": "dev"}),  # 409
    ],
    "DELETE /api/v1/assets/{node_id}/branches/{name}": [on("delete", "/branches/dev")],
    "GET /api/v1/assets/{node_id}/branches/{name}/stage": [on("get", "/branches/main/stage")],
    "POST /api/v1/assets/{node_id}/branches/{name}/stage": [
        on("post", "/branches/main/stage", {"add": listing({"new.txt": b"new"}), "delete": ["config.yaml"]}),
        on("post", "/branches/main/stage", {"add": listing({"../up": b"x"})}),  # 400
    ],
    "DELETE /api/v1/assets/{node_id}/branches/{name}/stage": [on("delete", "/branches/main/stage")],
    "GET /api/v1/assets/{node_id}/tags": [on("get", "/tags")],
    "POST /api/v1/assets/{node_id}/tags": [on("post", "/tags", {"name": "best"}), on("post", "/tags", {"name": "v1"})],
    "POST /api/v1/assets/{node_id}/merge": [on("post", "/merge", {"source": "dev"})],
    "GET /api/v1/assets/{node_id}/diff": [on("get", "/diff", **{"from": "v1", "to": "main"})],
    "GET /api/v1/assets/{node_id}/files": [on("get", "/files", ref="v1")],
    "GET /api/v1/assets/{node_id}/files/{file_path}": [on("get", "/files/weights.bin"), on("get", "/files/nope")],
    "GET /api/v1/assets/{node_id}/archive.zip": [on("get", "/archive.zip", ref="v1")],
}
