"""Issue 8 "Trust": leaks found by black-box tests, one test each, and the query budget of the base view.

Each test failed before the change it names: a digest that opened the bytes, path lookups that told a
hidden node from a missing one, trash entries that answered viewers 403 and let editors purge, an
upload under an edit grant that could not make its folder, empty shells made through `POST /nodes`,
unshare answering 200 with a body, and an editor taking a run out of its owner's tree.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.access import Level
from em.models import Blob, BlobOwner, Kind, Node
from em.services import sharing, trash
from tests.factories import chain, folder, root

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def announce(client: Any, parent: Node | str, name: str, files: dict[str, bytes], **extra: Any) -> Any:
    where = {"parent_path": parent} if isinstance(parent, str) else {"parent": str(parent.pk)}
    listed = [{"path": p, "size": len(b), "sha256": sha(b), "mtime": None} for p, b in files.items()]
    return client.post(
        "/api/v1/uploads", {"kind": "Artifact", "name": name, "files": listed, **where, **extra}, format="json"
    )


def put(client: Any, data: bytes, digest: str | None = None, **meta: Any) -> Any:
    return client.generic(
        "PUT", f"/api/v1/blobs/{digest or sha(data)}", data, content_type="application/octet-stream", **meta
    )


def share(node: Node, with_user: str, level: Level) -> None:
    sharing.share(node=node, to=sharing.principal("user", with_user), level=level, by=node.owner)


# --- 1. a digest is not a key to the bytes -------------------------------------------------------------

SECRET = b"alice's private weights " * 1000


def test_naming_a_digest_someone_else_sent_gets_it_listed_as_missing(alice, bob, api):
    alice_client = api(alice)
    started = announce(alice_client, root(alice), "weights", {"w.bin": SECRET}).json()
    assert put(alice_client, SECRET).status_code == 201
    assert alice_client.post(f"/api/v1/uploads/{started['id']}/commit").status_code == 201

    stolen = announce(api(bob), root(bob), "stolen", {"w.bin": SECRET})
    assert stolen.status_code == 201
    assert stolen.json()["missing"] == [sha(SECRET)]
    commit = api(bob).post(f"/api/v1/uploads/{stolen.json()['id']}/commit")
    assert commit.status_code == 409
    assert commit.json()["error"]["code"] == "blobs_missing"


def test_head_answers_only_for_blobs_the_caller_sent(alice, bob, api):
    assert put(api(alice), SECRET).status_code == 201
    assert api(alice).head(f"/api/v1/blobs/{sha(SECRET)}").status_code == 200
    strangers_view = api(bob).head(f"/api/v1/blobs/{sha(SECRET)}")
    assert strangers_view.status_code == 404
    assert strangers_view["Upload-Offset"] == "0"


def test_put_of_a_blob_stored_for_others_reads_and_checks_the_bytes(alice, bob, api, private_storage):
    assert put(api(alice), SECRET).status_code == 201
    lie = put(api(bob), b"x" * len(SECRET), digest=sha(SECRET))
    assert lie.status_code == 400
    assert lie.json()["error"]["code"] == "digest_mismatch"
    assert not BlobOwner.objects.filter(user=bob).exists()
    empty = put(api(bob), b"", digest=sha(SECRET), HTTP_CONTENT_RANGE=f"bytes 0-0/{len(SECRET)}")
    assert empty.status_code in (400, 411)  # "already stored" is not an answer bob can get without the bytes
    assert not BlobOwner.objects.filter(user=bob).exists()


def test_sending_bytes_stored_for_others_stores_one_copy_and_makes_you_an_owner(alice, bob, api, private_storage):
    assert put(api(alice), SECRET).status_code == 201
    assert put(api(bob), SECRET).status_code == 201
    assert set(BlobOwner.objects.filter(blob_id=sha(SECRET)).values_list("user__username", flat=True)) == {
        "alice",
        "bob",
    }
    stored = [p for p in private_storage.rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert Blob.objects.count() == 1


def test_a_user_cannot_finish_someone_elses_partial_upload(alice, bob, api):
    half = len(SECRET) // 2
    started = put(api(alice), SECRET[:half], digest=sha(SECRET), HTTP_CONTENT_RANGE=f"bytes 0-{half - 1}/{len(SECRET)}")
    assert started.status_code == 202
    rest = put(
        api(bob),
        SECRET[half:],
        digest=sha(SECRET),
        HTTP_CONTENT_RANGE=f"bytes {half}-{len(SECRET) - 1}/{len(SECRET)}",
    )
    assert rest.status_code == 409  # bob has sent nothing of it: he must start at byte 0
    assert not Blob.objects.exists()


def test_reuploading_your_own_files_sends_nothing(alice, api):
    client = api(alice)
    first = announce(client, root(alice), "a", {"w.bin": SECRET}).json()
    put(client, SECRET)
    client.post(f"/api/v1/uploads/{first['id']}/commit")
    again = announce(client, root(alice), "b", {"w.bin": SECRET})
    assert again.json()["missing"] == []
    assert put(client, SECRET).status_code == 200  # already yours: nothing read


# --- 2. a hidden path answers exactly like a missing one -----------------------------------------------


@pytest.fixture
def hidden(alice: Any) -> Node:
    return folder(folder(root(alice), "private"), "plans")


def _answer(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/nodes/resolve?path={path}", None),
        ("get", "/api/v1/runs?folder_path={path}", None),
        ("get", "/api/v1/runs/export.csv?folder_path={path}", None),
        ("post", "/api/v1/nodes", {"parent_path": "{path}", "name": "x"}),
        ("post", "/api/v1/uploads", {"parent_path": "{path}", "name": "x", "kind": "Artifact", "files": []}),
        ("post", "/api/v1/nodes/{own}/move", {"destination_path": "{path}"}),
    ],
)
def test_hidden_and_missing_paths_answer_alike(method, url, body, hidden, bob, api):
    own = folder(root(bob), "mine")
    client = api(bob)

    def call(path: str) -> tuple[int, dict[str, Any]]:
        fill = {"path": path, "own": own.pk}
        data = {k: (v.format(**fill) if isinstance(v, str) else v) for k, v in (body or {}).items()}
        response = getattr(client, method)(url.format(**fill), data or None, format="json" if data else None)
        return _answer(response)

    hidden_status, hidden_body = call("/alice/private/plans")
    missing_status, missing_body = call("/alice/private/nothing")
    assert hidden_status == missing_status == 404
    assert hidden_body["error"]["code"] == missing_body["error"]["code"] == "not_found"
    assert hidden_body["error"]["message"].replace("plans", "?") == missing_body["error"]["message"].replace(
        "nothing", "?"
    )
    no_user = call("/nobody-at-all/private/plans")
    assert no_user[0] == 404
    assert no_user[1]["error"]["message"] == hidden_body["error"]["message"].replace("/alice/", "/nobody-at-all/")


def test_a_nul_in_a_path_is_a_clear_error_not_a_crash(bob, api):
    response = api(bob).get("/api/v1/nodes/resolve", {"path": "/bob/a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


# --- 3. a trash entry exists only for its owner ----------------------------------------------------------


@pytest.fixture
def trashed(alice: Any, bob: Any, make_user: Any) -> Node:
    make_user("carol")
    shared = folder(root(alice), "shared")
    share(shared, "bob", Level.VIEW)
    share(shared, "carol", Level.EDIT)
    doomed = folder(shared, "doomed")
    folder(doomed, "inside")
    trash.trash_node(node=doomed, by=alice)
    return doomed


@pytest.mark.parametrize("who", ["bob", "carol", "dave"])
@pytest.mark.parametrize(("method", "url"), [("post", "/api/v1/nodes/{id}/restore"), ("delete", "/api/v1/trash/{id}")])
def test_restore_and_purge_are_not_found_to_all_but_the_owner(who, method, url, trashed, make_user, api):
    caller = make_user(who)
    response = getattr(api(caller), method)(url.format(id=trashed.pk))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Node.objects.filter(pk=trashed.pk, trashed=True).exists()  # nothing destroyed, nothing restored


def test_the_owner_restores_and_purges_their_trash(trashed, alice, api):
    assert api(alice).post(f"/api/v1/nodes/{trashed.pk}/restore").status_code == 200
    assert api(alice).delete(f"/api/v1/nodes/{trashed.pk}").status_code == 204
    assert api(alice).delete(f"/api/v1/trash/{trashed.pk}").status_code == 204
    assert not Node.objects.filter(pk=trashed.pk).exists()


def test_staff_may_restore_anyones_trash(trashed, make_user, api):
    admin = make_user("admin", is_staff=True)
    assert api(admin).post(f"/api/v1/nodes/{trashed.pk}/restore").status_code == 200


# --- 5. make-folder uploads under an edit grant ---------------------------------------------------------


def test_an_editor_makes_folders_below_a_folder_shared_with_them(alice, bob, api):
    team = folder(root(alice), "team")
    share(team, "bob", Level.EDIT)
    response = announce(api(bob), "/alice/team/new/deeper", "result", {"a.txt": b"a"}, make_folder=True)
    assert response.status_code == 201, response.content
    made = Node.objects.get(parent__parent=team, name="deeper")
    assert made.owner == alice
    assert made.kind == Kind.FOLDER


def test_a_viewer_cannot_make_folders_and_a_stranger_learns_nothing(alice, bob, make_user, api):
    team = folder(root(alice), "team")
    share(team, "bob", Level.VIEW)
    viewer = announce(api(bob), "/alice/team/new", "x", {"a.txt": b"a"}, make_folder=True)
    assert viewer.status_code == 403
    stranger = announce(api(make_user("dave")), "/alice/team/new", "x", {"a.txt": b"a"}, make_folder=True)
    missing = announce(api(make_user("erin")), "/alice/nothing/new", "x", {"a.txt": b"a"}, make_folder=True)
    assert stranger.status_code == missing.status_code == 404
    assert not Node.objects.filter(name="new").exists()


# --- 6. kinds with content come only from their own endpoints -------------------------------------------


@pytest.mark.parametrize("kind", [Kind.RUN, Kind.ARTIFACT, Kind.AUTOTUNE, Kind.MODEL, Kind.DATASET])
def test_post_nodes_makes_no_empty_shells(kind, alice, api):
    response = api(alice).post("/api/v1/nodes", {"parent": str(root(alice).pk), "name": "shell", "kind": kind})
    assert response.status_code == 400
    assert not Node.objects.filter(name="shell").exists()


# --- 9. unshare answers as documented -------------------------------------------------------------------


def test_unshare_answers_204_without_a_body(alice, bob, api):
    shared = folder(root(alice), "shared")
    share(shared, "bob", Level.VIEW)
    response = api(alice).delete(f"/api/v1/nodes/{shared.pk}/shares/user/bob")
    assert response.status_code == 204
    assert response.content == b""
    assert api(bob).get(f"/api/v1/nodes/{shared.pk}").status_code == 404


# --- 10. an editor cannot take a node out of its owner's tree -------------------------------------------


def test_an_editor_moves_within_the_owners_tree_but_not_out_of_it(alice, make_user, api):
    carol = make_user("carol")
    shared = folder(root(alice), "shared")
    share(shared, "carol", Level.EDIT)
    run = folder(shared, "run")
    elsewhere = folder(root(alice), "elsewhere")
    share(elsewhere, "carol", Level.EDIT)

    away = api(carol).post(f"/api/v1/nodes/{run.pk}/move", {"destination": str(root(carol).pk)}, format="json")
    assert away.status_code == 403
    run.refresh_from_db()
    assert run.owner == alice
    assert api(alice).get(f"/api/v1/nodes/{run.pk}").status_code == 200

    within = api(carol).post(f"/api/v1/nodes/{run.pk}/move", {"destination": str(elsewhere.pk)}, format="json")
    assert within.status_code == 200
    assert within.json()["path"] == "/alice/elsewhere/run"


def test_the_owner_may_move_a_node_into_a_tree_they_may_edit(alice, bob, api):
    bobs = folder(root(bob), "inbox")
    share(bobs, "alice", Level.EDIT)
    run = folder(root(alice), "run")
    moved = api(alice).post(f"/api/v1/nodes/{run.pk}/move", {"destination": str(bobs.pk)}, format="json")
    assert moved.status_code == 200
    run.refresh_from_db()
    assert run.owner == bob


# --- the base view: grants are read once per request ----------------------------------------------------


def _grant_reads(queries: CaptureQueriesContext) -> int:
    return sum(
        1
        for q in queries.captured_queries
        if "objectpermission" in q["sql"].lower() and q["sql"].lstrip("( ").upper().startswith("SELECT")
    )


@pytest.mark.parametrize("depth", [1, 30])
def test_an_editors_patch_and_move_read_the_grants_once_whatever_the_depth(depth, alice, bob, api):
    deep = chain(root(alice), depth)[-1]
    share(root(alice), "bob", Level.EDIT)
    a, b = folder(deep, "a"), folder(deep, "b")
    run = folder(a, "run")
    client = api(bob)
    with CaptureQueriesContext(connection) as patch:
        assert client.patch(f"/api/v1/nodes/{run.pk}", {"description": "x"}, format="json").status_code == 200
    with CaptureQueriesContext(connection) as move:
        moved = client.post(f"/api/v1/nodes/{run.pk}/move", {"destination": str(b.pk)}, format="json")
    assert moved.status_code == 200
    assert moved.json()["access"] == "edit"
    assert _grant_reads(patch) == 1
    assert _grant_reads(move) == 1
    assert len(patch) <= 8
    assert len(move) <= 18


# --- body-less writes refuse a body, like every other write refuses an unknown key ------------------------


def test_a_body_sent_to_a_bodiless_write_is_refused_and_changes_nothing(alice, api):
    doomed = folder(root(alice), "doomed")
    refused = api(alice).delete(f"/api/v1/nodes/{doomed.pk}", {"permanently": True}, format="json")
    assert refused.status_code == 400
    assert "permanently" in refused.json()["error"]["message"]
    assert Node.objects.live().filter(pk=doomed.pk).exists()
    assert api(alice).delete(f"/api/v1/nodes/{doomed.pk}").status_code == 204
    refused = api(alice).post(f"/api/v1/nodes/{doomed.pk}/restore", {"to": "/elsewhere"}, format="json")
    assert refused.status_code == 400
    assert api(alice).post(f"/api/v1/nodes/{doomed.pk}/restore").status_code == 200


def test_account_requests_refuse_unknown_keys_too(alice, api):
    response = api(alice).post("/api/v1/keys", {"name": "ci", "scope": "read", "owner": "bob"}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["message"]
