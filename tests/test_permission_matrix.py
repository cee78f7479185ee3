"""Every node endpoint × every kind of caller, with the status and the body each must get.

The subject of each request sits four levels below the folder its grants were made on, so every allowed
answer here is an *inherited* one. A refused write must leave the subject exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from em.access import Level
from em.models import Node
from em.services import sharing, trash
from tests.factories import chain, folder, root

pytestmark = pytest.mark.django_db

ROLES = ["owner", "editor", "viewer", "public", "stranger", "anonymous", "read_key"]
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@dataclass
class World:
    users: dict[str, Any]
    team: Node  # shared with the editor (user grant, edit) and the viewers group (view)
    subject: Node  # four levels below `team`
    public_subject: Node  # four levels below a folder shared with public (view)
    spare: Node  # a sibling folder of `subject`'s parent, destination for moves


@pytest.fixture
def world(make_user, make_group) -> World:
    owner = make_user("owner")
    users = {
        "owner": owner,
        "editor": make_user("editor"),
        "viewer": make_user("viewer"),
        "public": make_user("passerby"),
        "stranger": make_user("stranger"),
    }
    make_group("viewers", users["viewer"])
    team = folder(root(owner), "team")
    subject = folder(chain(team, 3)[-1], "subject", labels=["a"])
    spare = folder(subject.parent, "spare")
    open_folder = folder(root(owner), "open")
    public_subject = folder(chain(open_folder, 3, "public")[-1], "subject")
    for parent in (subject, public_subject):
        folder(parent, "inside")
    for node, kind, name, level in [
        (team, "user", "editor", Level.EDIT),
        (team, "group", "viewers", Level.VIEW),
        (open_folder, "public", None, Level.VIEW),
    ]:
        sharing.share(node=node, to=sharing.principal(kind, name), level=level, by=owner)
    return World(users, team, subject, public_subject, spare)


def client_for(role: str, world: World, api, key_client) -> APIClient:
    if role == "anonymous":
        return api()
    if role == "read_key":
        return key_client(world.users["owner"], scope="read")
    return api(world.users[role])


def subject_for(role: str, world: World) -> Node:
    return world.public_subject if role == "public" else world.subject


def _trashed(node: Node) -> Node:
    trash.trash_node(node=node, by=node.owner)
    return node


# Each endpoint: how to call it on a subject, and the status per role (in ROLES order).
Call = Callable[[APIClient, Node, World], Any]
ENDPOINTS: dict[str, tuple[Call, list[int]]] = {
    "get node": (lambda c, n, w: c.get(f"/api/v1/nodes/{n.pk}"), [200, 200, 200, 200, 404, 401, 200]),
    "list children": (
        lambda c, n, w: c.get(f"/api/v1/nodes/{n.pk}/children?ordering=-modified"),
        [200, 200, 200, 200, 404, 401, 200],
    ),
    "resolve path": (
        lambda c, n, w: c.get("/api/v1/nodes/resolve", {"path": _path(n)}),
        [200, 200, 200, 200, 404, 401, 200],
    ),
    "create child": (
        lambda c, n, w: c.post("/api/v1/nodes", {"parent": str(n.pk), "name": "new"}, format="json"),
        [201, 201, 403, 403, 404, 401, 403],
    ),
    "rename": (
        lambda c, n, w: c.patch(f"/api/v1/nodes/{n.pk}", {"name": "renamed"}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "relabel": (
        lambda c, n, w: c.patch(f"/api/v1/nodes/{n.pk}", {"labels": ["b", "c"]}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "delete": (lambda c, n, w: c.delete(f"/api/v1/nodes/{n.pk}"), [204, 204, 403, 403, 404, 401, 403]),
    "restore": (
        lambda c, n, w: c.post(f"/api/v1/nodes/{_trashed(n).pk}/restore"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "delete forever": (
        lambda c, n, w: c.delete(f"/api/v1/trash/{_trashed(n).pk}"),
        [204, 204, 403, 403, 404, 401, 403],
    ),
    "move": (
        lambda c, n, w: c.post(f"/api/v1/nodes/{n.pk}/move", {"destination": str(_spare_for(n, w).pk)}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "list shares": (lambda c, n, w: c.get(f"/api/v1/nodes/{n.pk}/shares"), [200, 200, 200, 200, 404, 401, 200]),
    "share": (
        lambda c, n, w: c.post(
            f"/api/v1/nodes/{n.pk}/shares", {"type": "user", "name": "stranger", "level": "view"}, format="json"
        ),
        [200, 403, 403, 403, 404, 401, 403],
    ),
    "unshare": (
        lambda c, n, w: c.delete(f"/api/v1/nodes/{n.pk}/shares/user/editor"),
        [200, 403, 403, 403, 404, 401, 403],
    ),
}


def _path(node: Node) -> str:
    from em.services.paths import display_path

    return display_path(node)


def _spare_for(node: Node, world: World) -> Node:
    if node.pk == world.subject.pk:
        return world.spare
    return folder(node.parent, "spare")  # the public subject's sibling, owned by the owner


def _snapshot(node: Node) -> tuple[Any, ...]:
    node = Node.objects.get(pk=node.pk)
    grants = node.user_grants.count() + node.group_grants.count()
    return (node.name, node.labels, node.parent_id, node.path, node.deleted_at, node.trashed, grants)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(endpoint, role, world, api, key_client):
    call, statuses = ENDPOINTS[endpoint]
    expected = statuses[ROLES.index(role)]
    subject = subject_for(role, world)
    client = client_for(role, world, api, key_client)
    before = _snapshot(subject) if expected >= 400 and endpoint not in {"restore", "delete forever"} else None

    response = call(client, subject, world)

    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["code"] == ERROR_CODES[expected]
        assert error["message"]
        if before is not None:
            assert _snapshot(subject) == before, "a refused request changed the node"
    elif expected == 204:
        assert response.content == b""
    else:
        _assert_success_body(endpoint, role, response.json(), subject)


def _assert_success_body(endpoint: str, role: str, body: dict[str, Any], subject: Node) -> None:
    level = {"owner": "owner", "read_key": "owner", "editor": "edit", "viewer": "view", "public": "view"}[role]
    if endpoint in {"get node", "resolve path", "rename", "relabel", "restore", "move"}:
        assert body["id"] == str(subject.pk)
        assert body["access"] == level
        assert body["owner"] == "owner"
        expected_name = "renamed" if endpoint == "rename" else "subject"
        assert body["name"] == expected_name
        if endpoint == "relabel":
            assert body["labels"] == ["b", "c"]
        if endpoint == "move":
            assert body["path"].endswith("/spare/subject")
    elif endpoint == "list children":
        names = [child["name"] for child in body["results"]]
        assert names == ["inside"]
        assert body["count"] == len(names)
    elif endpoint == "create child":
        assert body["name"] == "new"
        assert body["parent"] == str(subject.pk)
        assert body["access"] == level
        assert body["path"].endswith("/subject/new")
    elif endpoint in {"list shares", "share", "unshare"}:
        if endpoint == "unshare":
            assert body == {"removed": 0}  # the editor's grant was made above the subject, and stays
            return
        kinds = {(row["type"], row["name"]) for row in body["shares"]}
        expected = {("public", None)} if role == "public" else {("user", "editor"), ("group", "viewers")}
        if endpoint == "share":
            expected.add(("user", "stranger"))
        assert kinds == expected
        assert all(row["inherited_from"] for row in body["shares"] if row["name"] != "stranger")
        assert body["owner"] == "owner"
    else:
        raise AssertionError(f"no body check for {endpoint}")


@pytest.mark.parametrize("role", ROLES)
def test_account_endpoints_per_role(role, world, api, key_client):
    client = client_for(role, world, api, key_client)
    me = client.get("/api/v1/me")
    shared = client.get("/api/v1/shared-with-me")
    public = client.get("/api/v1/public")
    bin_ = client.get("/api/v1/trash")
    new_key = client.post("/api/v1/keys", {"name": "laptop"}, format="json")
    if role == "anonymous":
        for response in (me, shared, public, bin_, new_key):
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "not_authenticated"
        return
    user = world.users["owner" if role == "read_key" else role]
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert me.json()["root"]["path"] == f"/{user.username}"
    shared_names = {n["path"] for n in shared.json()["results"]}
    assert shared_names == ({"/owner/team"} if role in {"editor", "viewer"} else set())
    assert {n["path"] for n in public.json()["results"]} == {"/owner/open"}
    assert bin_.status_code == 200
    assert bin_.json()["count"] == 0
    assert new_key.status_code == (403 if role == "read_key" else 201)


def test_strangers_cannot_tell_a_hidden_node_from_a_missing_one(world, api):
    client = api(world.users["stranger"])
    hidden = client.get(f"/api/v1/nodes/{world.subject.pk}")
    missing = client.get("/api/v1/nodes/00000000-0000-0000-0000-000000000000")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_anonymous_reads_public_nodes_when_the_portal_allows_it(world, api, settings):
    settings.EM_PUBLIC_ANONYMOUS = True
    client = api()
    response = client.get(f"/api/v1/nodes/{world.public_subject.pk}")
    assert response.status_code == 200
    assert response.json()["access"] == "view"
    assert client.get(f"/api/v1/nodes/{world.subject.pk}").status_code == 404
    assert client.patch(f"/api/v1/nodes/{world.public_subject.pk}", {"name": "x"}, format="json").status_code == 401
    assert client.get("/api/v1/trash").status_code == 401


def test_unshare_at_a_folder_removes_access_granted_below_it(world, api):
    owner, editor = world.users["owner"], world.users["editor"]
    sharing.share(node=world.subject, to=sharing.principal("user", "editor"), level=Level.EDIT, by=owner)
    response = api(owner).delete(f"/api/v1/nodes/{world.team.pk}/shares/user/editor")
    assert response.json() == {"removed": 4}
    assert api(editor).get(f"/api/v1/nodes/{world.subject.pk}").status_code == 404
    assert api(world.users["viewer"]).get(f"/api/v1/nodes/{world.subject.pk}").status_code == 200


def test_a_node_moved_out_of_a_shared_folder_is_no_longer_shared(world, api):
    owner = world.users["owner"]
    private = folder(root(owner), "private")
    response = api(owner).post(
        f"/api/v1/nodes/{world.subject.pk}/move", {"destination_path": "/owner/private"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["path"] == "/owner/private/subject"
    assert api(world.users["viewer"]).get(f"/api/v1/nodes/{world.subject.pk}").status_code == 404
    back = api(owner).post(f"/api/v1/nodes/{world.subject.pk}/move", {"destination": str(world.team.pk)}, format="json")
    assert back.status_code == 200
    assert api(world.users["viewer"]).get(f"/api/v1/nodes/{world.subject.pk}").json()["access"] == "view"
    assert private.name == "private"


def test_a_shortcut_shows_its_target_only_to_those_who_may_see_it(world, api):
    owner = world.users["owner"]
    secret = folder(root(owner), "secret")
    link = folder(world.team, "link", kind="Shortcut", target=secret)
    as_viewer = api(world.users["viewer"]).get(f"/api/v1/nodes/{link.pk}").json()
    as_owner = api(owner).get(f"/api/v1/nodes/{link.pk}").json()
    assert as_viewer["target"] is None
    assert as_owner["target"] == {"id": str(secret.pk), "name": "secret", "kind": "Folder", "path": "/owner/secret"}
    assert api(world.users["viewer"]).get(f"/api/v1/nodes/{secret.pk}").status_code == 404


def test_trash_lists_the_owners_entries_and_restore_brings_them_back(world, api):
    editor, owner = world.users["editor"], world.users["owner"]
    assert api(editor).delete(f"/api/v1/nodes/{world.subject.pk}").status_code == 204
    assert api(editor).get(f"/api/v1/nodes/{world.subject.pk}").status_code == 404
    entries = api(owner).get("/api/v1/trash").json()["results"]
    assert [e["id"] for e in entries] == [str(world.subject.pk)]
    assert entries[0]["deleted_at"]
    assert api(editor).get("/api/v1/trash").json()["count"] == 0  # the trash is the owner's
    restored = api(owner).post(f"/api/v1/nodes/{world.subject.pk}/restore")
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert api(editor).get(f"/api/v1/nodes/{world.subject.pk}").json()["access"] == "edit"
