"""The Asset Hub's edges: trash and purge, hostile input, who may do what, and what a page costs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assethub.models import Branch, StagedChange, Tag, Version
from em.access import Level
from em.models import Blob, Manifest, Node
from em.services import blobs, sharing
from tests.assethub_helpers import commit, create, listing, put, sha, stage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]
PATH = "/alice/t9k-assethub/model/resnet"


@pytest.fixture
def client(api, alice):
    return api(alice)


@pytest.fixture
def model(client) -> dict[str, Any]:
    return create(client, "resnet")


def test_trash_and_restore_keep_every_version_branch_and_tag(client, model):
    v1 = commit(client, model["id"], {"a": b"1"})
    client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1"}, format="json")
    client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "dev"}, format="json")
    v2 = commit(client, model["id"], {"a": b"2"})
    assert client.delete(f"/api/v1/nodes/{model['id']}").status_code == 204
    assert client.get(f"/api/v1/assets/{model['id']}").status_code == 404
    assert client.get("/api/v1/assets/resolve", {"ref": f"{PATH}:v1"}).status_code == 404
    assert Version.objects.filter(asset_id=model["id"]).count() == 2  # in the trash, with the node
    assert client.post(f"/api/v1/nodes/{model['id']}/restore").status_code == 200
    log = client.get(f"/api/v1/assets/{model['id']}/commits").json()
    assert [v["id"] for v in log["results"]] == [v2["id"], v1["id"]]
    assert client.get("/api/v1/assets/resolve", {"ref": f"{PATH}:v1"}).json()["version"]["id"] == v1["id"]
    branches = {b["name"]: b["head"] for b in client.get(f"/api/v1/assets/{model['id']}/branches").json()}
    assert branches == {"main": v2["id"], "dev": v1["id"]}


def test_purge_frees_the_blobs_only_this_asset_held(client, model):
    commit(client, model["id"], {"only-here": b"mine alone", "shared": b"kept elsewhere"})
    commit(client, model["id"], {"second": b"second version"})
    staged_only = b"staged, never committed"
    stage(client, model["id"], {"staged": staged_only})
    put(client, staged_only)
    other = create(client, "other")
    commit(client, other["id"], {"copy": b"kept elsewhere"})
    manifests = set(Version.objects.filter(asset_id=model["id"]).values_list("manifest_id", flat=True))
    client.delete(f"/api/v1/nodes/{model['id']}")
    assert client.delete(f"/api/v1/trash/{model['id']}").status_code == 204
    assert not Version.objects.filter(asset_id=model["id"]).exists()
    assert not Branch.objects.filter(asset_id=model["id"]).exists()
    assert not Tag.objects.filter(asset_id=model["id"]).exists() and not StagedChange.objects.exists()
    freed = blobs.collect_garbage(grace=timedelta(0))
    assert freed["manifests"] == 2 and not Manifest.objects.filter(pk__in=manifests).exists()
    left = set(Blob.objects.values_list("pk", flat=True))
    assert sha(b"kept elsewhere") in left
    assert not {sha(b"mine alone"), sha(b"second version"), sha(staged_only)} & left


def test_garbage_collection_keeps_every_versions_manifest(client, model):
    v1 = commit(client, model["id"], {"a": b"1"})
    commit(client, model["id"], {"a": b"2"})
    blobs.collect_garbage(grace=timedelta(0))
    assert Manifest.objects.filter(pk=Version.objects.get(pk=v1["id"]).manifest_id).exists()
    old = client.get(f"/api/v1/assets/{model['id']}/files/a", {"ref": v1["id"]})
    assert b"".join(old.streaming_content) == b"1"


@pytest.mark.parametrize(
    "path",
    ["../escape", "a/../../b", "/etc/passwd", "C:/x", "a\\b", "a/./b", "nul\x00byte", "bidi\u202ename", ""],
)
def test_hostile_paths_are_refused_and_nothing_is_staged(client, model, path):
    body = {"add": [{"path": path, "size": 1, "sha256": sha(b"x"), "mtime": None}]}
    response = client.post(f"/api/v1/assets/{model['id']}/branches/main/stage", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"invalid_path", "invalid"}
    assert not StagedChange.objects.exists()


def test_a_hash_mismatch_stores_nothing_and_the_commit_stays_refused(client, model):
    stage(client, model["id"], {"w.bin": b"the real bytes"})
    wrong = put(client, b"other bytes", digest=sha(b"the real bytes"))
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "digest_mismatch"
    refused = client.post(f"/api/v1/assets/{model['id']}/commits", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "blobs_missing"
    assert not Blob.objects.filter(pk=sha(b"the real bytes")).exists()


def test_a_size_that_contradicts_the_blob_is_refused(client, model):
    put(client, b"four")
    body = {"add": [{"path": "f", "size": 40, "sha256": sha(b"four"), "mtime": None}]}
    response = client.post(f"/api/v1/assets/{model['id']}/branches/main/stage", body, format="json")
    assert response.status_code == 400 and "4 bytes" in response.json()["error"]["message"]
    assert not StagedChange.objects.exists()


def test_a_path_both_a_file_and_a_folder_is_refused_at_commit(client, model):
    commit(client, model["id"], {"ckpt": b"a file"})
    stage(client, model["id"], {"ckpt/1.pt": b"below it"})
    put(client, b"below it")
    refused = client.post(f"/api/v1/assets/{model['id']}/commits", {}, format="json")
    assert refused.status_code == 400 and "both a file and a folder" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("commits", {"message": "nul \x00 here"}),
        ("commits", {"metadata": {"k": "\x00"}}),
        ("commits", {"metadata": {"big": "x" * 70_000}}),
        ("commits", {"metadata": [1, 2]}),
        ("commits", {"mesage": "typo"}),
        ("tags", {"name": "bad name"}),
        ("tags", {"name": "v\x001"}),
        ("tags", {"name": "0123456789abcdef0123456789abcdef01234567"}),  # a commit id is no name
        ("branches", {"name": "../main"}),
        ("merge", {"source": "nope\x00"}),
        ("assets", None),
    ],
)
def test_hostile_fields_are_clear_400s(client, model, url, body):
    commit(client, model["id"], {"a": b"1"})
    stage(client, model["id"], {"b": b"2"})
    put(client, b"2")
    if body is None:
        response = client.post("/api/v1/assets", {"name": "x\x00", "kind": "Model"}, format="json")
    else:
        response = client.post(f"/api/v1/assets/{model['id']}/{url}", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
    assert Version.objects.filter(asset_id=model["id"]).count() == 1
    assert Tag.objects.count() == 0 and Branch.objects.count() == 1


def test_a_nul_in_a_ref_or_path_ref_is_a_clear_400(client, model):
    for params in ({"ref": f"{PATH}:ma\x00in"}, {"ref": "\x00"}):
        response = client.get("/api/v1/assets/resolve", params)
        assert response.status_code == 400, (params, response.content)


@pytest.fixture
def shared(alice, bob, make_user, client, model) -> dict[str, Any]:
    """bob views alice's hub folder; carol is a stranger; dave may edit it."""
    commit(client, model["id"], {"a": b"1"})
    client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1"}, format="json")
    hub = client.get("/api/v1/nodes/resolve", {"path": "/alice/t9k-assethub"}).json()
    node = Node.objects.get(pk=hub["id"])
    sharing.share(node=node, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    make_user("carol")
    make_user("dave")
    sharing.share(node=node, to=sharing.principal("user", "dave"), level=Level.EDIT, by=alice)
    return model


READS = [
    "/api/v1/assets/{id}",
    "/api/v1/assets/{id}/commits",
    "/api/v1/assets/{id}/commits/v1",
    "/api/v1/assets/{id}/branches",
    "/api/v1/assets/{id}/branches/main/stage",
    "/api/v1/assets/{id}/tags",
    "/api/v1/assets/{id}/diff?from=v1&to=main",
    "/api/v1/assets/{id}/files",
    "/api/v1/assets/{id}/files/a",
    "/api/v1/assets/{id}/archive.zip",
    f"/api/v1/assets/resolve?ref={PATH}:v1",
    f"/api/v1/assets/diff?from={PATH}:v1&to={PATH}",
]
WRITES = [
    ("post", "/api/v1/assets/{id}/branches/main/stage", {"add": listing({"b": b"2"})}),
    ("delete", "/api/v1/assets/{id}/branches/main/stage", None),
    ("post", "/api/v1/assets/{id}/commits", {"message": "m"}),
    ("post", "/api/v1/assets/{id}/tags", {"name": "best"}),
    ("post", "/api/v1/assets/{id}/branches", {"name": "dev"}),
    ("delete", "/api/v1/assets/{id}/branches/dev", None),
    ("post", "/api/v1/assets/{id}/merge", {"source": "main"}),
]


def test_a_stranger_finds_nothing_and_hidden_reads_like_missing(api, make_user, shared):
    stranger = api(make_user("carol"))
    for url in READS:
        assert stranger.get(url.format(id=shared["id"])).status_code == 404, url
    for method, url, body in WRITES:
        assert getattr(stranger, method)(url.format(id=shared["id"]), body, format="json").status_code == 404, url
    hidden = stranger.get("/api/v1/assets/resolve", {"ref": f"{PATH}:v1"}).json()
    missing = stranger.get("/api/v1/assets/resolve", {"ref": "/alice/t9k-assethub/model/nothing:v1"}).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "not_found"
    assert hidden["error"]["message"].replace("resnet", "nothing") == missing["error"]["message"]


def test_a_viewer_reads_everything_and_changes_nothing(api, bob, shared):
    viewer = api(bob)
    for url in READS:
        assert viewer.get(url.format(id=shared["id"])).status_code == 200, url
    for method, url, body in WRITES:
        response = getattr(viewer, method)(url.format(id=shared["id"]), body, format="json")
        assert response.status_code == 403, (url, response.content)
    assert (
        viewer.post(
            "/api/v1/assets", {"name": "m", "kind": "Model", "parent_path": "/alice/t9k-assethub"}, format="json"
        ).status_code
        == 403
    )
    assert Version.objects.filter(asset_id=shared["id"]).count() == 1


def test_an_editor_commits_with_bytes_of_their_own(api, shared, make_user):
    editor = api(make_user("dave"))
    version = commit(editor, shared["id"], {"b": b"dave's file"}, message="by dave")
    assert version["author"] == "dave" and version["file_count"] == 2


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_listing_costs_the_same_for_few_and_many_versions_or_files(client, model):
    small, big = model, create(client, "big")
    for asset, versions in ((small, 2), (big, 12)):
        for i in range(versions):
            commit(client, asset["id"], {f"f{i}": str(i).encode()})
            client.post(f"/api/v1/assets/{asset['id']}/tags", {"name": f"v{i}"}, format="json")
    costs = {
        name: [_count(lambda a=a, u=u: client.get(u.format(id=a["id"]))) for a in (small, big)]
        for name, u in {
            "log": "/api/v1/assets/{id}/commits",
            "log of main": "/api/v1/assets/{id}/commits?ref=main",
            "files": "/api/v1/assets/{id}/files",
            "tags": "/api/v1/assets/{id}/tags",
            "branches": "/api/v1/assets/{id}/branches",
            "diff": "/api/v1/assets/{id}/diff?from=v0&to=main",
        }.items()
    }
    for name, (few, many) in costs.items():
        assert few == many, (name, costs)
