"""The upload protocol end to end with real bytes: announce, send what is missing, commit, download.

Every test gets its own storage and scratch directories, so what it finds on disk is what it made.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from em.access import Level
from em.models import Blob, IndexState, LineageEdge, Manifest, ManifestEntry, Node, Run, Upload
from em.services import blobs, sharing, trash
from tests.factories import folder, root

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(files: dict[str, bytes]) -> list[dict]:
    return [
        {"path": p, "size": len(b), "sha256": sha(b), "mtime": "2026-03-01T10:15:19+08:00"} for p, b in files.items()
    ]


def announce(client, parent: Node, name: str, files: dict[str, bytes], **extra):
    body = {"kind": "Run", "parent": str(parent.pk), "name": name, "files": manifest(files), **extra}
    return client.post("/api/v1/uploads", body, format="json")


def put(client, data: bytes, digest: str | None = None, **meta):
    return client.generic(
        "PUT", f"/api/v1/blobs/{digest or sha(data)}", data, content_type="application/octet-stream", **meta
    )


def upload(client, parent: Node, name: str, files: dict[str, bytes], **extra) -> dict:
    """The whole protocol as the CLI runs it; returns the committed node's JSON."""
    started = announce(client, parent, name, files, **extra)
    assert started.status_code == 201, started.content
    by_digest = {sha(b): b for b in files.values()}
    for digest in started.json()["missing"]:
        assert put(client, by_digest[digest]).status_code == 201
    committed = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert committed.status_code == 201, committed.content
    return committed.json()["node"]


def stored_files(storage: Path) -> list[str]:
    return sorted(str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file())


BUNDLE = {
    "metadata.yaml": b"kind: Run\nname: mnist\nlabels: [cnn]\n",
    "index.yaml": b"hyperparameters: hyperparameters.yaml\nmetrics: {}\n",
    "hyperparameters.yaml": b"lr: 0.1\n",
    "model/weights.bin": os.urandom(300_000),
}


def test_the_protocol_stores_each_file_once_and_commits_a_pending_run(alice, api, private_storage):
    client = api(alice)
    started = announce(client, root(alice), "mnist", BUNDLE, metadata={"labels": ["cnn"], "description": "first"})
    assert started.status_code == 201
    assert sorted(started.json()["missing"]) == sorted(sha(b) for b in BUNDLE.values())
    early = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "blobs_missing"
    assert sha(BUNDLE["index.yaml"]) in early.json()["error"]["message"]
    assert not Node.objects.filter(name="mnist").exists()

    for data in BUNDLE.values():
        response = put(client, data)
        assert response.status_code == 201, response.content
        assert response.json() == {"sha256": sha(data), "size": len(data)}
    assert put(client, BUNDLE["index.yaml"]).status_code == 200  # idempotent
    committed = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert committed.status_code == 201, committed.content
    node = Node.objects.get(pk=committed.json()["node"]["id"])
    assert (node.kind, node.labels, node.description) == ("Run", ["cnn"], "first")
    assert committed.json()["node"]["path"] == "/alice/mnist"
    assert Run.objects.get(node=node).index_state == IndexState.PENDING
    assert node.manifest.file_count == 4
    assert node.manifest.total_size == sum(map(len, BUNDLE.values()))
    assert len(stored_files(private_storage)) == 4
    assert stored_files(private_storage)[0].startswith("blobs/")
    blob = Blob.objects.get(pk=sha(BUNDLE["model/weights.bin"]))
    assert blob.md5 == hashlib.md5(BUNDLE["model/weights.bin"], usedforsecurity=False).hexdigest()
    assert blob.storage_name == blobs.storage_name(blob.sha256)

    again = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert again.status_code == 200
    assert again.json()["node"]["id"] == str(node.pk)
    assert Node.objects.filter(name__startswith="mnist").count() == 1

    listed = client.get(f"/api/v1/nodes/{node.pk}/files").json()
    assert [f["path"] for f in listed] == sorted(BUNDLE)
    weights = next(f for f in listed if f["path"] == "model/weights.bin")
    assert weights["md5"] == blob.md5 and weights["size"] == len(BUNDLE["model/weights.bin"])
    assert weights["mtime"] == "2026-03-01T02:15:19+00:00"
    with blobs.open_blob(blob.sha256) as handle:
        assert handle.read() == BUNDLE["model/weights.bin"]
    assert list(blobs.manifest_files(node)) == sorted(BUNDLE)


def test_a_committed_run_is_queued_for_indexing_once_the_transaction_lands(
    alice, api, django_capture_on_commit_callbacks
):
    client = api(alice)
    with django_capture_on_commit_callbacks() as run_callbacks:
        upload(client, root(alice), "run", {"a.txt": b"a"})
    with django_capture_on_commit_callbacks() as artifact_callbacks:
        upload(client, root(alice), "artifact", {"b.txt": b"b"}, kind="Artifact")
    assert len(run_callbacks) == 1
    assert artifact_callbacks == []
    assert not Run.objects.filter(node__name="artifact").exists()


def test_identical_files_are_stored_once_across_nodes_and_reuploads_send_nothing(alice, api, private_storage):
    client = api(alice)
    first = upload(client, root(alice), "one", BUNDLE)
    again = announce(client, root(alice), "two", BUNDLE)
    assert again.json()["missing"] == []
    committed = client.post(f"/api/v1/uploads/{again.json()['id']}/commit")
    assert committed.status_code == 201
    one, two = Node.objects.get(pk=first["id"]), Node.objects.get(pk=committed.json()["node"]["id"])
    assert one.manifest_id == two.manifest_id
    assert Manifest.objects.count() == 1
    assert Blob.objects.count() == len(stored_files(private_storage)) == 4

    changed = {**BUNDLE, "hyperparameters.yaml": b"lr: 0.2\n"}
    started = announce(client, root(alice), "three", changed)
    assert started.json()["missing"] == [sha(b"lr: 0.2\n")]


def test_bytes_that_do_not_match_the_digest_are_refused_and_nothing_is_stored(alice, api, private_storage):
    client = api(alice)
    response = put(client, b"tampered", digest=sha(b"original"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "digest_mismatch"
    assert Blob.objects.count() == 0
    assert stored_files(private_storage) == []
    assert blobs.partial_offset(sha(b"original"), by=alice) == 0
    assert client.put("/api/v1/blobs/not-a-digest", b"x", content_type="application/octet-stream").status_code == 404


def test_sizes_that_disagree_are_refused(alice, api):
    client = api(alice)
    data = b"0123456789"
    short = put(client, data[:5], digest=sha(data), HTTP_CONTENT_RANGE="bytes 0-9/10")
    assert short.status_code == 400
    assert "Content-Length is 5" in short.json()["error"]["message"]
    beyond = put(client, data, HTTP_CONTENT_RANGE="bytes 0-9/5")
    assert beyond.status_code == 400
    cut = client.generic(
        "PUT", f"/api/v1/blobs/{sha(data)}", data, content_type="application/octet-stream", CONTENT_LENGTH="4"
    )
    assert cut.json()["error"]["code"] == "digest_mismatch"  # only 4 bytes were read: they hash otherwise
    assert put(client, data).status_code == 201
    lying = client.post(
        "/api/v1/uploads",
        {
            "kind": "Run",
            "parent": str(root(alice).pk),
            "name": "r",
            "files": [{"path": "a", "size": 99, "sha256": sha(data)}],
        },
        format="json",
    )
    assert lying.status_code == 400
    assert "announced as 99 bytes" in lying.json()["error"]["message"]
    assert Upload.objects.count() == 0


def test_a_big_file_can_be_sent_in_parts_and_resumed(alice, api):
    client = api(alice)
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest, half = sha(data), len(data) // 2
    assert client.head(f"/api/v1/blobs/{digest}").headers["Upload-Offset"] == "0"
    first = put(client, data[:half], digest=digest, HTTP_CONTENT_RANGE=f"bytes 0-{half - 1}/{len(data)}")
    assert first.status_code == 202
    assert first.json() == {"offset": half}
    probe = client.head(f"/api/v1/blobs/{digest}")
    assert (probe.status_code, probe.headers["Upload-Offset"]) == (404, str(half))
    skipping = put(
        client, data[half + 1 :], digest=digest, HTTP_CONTENT_RANGE=f"bytes {half + 1}-{len(data) - 1}/{len(data)}"
    )
    assert skipping.status_code == 409
    assert skipping.json()["error"]["detail"] == {"offset": half}
    rest = put(client, data[half:], digest=digest, HTTP_CONTENT_RANGE=f"bytes {half}-{len(data) - 1}/{len(data)}")
    assert rest.status_code == 201, rest.content
    assert client.head(f"/api/v1/blobs/{digest}").status_code == 200
    blob = Blob.objects.get(pk=digest)
    assert (blob.size, blob.md5) == (len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())
    with blobs.open_blob(digest) as handle:
        assert handle.read() == data


def test_a_corrupt_resumed_upload_is_discarded(alice, api):
    client = api(alice)
    data = b"abcdefghij"
    put(client, data[:5], digest=sha(data), HTTP_CONTENT_RANGE="bytes 0-4/10")
    wrong = put(client, b"XXXXX", digest=sha(data), HTTP_CONTENT_RANGE="bytes 5-9/10")
    assert wrong.json()["error"]["code"] == "digest_mismatch"
    assert blobs.partial_offset(sha(data), by=alice) == 0
    assert not Blob.objects.exists()


@pytest.fixture
def shared_run(alice, bob, api):
    node = upload(api(alice), root(alice), "shared", {"a.txt": b"hello world", "b/c.txt": b"nested"})
    sharing.share(node=Node.objects.get(pk=node["id"]), to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    return node["id"]


def test_viewers_download_and_strangers_get_404(shared_run, bob, make_user, api):
    viewer, stranger = api(bob), api(make_user("mallory"))
    assert [f["path"] for f in viewer.get(f"/api/v1/nodes/{shared_run}/files").json()] == ["a.txt", "b/c.txt"]
    got = viewer.get(f"/api/v1/nodes/{shared_run}/files/b/c.txt")
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == b"nested"
    assert got.headers["ETag"] == f'"{sha(b"nested")}"'
    for url in ("files", "files/a.txt", "archive.zip"):
        response = stranger.get(f"/api/v1/nodes/{shared_run}/{url}")
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
        assert api().get(f"/api/v1/nodes/{shared_run}/{url}").status_code in (401, 403)
    assert viewer.get(f"/api/v1/nodes/{shared_run}/files/nope.txt").status_code == 404


def test_viewers_cannot_upload_into_a_folder_and_anonymous_cannot_put_blobs(alice, bob, api):
    shared = folder(root(alice), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    refused = announce(api(bob), shared, "run", {"a": b"a"})
    assert refused.status_code == 403
    assert put(api(), b"anonymous").status_code in (401, 403)
    assert not Blob.objects.exists()


def test_a_read_scope_key_cannot_upload(alice, key_client):
    reader = key_client(alice, "read")
    assert put(reader, b"data").status_code == 403
    assert announce(reader, root(alice), "run", {"a": b"a"}).status_code == 403
    assert not Blob.objects.exists()
    writer = key_client(alice, "write")
    assert put(writer, b"data").status_code == 201


def test_range_requests_get_partial_content(shared_run, alice, api):
    client = api(alice)
    url = f"/api/v1/nodes/{shared_run}/files/a.txt"
    cases = {"bytes=0-4": (b"hello", "0-4"), "bytes=6-": (b"world", "6-10"), "bytes=-5": (b"world", "6-10")}
    for header, (body, span) in cases.items():
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert b"".join(response.streaming_content) == body
        assert response.headers["Content-Range"] == f"bytes {span}/11"
        assert response.headers["Content-Length"] == str(len(body))
    beyond = client.get(url, HTTP_RANGE="bytes=50-60")
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == "bytes */11"
    whole = client.get(url)
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Length"] == "11"


def test_a_node_downloads_as_a_streamed_zip(shared_run, alice, api):
    response = api(alice).get(f"/api/v1/nodes/{shared_run}/archive.zip")
    assert response.status_code == 200
    assert response.streaming
    assert 'filename="shared.zip"' in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert archive.testzip() is None
        assert {n: archive.read(n) for n in archive.namelist()} == {"a.txt": b"hello world", "b/c.txt": b"nested"}


def test_listing_files_costs_the_same_for_many_files(alice, api, django_assert_max_num_queries):
    client = api(alice)
    node = upload(client, root(alice), "many", {f"f{i:03d}.txt": str(i).encode() for i in range(200)})
    with django_assert_max_num_queries(8):
        assert len(client.get(f"/api/v1/nodes/{node['id']}/files").json()) == 200


class TestConflicts:
    @pytest.fixture
    def existing(self, alice, api):
        return upload(api(alice), root(alice), "run", {"old.txt": b"old"})

    def test_skip_answers_the_existing_node(self, existing, alice, api):
        response = announce(api(alice), root(alice), "run", {"new.txt": b"new"}, conflict_strategy="skip")
        assert response.status_code == 200
        assert response.json()["skipped"] is True
        assert response.json()["node"]["id"] == existing["id"]
        assert not Upload.objects.filter(state="open").exists()

    def test_error_refuses_before_anything_is_sent(self, existing, alice, api):
        response = announce(api(alice), root(alice), "run", {"new.txt": b"new"})
        assert response.status_code == 409
        assert "/alice/run already exists" in response.json()["error"]["message"]

    def test_new_picks_the_next_free_name(self, existing, alice, api):
        second = upload(api(alice), root(alice), "run", {"new.txt": b"new"}, conflict_strategy="new")
        third = upload(api(alice), root(alice), "run", {"new.txt": b"new"}, conflict_strategy="new")
        assert (second["name"], third["name"]) == ("run (2)", "run (3)")

    def test_replace_trashes_the_old_node(self, existing, alice, api):
        fresh = upload(api(alice), root(alice), "run", {"new.txt": b"new"}, conflict_strategy="replace")
        old = Node.objects.get(pk=existing["id"])
        assert old.trashed and old.deleted_at is not None
        assert fresh["name"] == "run" and fresh["id"] != existing["id"]
        assert old in trash.trash_of(alice)


def test_make_folder_creates_the_path_and_bad_input_creates_nothing(alice, api):
    client = api(alice)
    body = {
        "kind": "Artifact",
        "parent_path": "/alice/a/b",
        "make_folder": True,
        "name": "art",
        "files": manifest({"x": b"x"}),
    }
    bad = client.post(
        "/api/v1/uploads", {**body, "files": [{"path": "../x", "size": 1, "sha256": sha(b"x")}]}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_path"
    assert not Node.objects.filter(name="a").exists()
    started = client.post("/api/v1/uploads", body, format="json")
    assert started.status_code == 201
    assert Node.objects.get(name="b").parent.name == "a"
    without = client.post("/api/v1/uploads", {**body, "parent_path": "/alice/c", "make_folder": False}, format="json")
    assert without.status_code == 404


BAD_FILES = {
    "climbs out": ([{"path": "a/../../x", "size": 1, "sha256": "0" * 64}], "'..'"),
    "absolute": ([{"path": "/etc/passwd", "size": 1, "sha256": "0" * 64}], "absolute"),
    "backslash": ([{"path": "a\\b", "size": 1, "sha256": "0" * 64}], "backslash"),
    "nul": ([{"path": "a\x00b", "size": 1, "sha256": "0" * 64}], "NUL"),
    "twice": ([{"path": "a", "size": 1, "sha256": "0" * 64}] * 2, "listed twice"),
    "file and folder": (
        [{"path": "a", "size": 1, "sha256": "0" * 64}, {"path": "a/b", "size": 1, "sha256": "1" * 64}],
        "both a file and a folder",
    ),
    "bad digest": ([{"path": "a", "size": 1, "sha256": "xyz"}], "not a SHA-256"),
    "negative size": ([{"path": "a", "size": -1, "sha256": "0" * 64}], "whole number"),
    "too long": ([{"path": "a" * 1025, "size": 1, "sha256": "0" * 64}], "1024 bytes"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_manifests_are_refused_clearly(case, alice, api):
    files, message = BAD_FILES[case]
    response = api(alice).post(
        "/api/v1/uploads", {"kind": "Run", "parent": str(root(alice).pk), "name": "r", "files": files}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["message"]
    assert not Upload.objects.exists()


def test_too_many_or_too_large_files_are_refused(alice, api, settings):
    settings.EM_MAX_FILES_PER_UPLOAD = 3
    settings.EM_MAX_UPLOAD_BYTES = 100
    client = api(alice)
    many = announce(client, root(alice), "r", {f"{i}": b"x" for i in range(4)})
    assert "at most 3 files" in many.json()["error"]["message"]
    big = client.post(
        "/api/v1/uploads",
        {
            "kind": "Run",
            "parent": str(root(alice).pk),
            "name": "r",
            "files": [{"path": "a", "size": 101, "sha256": "0" * 64}],
        },
        format="json",
    )
    assert "at most 100 bytes" in big.json()["error"]["message"]
    assert put(client, b"y" * 101).status_code == 400
    assert not Blob.objects.exists()


def test_lineage_links_visible_nodes_and_names_the_invisible(alice, bob, api):
    client = api(alice)
    data = upload(client, root(alice), "dataset", {"d.csv": b"1,2"}, kind="Artifact")
    run = upload(
        client, root(alice), "train", {"a": b"a"}, lineage={"input": [data["id"]], "output": ["/alice/dataset"]}
    )
    edges = set(LineageEdge.objects.filter(run_id=run["id"]).values_list("direction", "other_id"))
    assert edges == {("input", Node.objects.get(pk=data["id"]).pk), ("output", Node.objects.get(pk=data["id"]).pk)}
    hidden = upload(api(bob), root(bob), "secret", {"s": b"s"}, kind="Artifact")
    refused = announce(client, root(alice), "train2", {"a": b"a"}, lineage={"input": [hidden["id"]]})
    assert refused.status_code == 400
    assert hidden["id"] in refused.json()["error"]["message"]


def test_only_the_uploader_can_commit_a_session(alice, bob, api):
    started = announce(api(alice), root(alice), "r", {"a": b"a"})
    assert api(bob).post(f"/api/v1/uploads/{started.json()['id']}/commit").status_code == 404


def test_garbage_collection_frees_only_what_nothing_references(alice, api, private_storage):
    client = api(alice)
    kept = upload(client, root(alice), "kept", {"shared.txt": b"shared", "kept.txt": b"kept"})
    gone = upload(client, root(alice), "gone", {"shared.txt": b"shared", "gone.txt": b"gone"})
    put(client, b"never committed")
    trash.trash_node(node=Node.objects.get(pk=gone["id"]), by=alice)

    assert blobs.collect_garbage()["blobs"] == 0  # within the grace period, and the trash still holds "gone"
    trash.purge_subtree(Node.objects.get(pk=gone["id"]))
    freed = blobs.collect_garbage(grace=timedelta(0))
    assert (freed["manifests"], freed["blobs"]) == (1, 2)
    assert set(Blob.objects.values_list("pk", flat=True)) == {sha(b"shared"), sha(b"kept")}
    assert len(stored_files(private_storage)) == 2
    assert not default_storage.exists(blobs.storage_name(sha(b"gone")))
    assert blobs.collect_garbage(grace=timedelta(0)) == {"uploads": 0, "manifests": 0, "blobs": 0, "partials": 0}
    response = client.get(f"/api/v1/nodes/{kept['id']}/files/kept.txt")
    assert b"".join(response.streaming_content) == b"kept"


def test_garbage_collection_sweeps_stale_partial_uploads(alice, api):
    put(api(alice), b"abcdef"[:3], digest=sha(b"abcdef"), HTTP_CONTENT_RANGE="bytes 0-2/6")
    assert blobs.partial_offset(sha(b"abcdef"), by=alice) == 3
    assert blobs.collect_garbage()["partials"] == 0
    assert blobs.collect_garbage(grace=timedelta(0))["partials"] == 1
    assert blobs.partial_offset(sha(b"abcdef"), by=alice) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_puts_of_the_same_blob_store_it_once(alice, private_storage):
    """Eight clients send the same bytes at once: one blob row, one stored file, every client told 2xx."""
    assert connection.vendor == "postgresql"
    from rest_framework.test import APIClient

    data = os.urandom(2 * 1024 * 1024)
    statuses: list[int] = []

    def send() -> None:
        client = APIClient()
        client.force_login(alice)
        statuses.append(put(client, data).status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) in ([200, 201], [201])
    assert Blob.objects.count() == 1
    assert stored_files(private_storage) == [blobs.storage_name(sha(data))]
    assert not ManifestEntry.objects.exists()


def test_an_empty_file_is_a_blob_too_and_a_body_needs_a_length(alice, api):
    client = api(alice)
    empty = sha(b"")
    assert (
        client.generic("PUT", f"/api/v1/blobs/{empty}", b"", content_type="application/octet-stream").status_code == 411
    )
    stored = client.generic(
        "PUT", f"/api/v1/blobs/{empty}", b"", content_type="application/octet-stream", CONTENT_LENGTH="0"
    )
    assert stored.status_code == 201
    node = upload(client, root(alice), "with-empty", {"empty.txt": b"", "a.txt": b"a"})
    files = {f["path"]: f["size"] for f in client.get(f"/api/v1/nodes/{node['id']}/files").json()}
    assert files == {"a.txt": 1, "empty.txt": 0}
