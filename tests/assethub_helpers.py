"""Driving the Asset Hub through its API as a client would: create, stage, send blobs, commit."""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.test import APIClient


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [
        {"path": p, "size": len(b), "sha256": sha(b), "mtime": "2026-03-01T10:15:19+08:00"} for p, b in files.items()
    ]


def put(client: APIClient, data: bytes, digest: str | None = None) -> Any:
    return client.generic("PUT", f"/api/v1/blobs/{digest or sha(data)}", data, content_type="application/octet-stream")


def create(client: APIClient, name: str, kind: str = "Model", **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/assets", {"name": name, "kind": kind, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["asset"]


def stage(
    client: APIClient,
    asset: str,
    add: dict[str, bytes] | None = None,
    delete: list[str] | None = None,
    branch: str = "main",
) -> Any:
    body: dict[str, Any] = {}
    if add is not None:
        body["add"] = listing(add)
    if delete is not None:
        body["delete"] = delete
    return client.post(f"/api/v1/assets/{asset}/branches/{branch}/stage", body, format="json")


def commit(
    client: APIClient,
    asset: str,
    add: dict[str, bytes] | None = None,
    delete: list[str] | None = None,
    branch: str = "main",
    message: str = "change",
    **body: Any,
) -> dict[str, Any]:
    """Stage, send what is missing, commit: the whole protocol; the new version's JSON."""
    staged = stage(client, asset, add, delete, branch)
    assert staged.status_code == 200, staged.content
    by_digest = {sha(b): b for b in (add or {}).values()}
    for digest in staged.json()["missing"]:
        assert put(client, by_digest[digest]).status_code == 201
    response = client.post(
        f"/api/v1/assets/{asset}/commits", {"branch": branch, "message": message, **body}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()
