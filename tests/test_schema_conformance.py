"""Real answers of every operation in /api/schema/ validate against the schema's own description.

The table `EXAMPLES` holds, for each operation (`METHOD /path`), a request that succeeds and, where it
is cheap, one that fails; every answer's JSON body is validated with jsonschema against the response
the schema documents for that status. A new operation without an example fails
`test_every_operation_in_the_schema_has_an_example`, so the table cannot fall behind.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from em.access import Level
from em.models import Node
from em.services import sharing, trash
from tests.assethub_schema_examples import ASSET_EXAMPLES
from tests.autotune_schema_examples import AUTOTUNE_EXAMPLES
from tests.factories import folder, root
from tests.lineage_schema_examples import LINEAGE_EXAMPLES
from tests.run_helpers import attach_files, make_run
from tests.run_keys_schema_examples import RUN_KEYS_EXAMPLES
from tests.s3_schema_examples import TRANSFER_EXAMPLES

pytestmark = pytest.mark.django_db


@dataclass
class World:
    alice: Any
    bob: Any
    root: Node
    folder: Node
    run: Any
    file_node: Node
    trashed: Node
    group: Any
    key_id: str


@pytest.fixture
def world(alice: Any, bob: Any, settings: Any, tmp_path: Any) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.EM_UPLOAD_SCRATCH_DIR = tmp_path / "scratch"
    home = root(alice)
    work = folder(home, "work")
    run = make_run(work, "run-1", hparams={"lr": 0.1}, series={"train.loss": [1.0, 0.5]}, tags={"t": "1"})
    attach_files(run.node, {"a.txt": b"hello"})
    gone = folder(home, "gone")
    trash.trash_node(node=gone, by=alice)
    sharing.share(node=work, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    sharing.share(node=work, to=sharing.principal("public"), level=Level.VIEW, by=alice)
    group = account_services.create_group(name="team", by=alice)
    key, _ = account_services.create_key(user=alice, name="existing")
    return World(alice, bob, home, work, run, run.node, gone, group, str(key.pk))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


Call = Callable[[APIClient, World], Any]


def upload_started(c: APIClient, w: World) -> Any:
    body = {
        "kind": "Artifact",
        "parent": str(w.root.pk),
        "name": "up",
        "files": [{"path": "x.txt", "size": 2, "sha256": sha(b"hi"), "mtime": None}],
    }
    return c.post("/api/v1/uploads", body, format="json")


def upload_committed(c: APIClient, w: World) -> Any:
    started = upload_started(c, w).json()
    c.generic("PUT", f"/api/v1/blobs/{sha(b'hi')}", b"hi", content_type="application/octet-stream")
    return c.post(f"/api/v1/uploads/{started['id']}/commit")


def node(w: World) -> str:
    return f"/api/v1/nodes/{w.folder.pk}"


def run_url(w: World) -> str:
    return f"/api/v1/runs/{w.run.node.pk}"


J = {"format": "json"}
EXAMPLES: dict[str, list[Call]] = {
    "GET /api/v1/me": [lambda c, w: c.get("/api/v1/me")],
    "GET /api/v1/keys": [lambda c, w: c.get("/api/v1/keys")],
    "POST /api/v1/keys": [
        lambda c, w: c.post("/api/v1/keys", {"name": "new"}, **J),
        lambda c, w: c.post("/api/v1/keys", {"name": "existing"}, **J),  # 409
    ],
    "DELETE /api/v1/keys/{key_id}": [lambda c, w: c.delete(f"/api/v1/keys/{w.key_id}")],
    "GET /api/v1/groups": [lambda c, w: c.get("/api/v1/groups")],
    "POST /api/v1/groups": [
        lambda c, w: c.post("/api/v1/groups", {"name": "crew"}, **J),
        lambda c, w: c.post("/api/v1/groups", {}, **J),  # 400
    ],
    "GET /api/v1/groups/{group_id}": [
        lambda c, w: c.get(f"/api/v1/groups/{w.group.pk}"),
        lambda c, w: c.get("/api/v1/groups/999999"),  # 404
    ],
    "POST /api/v1/groups/{group_id}/{role}": [
        lambda c, w: c.post(f"/api/v1/groups/{w.group.pk}/members", {"username": "bob"}, **J)
    ],
    "DELETE /api/v1/groups/{group_id}/{role}/{username}": [
        lambda c, w: c.delete(f"/api/v1/groups/{w.group.pk}/members/alice")
    ],
    "POST /api/v1/nodes": [
        lambda c, w: c.post("/api/v1/nodes", {"parent": str(w.root.pk), "name": "new"}, **J),
        lambda c, w: c.post("/api/v1/nodes", {"parent": str(w.root.pk), "name": "work"}, **J),  # 409
    ],
    "GET /api/v1/nodes/resolve": [
        lambda c, w: c.get("/api/v1/nodes/resolve", {"path": "/alice"}),  # a root: parent null
        lambda c, w: c.get("/api/v1/nodes/resolve", {"path": "/alice/nope"}),  # 404
    ],
    "GET /api/v1/nodes/{node_id}": [lambda c, w: c.get(node(w)), lambda c, w: c.get(f"/api/v1/nodes/{w.root.pk}")],
    "PATCH /api/v1/nodes/{node_id}": [lambda c, w: c.patch(node(w), {"description": "d"}, **J)],
    "DELETE /api/v1/nodes/{node_id}": [lambda c, w: c.delete(node(w))],
    "GET /api/v1/nodes/{node_id}/children": [lambda c, w: c.get(f"/api/v1/nodes/{w.root.pk}/children")],
    "POST /api/v1/nodes/{node_id}/move": [
        lambda c, w: c.post(f"{node(w)}/move", {"destination_path": "/alice", "name": "moved"}, **J),
        lambda c, w: c.post(f"{node(w)}/move", {"destination": str(w.folder.pk)}, **J),  # into itself: 400
    ],
    "POST /api/v1/nodes/{node_id}/restore": [lambda c, w: c.post(f"/api/v1/nodes/{w.trashed.pk}/restore")],
    "GET /api/v1/nodes/{node_id}/shares": [lambda c, w: c.get(f"{node(w)}/shares")],
    "POST /api/v1/nodes/{node_id}/shares": [
        lambda c, w: c.post(f"{node(w)}/shares", {"type": "group", "name": "team", "level": "edit"}, **J)
    ],
    "DELETE /api/v1/nodes/{node_id}/shares/{principal_type}/{name}": [
        lambda c, w: c.delete(f"{node(w)}/shares/user/bob")
    ],
    "DELETE /api/v1/nodes/{node_id}/shares/public": [lambda c, w: c.delete(f"{node(w)}/shares/public")],
    "GET /api/v1/nodes/{node_id}/files": [lambda c, w: c.get(f"/api/v1/nodes/{w.file_node.pk}/files")],
    "GET /api/v1/nodes/{node_id}/files/{file_path}": [
        lambda c, w: c.get(f"/api/v1/nodes/{w.file_node.pk}/files/a.txt"),
        lambda c, w: c.get(f"/api/v1/nodes/{w.file_node.pk}/files/nope.txt"),  # 404
    ],
    "GET /api/v1/nodes/{node_id}/archive.zip": [lambda c, w: c.get(f"/api/v1/nodes/{w.file_node.pk}/archive.zip")],
    "GET /api/v1/nodes/{node_id}/references": [lambda c, w: c.get(f"/api/v1/nodes/{w.file_node.pk}/references")],
    "GET /api/v1/shared-with-me": [lambda c, w: c.get("/api/v1/shared-with-me")],
    "GET /api/v1/public": [lambda c, w: c.get("/api/v1/public")],
    "GET /api/v1/trash": [lambda c, w: c.get("/api/v1/trash")],
    "DELETE /api/v1/trash/{node_id}": [lambda c, w: c.delete(f"/api/v1/trash/{w.trashed.pk}")],
    "GET /api/v1/runs": [
        lambda c, w: c.get("/api/v1/runs", {"filter": "metrics.train.loss < 1"}),
        lambda c, w: c.get("/api/v1/runs", {"filter": "metrics.loss <<"}),  # 400 with the position
    ],
    "POST /api/v1/runs": [lambda c, w: c.post("/api/v1/runs", {"parent": str(w.root.pk), "name": "live"}, **J)],
    "GET /api/v1/runs/{run_id}": [lambda c, w: c.get(run_url(w))],
    "PATCH /api/v1/runs/{run_id}": [lambda c, w: c.patch(run_url(w), {"notes": "n"}, **J)],
    "GET /api/v1/runs/{run_id}/log": [lambda c, w: c.get(f"{run_url(w)}/log")],
    "POST /api/v1/runs/{run_id}/metrics": [
        lambda c, w: c.post(
            f"{run_url(w)}/metrics",
            {"metrics": {"train.loss": {"step": [5], "epoch": None, "timestamp": [1.7e9], "value": [0.1]}}},
            **J,
        )
    ],
    "GET /api/v1/runs/{run_id}/metrics/{key}": [lambda c, w: c.get(f"{run_url(w)}/metrics/train.loss")],
    "PUT /api/v1/runs/{run_id}/tags/{key}": [lambda c, w: c.put(f"{run_url(w)}/tags/t", {"value": "2"}, **J)],
    "DELETE /api/v1/runs/{run_id}/tags/{key}": [lambda c, w: c.delete(f"{run_url(w)}/tags/t")],
    "POST /api/v1/runs/compare": [lambda c, w: c.post("/api/v1/runs/compare", {"runs": [str(w.run.node.pk)]}, **J)],
    "POST /api/v1/metrics/history": [
        lambda c, w: c.post("/api/v1/metrics/history", {"runs": [str(w.run.node.pk)], "keys": ["train.loss"]}, **J)
    ],
    "POST /api/v1/runs/bulk-delete": [
        lambda c, w: c.post("/api/v1/runs/bulk-delete", {"folder": "/alice/work", "max_timestamp_millis": 1}, **J)
    ],
    "POST /api/v1/runs/bulk-restore": [
        lambda c, w: c.post("/api/v1/runs/bulk-restore", {"folder": "/alice/work", "min_timestamp_millis": 1}, **J)
    ],
    "GET /api/v1/runs/export.csv": [lambda c, w: c.get("/api/v1/runs/export.csv")],
    "POST /api/v1/uploads": [upload_started],
    "POST /api/v1/uploads/{upload_id}/commit": [upload_committed],
    "POST /api/v1/uploads/archive": [
        lambda c, w: c.generic(
            "POST",
            f"/api/v1/uploads/archive?kind=Artifact&parent={w.root.pk}&name=zipped",
            zipped({"f.txt": b"z"}),
            content_type="application/octet-stream",
        )
    ],
    "PUT /api/v1/blobs/{sha256}": [
        lambda c, w: c.generic("PUT", f"/api/v1/blobs/{sha(b'blob')}", b"blob", content_type="application/octet-stream")
    ],
}
EXAMPLES.update(ASSET_EXAMPLES)  # the Asset Hub's operations, kept beside its own tests
EXAMPLES.update(LINEAGE_EXAMPLES)  # lineage's, likewise
EXAMPLES.update(AUTOTUNE_EXAMPLES)  # AutoTune's, likewise
EXAMPLES.update(RUN_KEYS_EXAMPLES)  # the runs' filter keys, likewise
EXAMPLES.update(TRANSFER_EXAMPLES)  # presigned transfers (S3), likewise


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from django.test import Client

    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[str]:
    methods = {"get", "put", "post", "patch", "delete", "head"}
    return sorted(f"{m.upper()} {path}" for path, ops in schema["paths"].items() for m in ops if m in methods)


def as_json_schema(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `$ref`s inlined, `nullable` as a null alternative."""
    assert depth < 40, "a recursive schema: resolve with a registry instead"
    if isinstance(node, list):
        return [as_json_schema(item, components, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(components[node["$ref"].rsplit("/", 1)[1]], components, depth + 1)
    out = {k: as_json_schema(v, components, depth + 1) for k, v in node.items() if k not in {"nullable", "readOnly"}}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def test_every_operation_in_the_schema_has_an_example(schema: dict[str, Any]) -> None:
    documented = set(operations(schema))
    assert documented - set(EXAMPLES) == set(), "operations without an example in EXAMPLES"
    assert set(EXAMPLES) - documented == set(), "examples of operations the schema does not document"


@pytest.mark.parametrize("operation", sorted(EXAMPLES))
def test_real_answers_match_the_schema(
    operation: str, schema: dict[str, Any], world: World, api: Callable[..., APIClient]
) -> None:
    method, path = operation.split(" ", 1)
    documented = schema["paths"].get(path, {}).get(method.lower())
    assert documented is not None, f"{operation} is not in the schema"
    components = schema["components"]["schemas"]
    for example in EXAMPLES[operation]:
        response = example(api(world.alice), world)
        status = str(response.status_code)
        assert status in documented["responses"], f"{operation} answered {status}, which it does not document"
        content = documented["responses"][status].get("content", {})
        media = response.get("Content-Type", "").split(";")[0]
        if response.status_code == 204:
            assert not response.content
            continue
        if media != "application/json":
            documented_media = media in content or "*/*" in content or not content
            assert documented_media, f"{operation} {status}: {media} is not documented"
            continue
        assert "application/json" in content, f"{operation} {status}: a JSON body, documented as {list(content)}"
        body_schema = as_json_schema(content["application/json"].get("schema", {}), components)
        try:
            jsonschema.validate(response.json(), body_schema)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{operation} {status}: {exc.message} at {list(exc.absolute_path)}")


def test_errors_are_documented_with_the_error_shape(schema: dict[str, Any]) -> None:
    for operation in operations(schema):
        method, path = operation.split(" ", 1)
        responses = schema["paths"][path][method.lower()]["responses"]
        for status in ("400", "401", "403", "404", "409", "429"):
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (operation, status)
        assert ("413" in responses) == (method in {"POST", "PUT", "PATCH"}), operation


def test_an_empty_email_is_what_me_documents(
    world: World, api: Callable[..., APIClient], schema: dict[str, Any]
) -> None:
    world.alice.email = ""
    world.alice.save()
    me = api(world.alice).get("/api/v1/me").json()
    body_schema = as_json_schema(
        schema["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        schema["components"]["schemas"],
    )
    jsonschema.validate(me, body_schema, format_checker=jsonschema.FormatChecker())
