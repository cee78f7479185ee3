"""Every run, upload, blob, file, search and export endpoint × every caller of ARCHITECTURE.md §7, with
the status and the body each must get (node, trash, sharing and account endpoints: test_permission_matrix).

A digest grants nothing: HEAD answers only for blobs the caller sent, a PUT of bytes others hold is a
new send, an upload naming them lists them as missing, and no address serves a blob by its digest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from typing import Any

import pytest

from em.models import Node
from tests.matrix import (
    FAR_FUTURE_MILLIS,
    LOG,
    ROLES,
    Endpoint,
    Place,
    World,
    check,
    expect,
    reads,
    signed_in,
    world,
    writes,
)

__all__ = ["world"]  # the module-scoped fixture
pytestmark = pytest.mark.django_db

OWNS_THE_BLOB = {"owner", "read_key"}
SEES_EVERYTHING = {"owner", "read_key", "staff"}
FRESH = b"bytes nobody has sent before\n"
FRESH_DIGEST = hashlib.sha256(FRESH).hexdigest()


def _json(response: Any) -> Any:
    return response.json()


def _run_body(response: Any, role: str, place: Place, w: World) -> None:
    body = _json(response)
    assert body["id"] == str(place.run.pk)
    assert body["metrics"]["train.loss"]["latest"] == 1.0
    assert body["tags"] == {"t": "1"}


def _names(expected: set[str]) -> Any:
    def body(response: Any, role: str, place: Place, w: World) -> None:
        assert {row["name"] for row in _json(response)["results"]} == expected

    return body


def _everything(response: Any, role: str, place: Place, w: World) -> None:
    rows = _json(response)["results"]
    seen = {row["path"].split("/")[2] for row in rows}  # the top folder each run is below
    outsider = role in {"public", "stranger", "anon_public"}  # the public tree is every signed-in user's
    wanted = {"open"} if outsider else {"team", "open"}
    assert seen == wanted
    assert all(row["name"] in {"run", "other-run"} for row in rows)


def _csv(response: Any, role: str, place: Place, w: World) -> None:
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row[1] for row in rows[1:]) == ["other-run", "run"]


def _count(key: str, mine: int, others: int | None = None) -> Any:
    """`{key: n}`: `mine` for the owner and staff, `others` (default the same) for editors."""

    def body(response: Any, role: str, place: Place, w: World) -> None:
        assert _json(response) == {key: mine if role in SEES_EVERYTHING or others is None else others}

    return body


def _missing(response: Any, role: str, place: Place, w: World) -> None:
    assert _json(response)["missing"] == ([] if role in OWNS_THE_BLOB else [w.digest])


def _bytes(wanted: bytes) -> Any:
    def body(response: Any, role: str, place: Place, w: World) -> None:
        assert b"".join(response.streaming_content) == wanted

    return body


def _zip(response: Any, role: str, place: Place, w: World) -> None:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["data/x.bin", "stdout.log"]


def _upload(files: list[dict[str, Any]], **where: str) -> Any:
    return {"kind": "Artifact", "name": "art", "files": files, **where}


def _one_file(data: bytes) -> list[dict[str, Any]]:
    return [{"path": "f.txt", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "mtime": None}]


def _zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", FRESH)
    return buffer.getvalue()


def _committed(response: Any, role: str, place: Place, w: World) -> None:
    assert _json(response)["node"]["name"] == "pending"


def _put(client: Any, digest: str, data: bytes) -> Any:
    return client.put(f"/api/v1/blobs/{digest}", data, content_type="application/octet-stream")


RUN = "/api/v1/runs/{}"
ENDPOINTS: dict[str, Endpoint] = {
    "get run": Endpoint(lambda c, p, w, r: c.get(RUN.format(p.run.pk)), reads(), _run_body),
    "edit notes": Endpoint(
        lambda c, p, w, r: c.patch(RUN.format(p.run.pk), {"notes": "n"}, format="json"), writes(200)
    ),
    "finish": Endpoint(
        lambda c, p, w, r: c.patch(RUN.format(p.run.pk), {"status": "Complete"}, format="json"), writes(200)
    ),
    "set tag": Endpoint(
        lambda c, p, w, r: c.put(RUN.format(p.run.pk) + "/tags/best", {"value": "yes"}, format="json"), writes(200)
    ),
    "delete tag": Endpoint(lambda c, p, w, r: c.delete(RUN.format(p.run.pk) + "/tags/t"), writes(204)),
    "log metrics live": Endpoint(
        lambda c, p, w, r: c.post(
            RUN.format(p.run.pk) + "/metrics", {"metrics": {"train.acc": {"step": [1], "value": [0.5]}}}, format="json"
        ),
        writes(200),
        _count("appended", 1),
    ),
    "metric history": Endpoint(
        lambda c, p, w, r: c.get(RUN.format(p.run.pk) + "/metrics/train.loss"),
        reads(),
        lambda resp, r, p, w: _equal(_json(resp)["value"][-1], 1.0),
    ),
    "histories": Endpoint(
        lambda c, p, w, r: c.post(
            "/api/v1/metrics/history", {"runs": [str(p.run.pk), str(p.other_run.pk)], "keys": ["train.loss"]}
        ),
        reads(),
        lambda resp, r, p, w: _equal(len(_json(resp)["series"]), 2),
    ),
    "log": Endpoint(
        lambda c, p, w, r: c.get(RUN.format(p.run.pk) + "/log?limit=2"),
        reads(),
        lambda resp, r, p, w: _equal(_json(resp)["lines"], [[1, "line 1"], [2, "line 2"]]),
    ),
    "compare": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/runs/compare", {"runs": [str(p.run.pk), str(p.other_run.pk)]}),
        reads(),
        lambda resp, r, p, w: _equal(len(_json(resp)["runs"]), 2),
    ),
    "start a live run": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/runs", {"parent": str(p.base.pk), "name": "live"}, format="json"),
        writes(201),
    ),
    "start a live run by path": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/runs", {"parent_path": p.paths["base"], "name": "live"}, format="json"),
        writes(201),
    ),
    "search a folder": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/runs", {"folder": str(p.base.pk)}), reads(), _names({"run", "other-run"})
    ),
    "search a folder by path": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/runs", {"folder_path": p.paths["base"]}),
        reads(),
        _names({"run", "other-run"}),
    ),
    "search a path filter": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/runs", {"filter": f"attributes.path LIKE '{p.paths['base']}/%'"}),
        expect(200, anonymous=401),
        lambda resp, r, p, w: _names(set() if r == "stranger" else {"run", "other-run"})(resp, r, p, w),
    ),
    "search everything": Endpoint(lambda c, p, w, r: c.get("/api/v1/runs"), expect(200, anonymous=401), _everything),
    "export a folder": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/runs/export.csv", {"folder": str(p.base.pk)}), reads(), _csv
    ),
    "bulk delete": Endpoint(
        lambda c, p, w, r: c.post(
            "/api/v1/runs/bulk-delete", {"folder": str(p.base.pk), "max_timestamp_millis": FAR_FUTURE_MILLIS}
        ),
        writes(200),
        _count("deleted", 2),
    ),
    "bulk delete by path": Endpoint(
        lambda c, p, w, r: c.post(
            "/api/v1/runs/bulk-delete", {"folder": p.paths["base"], "max_timestamp_millis": FAR_FUTURE_MILLIS}
        ),
        writes(200),
        _count("deleted", 2),
    ),
    "bulk restore": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/runs/bulk-restore", {"folder": str(p.base.pk), "min_timestamp_millis": 0}),
        writes(200),
        _count("restored", 1, others=0),  # the trash entry is the owner's: an editor restores nothing
    ),
    "list files": Endpoint(
        lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.run.pk}/files"),
        reads(),
        lambda resp, r, p, w: _equal(sorted(f["path"] for f in _json(resp)), ["data/x.bin", "stdout.log"]),
    ),
    "download a file": Endpoint(
        lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.run.pk}/files/stdout.log"), reads(), _bytes(LOG)
    ),
    "download a range": Endpoint(
        lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.run.pk}/files/stdout.log", HTTP_RANGE="bytes=0-6"),
        expect(206, stranger=404, anonymous=401),
        _bytes(LOG[:7]),
    ),
    "download a zip": Endpoint(lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.run.pk}/archive.zip"), reads(), _zip),
    "list references": Endpoint(
        lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.run.pk}/references"),
        reads(),
        lambda resp, r, p, w: _equal(_json(resp), {"references": [], "problem": None}),
    ),
    "start an upload": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/uploads", _upload(_one_file(FRESH), parent=str(p.base.pk)), format="json"),
        writes(201),
        lambda resp, r, p, w: _equal(_json(resp)["missing"], [FRESH_DIGEST]),
    ),
    "start an upload by path": Endpoint(
        lambda c, p, w, r: c.post(
            "/api/v1/uploads", _upload(_one_file(FRESH), parent_path=p.paths["base"]), format="json"
        ),
        writes(201),
    ),
    "start an upload naming a blob others sent": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/uploads", _upload(_one_file(LOG), parent=str(p.base.pk)), format="json"),
        writes(201),
        _missing,
    ),
    "commit the owner's upload": Endpoint(
        lambda c, p, w, r: c.post(f"/api/v1/uploads/{w.upload_id}/commit"),
        signed_in(404, owner=201, read_key=403),
        _committed,
    ),
    "upload an archive": Endpoint(
        lambda c, p, w, r: c.post(
            f"/api/v1/uploads/archive?parent={p.base.pk}&name=z&kind=Artifact",
            _zipped(),
            content_type="application/octet-stream",
        ),
        writes(201),
    ),
    "HEAD a blob": Endpoint(
        lambda c, p, w, r: c.head(f"/api/v1/blobs/{w.digest}"), signed_in(404, owner=200, read_key=200)
    ),
    "HEAD a blob nobody sent": Endpoint(lambda c, p, w, r: c.head(f"/api/v1/blobs/{FRESH_DIGEST}"), signed_in(404)),
    "PUT a new blob": Endpoint(lambda c, p, w, r: _put(c, FRESH_DIGEST, FRESH), signed_in(201, read_key=403)),
    "PUT a blob others sent": Endpoint(
        lambda c, p, w, r: _put(c, w.digest, LOG), signed_in(201, owner=200, read_key=403)
    ),
    "GET a blob by its digest": Endpoint(lambda c, p, w, r: c.get(f"/api/v1/blobs/{w.digest}"), signed_in(405)),
}


def _equal(got: Any, wanted: Any) -> None:
    assert got == wanted


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(endpoint: str, role: str, world: World, settings: Any) -> None:
    check(ENDPOINTS[endpoint], role, world, settings)


def test_a_blob_sent_by_the_caller_then_answers_head(world: World) -> None:
    client = world.client("stranger")
    assert client.head(f"/api/v1/blobs/{world.digest}").status_code == 404
    assert _put(client, world.digest, LOG).status_code == 201
    assert client.head(f"/api/v1/blobs/{world.digest}").status_code == 200
    assert _put(client, world.digest, LOG).status_code == 200


def test_an_editors_bulk_delete_goes_to_the_owners_trash_and_only_the_owner_restores_it(world: World) -> None:
    base, editor, owner = world.team.base, world.client("editor"), world.client("owner")
    deleted = editor.post("/api/v1/runs/bulk-delete", {"folder": str(base.pk), "max_timestamp_millis": 2**41})
    assert deleted.json() == {"deleted": 2}
    back = editor.post("/api/v1/runs/bulk-restore", {"folder": str(base.pk), "min_timestamp_millis": 0})
    assert back.json() == {"restored": 0}
    assert Node.objects.get(pk=world.team.run.pk).deleted_at is not None
    assert owner.post("/api/v1/runs/bulk-restore", {"folder": str(base.pk), "min_timestamp_millis": 0}).json() == {
        "restored": 3
    }
