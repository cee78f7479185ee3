"""EM_STORAGE=s3 for real: bytes go between the client and a real S3-compatible server (moto's standalone
server on loopback), through presigned — and, above one part, multipart — URLs, never through Django.

Each test proves one promise of docs/runs-api.md "Presigned transfers": the round trip, multipart, dedup
by bytes sent, a wrong hash refused with nothing kept, knowing a digest granting nothing, downloads as a
redirect after the permission check, unfinished transfers swept. They need no PostgreSQL (the moto
server is local), so they run in both passes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils import timezone
from rich.console import Console

from em.client import Client
from em.client.download import download
from em.client.upload import Uploader
from em.models import Blob, BlobOwner, Node
from em.services import blobs
from tests import s3_helpers
from tests.factories import root
from tests.s3_helpers import PART, BodyCounter, Bucket

pytestmark = [pytest.mark.django_db]
live = pytest.mark.django_db(transaction=True)  # the live server answers from its own thread
moto_s3, s3_store, django_body_bytes = s3_helpers.moto_s3, s3_helpers.s3_store, s3_helpers.django_body_bytes

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115  # progress bars drawn nowhere


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def announce(client: Any, parent: Node, files: dict[str, bytes], name: str = "art") -> Any:
    body = {
        "kind": "Artifact",
        "parent": str(parent.pk),
        "name": name,
        "files": [{"path": p, "size": len(b), "sha256": sha(b), "mtime": None} for p, b in files.items()],
    }
    return client.post("/api/v1/uploads", body, format="json")


def send_parts(plan: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """PUT `data` to a plan's presigned URLs as any HTTP client would (no EM key); the parts' ETags."""
    parts = []
    for number, url in enumerate(plan["urls"], 1):
        chunk = data[(number - 1) * plan["part_size"] : number * plan["part_size"]]
        answer = requests.put(url, data=chunk, timeout=30)
        assert answer.status_code == 200, answer.text
        parts.append({"part_number": number, "etag": answer.headers["ETag"]})
    return parts


def complete(client: Any, digest: str, plan: dict[str, Any], parts: list[dict[str, Any]]) -> Any:
    body = {"transfer": plan["transfer"]}
    if plan["upload_id"]:
        body.update(upload_id=plan["upload_id"], parts=parts)
    return client.post(f"/api/v1/blobs/{digest}/complete", body, format="json")


@pytest.fixture
def alice_client(live_server: Any, alice: Any) -> Iterator[Client]:
    """Alice's client of the live server, closed before the test's database goes (no idle connection
    is left for the server's thread to close later)."""
    from accounts import services as account_services

    with Client(live_server.url, account_services.create_key(user=alice, name="s3")[1]) as client:
        yield client


@live
def test_upload_and_download_go_through_the_bucket_never_through_django(
    alice: Any, alice_client: Client, s3_store: Bucket, django_body_bytes: BodyCounter, tmp_path: Path
) -> None:
    big = os.urandom(2 * PART + 12345)  # three parts
    files = {"weights.bin": big, "config.yaml": b"lr: 0.1\n", "empty.txt": b""}
    folder = write(tmp_path / "model", files)

    outcome = Uploader(alice_client, conflict_strategy="error", console=QUIET).upload(folder, plain=True)

    assert outcome.error is None, outcome.error
    assert outcome.sent_bytes == sum(map(len, files.values()))
    assert django_body_bytes.total < 10_000, django_body_bytes.requests  # manifests and completions only
    assert not [r for r in django_body_bytes.requests if r[0] == "PUT"]  # no blob PUT reached EM
    assert s3_store.keys("incoming/") == [] and s3_store.multipart_uploads() == []
    assert s3_store.keys("blobs/") == sorted(blobs.storage_name(sha(b)) for b in files.values())
    assert s3_store.read(blobs.storage_name(sha(big))) == big
    stored = Blob.objects.get(pk=sha(big))
    assert (stored.size, stored.md5) == (len(big), hashlib.md5(big, usedforsecurity=False).hexdigest())
    assert BlobOwner.objects.filter(user=alice).count() == 3

    node_id = str(outcome.node["id"])  # type: ignore[index]
    django_body_bytes.requests.clear()
    for name, data in files.items():
        target = tmp_path / "back" / name
        assert download(alice_client, node_id, name, target, console=QUIET) == len(data)
        assert target.read_bytes() == data
    assert django_body_bytes.total == 0


def test_a_file_larger_than_a_part_is_a_multipart_upload_joined_on_completion(
    alice: Any, api: Any, s3_store: Bucket
) -> None:
    data = os.urandom(PART + 1)
    started = announce(api(alice), root(alice), {"big.bin": data})
    assert started.status_code == 201, started.content
    plan = started.json()["transfers"][sha(data)]
    assert plan["upload_id"] and len(plan["urls"]) == 2 and plan["part_size"] == PART
    assert len(s3_store.multipart_uploads()) == 1

    done = complete(api(alice), sha(data), plan, send_parts(plan, data))

    assert done.status_code == 201, done.content
    assert done.json() == {"sha256": sha(data), "size": len(data)}
    assert s3_store.multipart_uploads() == []
    assert s3_store.read(blobs.storage_name(sha(data))) == data
    assert api(alice).post(f"/api/v1/uploads/{started.json()['id']}/commit").status_code == 201
    again = complete(api(alice), sha(data), plan, [])  # a retry after a lost answer: idempotent
    assert again.status_code == 200


@live
def test_reuploading_unchanged_files_sends_no_file_bytes_and_a_changed_one_sends_only_itself(
    alice: Any, alice_client: Client, s3_store: Bucket, django_body_bytes: BodyCounter, tmp_path: Path
) -> None:
    files = {f"part-{i}.bin": os.urandom(100_000) for i in range(10)}
    folder = write(tmp_path / "data", files)
    uploader = Uploader(alice_client, conflict_strategy="new", console=QUIET)
    assert uploader.upload(folder, plain=True).sent_bytes == 1_000_000
    puts_before = len(s3_store.keys("blobs/"))

    same = uploader.upload(folder, plain=True)
    (folder / "part-3.bin").write_bytes(os.urandom(100_000))
    changed = uploader.upload(folder, plain=True)

    assert same.error is None and same.sent_bytes == 0 and same.sent_files == 0
    assert changed.error is None and changed.sent_bytes == 100_000 and changed.sent_files == 1
    assert len(s3_store.keys("blobs/")) == puts_before + 1
    assert Node.objects.filter(name__startswith="data", deleted_at=None).count() == 3


def test_bytes_that_do_not_match_the_digest_are_refused_and_nothing_is_kept(
    alice: Any, api: Any, s3_store: Bucket
) -> None:
    small, big = b"the real bytes", os.urandom(PART + 10)
    started = announce(api(alice), root(alice), {"small.txt": small, "big.bin": big})
    plans = started.json()["transfers"]

    wrong_small = complete(api(alice), sha(small), plans[sha(small)], send_parts(plans[sha(small)], b"forged bytes!!"))
    forged = bytes([big[0] ^ 1]) + big[1:]
    wrong_big = complete(api(alice), sha(big), plans[sha(big)], send_parts(plans[sha(big)], forged))

    for answer, digest in ((wrong_small, sha(small)), (wrong_big, sha(big))):
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "digest_mismatch"
        assert answer.json()["error"]["detail"]["expected"] == digest
    assert s3_store.keys() == [] and s3_store.multipart_uploads() == []
    assert not Blob.objects.exists()
    commit = api(alice).post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert commit.status_code == 409 and commit.json()["error"]["code"] == "blobs_missing"
    # nothing is lost: the same session takes the right bytes afterwards
    fresh = api(alice).post(
        "/api/v1/blobs/transfers", {"blobs": [{"sha256": sha(small), "size": len(small)}]}, format="json"
    )
    plan = fresh.json()["transfers"][sha(small)]
    assert complete(api(alice), sha(small), plan, send_parts(plan, small)).status_code == 201


def test_completing_a_transfer_nothing_was_sent_for_is_a_clear_conflict(alice: Any, api: Any, s3_store: Bucket) -> None:
    url = f"/api/v1/blobs/{sha(b'never sent')}/complete"
    answer = api(alice).post(url, {"transfer": "1764563866000"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "blob_not_sent"
    for body in (
        {"transfer": "1", "upload_id": "u", "parts": "all"},
        {"transfer": "../../blobs"},
        {"transfer": "1", "etag": "1"},
        {},
    ):
        assert api(alice).post(url, body, format="json").status_code == 400, body


def test_knowing_a_digest_grants_nothing_and_downloads_redirect_after_the_permission_check(
    alice: Any, bob: Any, api: Any, s3_store: Bucket
) -> None:
    secret = b"alice's private weights " * 100
    started = announce(api(alice), root(alice), {"w.bin": secret})
    plan = started.json()["transfers"][sha(secret)]
    assert complete(api(alice), sha(secret), plan, send_parts(plan, secret)).status_code == 201
    node = api(alice).post(f"/api/v1/uploads/{started.json()['id']}/commit").json()["node"]

    file_url = f"/api/v1/nodes/{node['id']}/files/w.bin"
    mine = api(alice).get(file_url)
    assert mine.status_code == 302 and mine["Location"].startswith(s3_store.endpoint)
    assert requests.get(mine["Location"], timeout=30).content == secret
    ranged = requests.get(mine["Location"], headers={"Range": "bytes=0-4"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == secret[:5]

    stranger = api(bob)
    missing = stranger.get(f"/api/v1/nodes/{node['id']}/files/nothing.bin")
    hidden = stranger.get(file_url)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
    assert stranger.head(f"/api/v1/blobs/{sha(secret)}").status_code == 404
    claimed = stranger.post(f"/api/v1/blobs/{sha(secret)}/complete", {"transfer": plan["transfer"]}, format="json")
    assert claimed.status_code == 409  # alice's object is not bob's transfer
    plans = stranger.post(
        "/api/v1/blobs/transfers", {"blobs": [{"sha256": sha(secret), "size": len(secret)}]}, format="json"
    ).json()["transfers"]
    assert f"/incoming/{bob.pk}/" in plans[sha(secret)]["urls"][0]  # a PUT of his own, never a GET of hers
    theirs = announce(stranger, root(bob), {"w.bin": secret})
    assert theirs.json()["missing"] == [sha(secret)]
    refused = stranger.post(f"/api/v1/uploads/{theirs.json()['id']}/commit")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "blobs_missing"
    assert not BlobOwner.objects.filter(user=bob).exists()


def test_unfinished_transfers_are_aborted_and_swept_by_garbage_collection(
    alice: Any, api: Any, s3_store: Bucket
) -> None:
    big, small = os.urandom(PART + 10), b"sent but never completed"
    started = announce(api(alice), root(alice), {"big.bin": big, "small.txt": small})
    plans = started.json()["transfers"]
    send_parts({**plans[sha(big)], "urls": plans[sha(big)]["urls"][:1]}, big)  # one part of two, then gone
    send_parts(plans[sha(small)], small)
    assert len(s3_store.multipart_uploads()) == 1 and len(s3_store.keys("incoming/")) == 1

    young = blobs.collect_garbage()
    assert young["incoming"] == 0 and len(s3_store.multipart_uploads()) == 1  # may still be in flight

    later = blobs.collect_garbage(now=timezone.now() + timedelta(days=2))
    assert later["incoming"] == 2
    assert s3_store.multipart_uploads() == [] and s3_store.keys() == []


def test_garbage_collection_frees_a_blob_nothing_references_from_the_bucket(
    alice: Any, api: Any, s3_store: Bucket
) -> None:
    data = b"orphan"
    started = announce(api(alice), root(alice), {"o.txt": data})
    plan = started.json()["transfers"][sha(data)]
    assert complete(api(alice), sha(data), plan, send_parts(plan, data)).status_code == 201
    assert s3_store.keys("blobs/") == [blobs.storage_name(sha(data))]

    freed = blobs.collect_garbage(now=timezone.now() + timedelta(days=2))

    assert freed["blobs"] == 1 and s3_store.keys() == []


def test_with_the_file_store_nothing_changes(alice: Any, api: Any, private_storage: Path) -> None:
    data = b"on disk"
    started = announce(api(alice), root(alice), {"d.txt": data})
    assert started.json()["transfers"] == {}
    asked = api(alice).post("/api/v1/blobs/transfers", {"blobs": [{"sha256": sha(data), "size": 7}]}, format="json")
    assert asked.status_code == 200 and asked.json() == {"transfers": {}}
    refused = api(alice).post(f"/api/v1/blobs/{sha(data)}/complete", {"transfer": "1"}, format="json")
    assert refused.status_code == 400
    put = api(alice).generic("PUT", f"/api/v1/blobs/{sha(data)}", data, content_type="application/octet-stream")
    assert put.status_code == 201
    assert api(alice).post(f"/api/v1/uploads/{started.json()['id']}/commit").status_code == 201


def test_planning_many_transfers_costs_no_query_per_blob_and_no_bucket_request_per_small_file(
    alice: Any, api: Any, s3_store: Bucket, django_assert_max_num_queries: Any
) -> None:
    client = api(alice)
    client.get("/api/v1/me")  # the session is loaded once, outside the count
    many = [{"sha256": sha(str(i).encode()), "size": 1000 + i} for i in range(500)]
    with django_assert_max_num_queries(6):
        few = client.post("/api/v1/blobs/transfers", {"blobs": many[:5]}, format="json")
    with django_assert_max_num_queries(6):
        answer = client.post("/api/v1/blobs/transfers", {"blobs": many}, format="json")
    assert few.status_code == answer.status_code == 200
    plans = answer.json()["transfers"]
    assert len(plans) == 500 and all(len(p["urls"]) == 1 and p["upload_id"] is None for p in plans.values())
    assert s3_store.multipart_uploads() == []  # small files are one PUT each: presigned locally


def test_an_archive_upload_stores_its_files_in_the_bucket_and_opens_no_transfer(
    alice: Any, api: Any, s3_store: Bucket
) -> None:
    import io
    import zipfile

    big = os.urandom(PART + 10)
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        archive.writestr("weights.bin", big)
        archive.writestr("notes.txt", "hello")
    answer = api(alice).generic(
        "POST",
        f"/api/v1/uploads/archive?kind=Artifact&parent={root(alice).pk}&name=zipped",
        body.getvalue(),
        content_type="application/octet-stream",
    )
    assert answer.status_code == 201, answer.content
    assert s3_store.read(blobs.storage_name(sha(big))) == big
    assert s3_store.multipart_uploads() == [] and s3_store.keys("incoming/") == []
