"""The Asset Hub's endpoints fed the hostile input of tests/test_hostile_api.py: no 5xx, every refusal
in the error shape, and whatever a write accepted still reads back."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.assethub_helpers import commit, create, sha
from tests.hostile_requests import HOSTILE_QUERY, fill, mutations, send, to_json

pytestmark = pytest.mark.django_db

FILE = {"path": "w/model.bin", "size": 3, "sha256": "{sha}", "mtime": "2026-03-01T10:15:19+08:00"}
MODELS = "/alice/t9k-assethub/model"

WRITES: dict[str, tuple[str, str, Any]] = {
    "create asset": (
        "POST",
        "assets",
        {
            "parent_path": MODELS,
            "make_folder": True,
            "name": "m2",
            "kind": "Model",
            "labels": ["x"],
            "description": "d",
        },
    ),
    "stage": ("POST", "assets/{asset}/branches/main/stage", {"add": [FILE], "delete": ["a.txt"]}),
    "commit": ("POST", "assets/{asset}/commits", {"branch": "main", "message": "m", "metadata": {"k": "v"}}),
    "branch": ("POST", "assets/{asset}/branches", {"name": "b1", "start": "main", "orphan": False}),
    "tag": ("POST", "assets/{asset}/tags", {"name": "t1", "ref": "main"}),
    "merge": ("POST", "assets/{asset}/merge", {"source": "dev", "into": "main", "message": "m", "metadata": {}}),
}
QUERIES: dict[str, tuple[str, list[str]]] = {
    "assets/resolve": ("assets/resolve", ["ref"]),
    "assets/diff": ("assets/diff", ["from", "to"]),
    "asset diff": ("assets/{asset}/diff", ["from", "to"]),
    "commits": ("assets/{asset}/commits", ["ref", "page", "page_size"]),
    "files": ("assets/{asset}/files", ["ref"]),
}
SEGMENTS = [
    ("GET", "assets/{asset}/commits/{x}"),
    ("DELETE", "assets/{asset}/branches/{x}"),
    ("GET", "assets/{asset}/branches/{x}/stage"),
    ("GET", "assets/{asset}/files/{x}"),
]


@pytest.fixture
def world(alice: Any, api: Any, private_storage: Any) -> tuple[APIClient, dict[str, str]]:
    client = api(alice)
    asset = create(client, "m", parent_path=MODELS, make_folder=True)["id"]
    version = commit(client, asset, add={"a.txt": b"one", "w/model.bin": b"abc"})
    assert client.post(f"/api/v1/assets/{asset}/branches", {"name": "dev"}, format="json").status_code == 201
    commit(client, asset, add={"b.txt": b"two"}, branch="dev")
    return client, {"asset": asset, "version": version["id"], "sha": sha(b"abc")}


def _reads(client: APIClient, asset: str) -> list[str]:
    urls = [
        f"assets/{asset}",
        f"assets/{asset}/commits",
        f"assets/{asset}/branches",
        f"assets/{asset}/tags",
        f"assets/{asset}/files",
        f"assets/{asset}/branches/main/stage",
        f"assets/{asset}/diff?from=dev&to=main",
    ]
    return [f"read {url}: {o.problem}" for url in urls if (o := send(client, "GET", f"/api/v1/{url}")).problem]


@pytest.mark.parametrize("name", list(WRITES))
def test_hostile_asset_bodies_never_answer_500(name: str, world: tuple[APIClient, dict[str, str]]) -> None:
    client, ids = world
    method, url, body = WRITES[name]
    url, body = f"/api/v1/{fill(url, ids)}", fill(body, ids)
    problems = [
        f"{method} {url} {case}: {outcome.problem}"
        for case, mutated in mutations(body)
        if (outcome := send(client, method, url, to_json(mutated))).problem
    ]
    problems += _reads(client, ids["asset"])
    assert problems == [], "\n".join(problems[:40]) + f"\n({len(problems)} in all)"


@pytest.mark.parametrize("name", list(QUERIES))
def test_hostile_asset_queries_never_answer_500(name: str, world: tuple[APIClient, dict[str, str]]) -> None:
    client, ids = world
    url, parameters = QUERIES[name]
    url = f"/api/v1/{fill(url, ids)}"
    problems = [
        f"{url} ?{parameter}= {case}: {outcome.problem}"
        for parameter in parameters
        for case, value in HOSTILE_QUERY.items()
        if (outcome := send(client, "GET", f"{url}?{parameter}={value}")).problem
    ]
    assert problems == [], "\n".join(problems)


def test_hostile_asset_path_segments_never_answer_500(world: tuple[APIClient, dict[str, str]]) -> None:
    client, ids = world
    problems = [
        f"{method} {template} {case}: {outcome.problem}"
        for method, template in SEGMENTS
        for case, value in HOSTILE_QUERY.items()
        if value and (outcome := send(client, method, "/api/v1/" + template.format(**ids, x=value))).problem
    ]
    assert problems == [], "\n".join(problems)
