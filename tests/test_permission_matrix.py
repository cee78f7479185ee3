"""Every node, trash, sharing and account endpoint × every caller of ARCHITECTURE.md §7, with the status
and the body each must get (runs, uploads, blobs, files, search and export: test_permission_matrix_runs).

The world and the checker are in tests/matrix.py; this module is data. Strangers get 404, never 403;
viewers 403 on writes; a trashed node is 404 to all but its owner and staff, restore and purge included;
editors move within the owner's tree and never out of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from em.access import Level
from em.models import Node
from em.services import sharing
from em.services.nodes import root_of
from tests.matrix import (
    LEVEL,
    ROLES,
    Endpoint,
    Place,
    World,
    check,
    expect,
    owner_only,
    reads,
    signed_in,
    trash_entry,
    world,
    writes,
)

__all__ = ["world"]  # the module-scoped fixture
pytestmark = pytest.mark.django_db


def _node_body(name: str = "subject", path_end: str = "/subject") -> Any:
    def body(response: Any, role: str, place: Place, w: World) -> None:
        node = response.json()
        assert node["id"] == str(place.subject.pk)
        assert node["access"] == LEVEL.get(role, "view")
        assert node["owner"] == "owner"
        assert node["name"] == name
        assert node["path"].endswith(path_end)

    return body


def _created(response: Any, role: str, place: Place, w: World) -> None:
    node = response.json()
    assert (node["name"], node["parent"], node["owner"]) == ("new", str(place.subject.pk), "owner")
    assert node["access"] == LEVEL.get(role, "view")


def _children(response: Any, role: str, place: Place, w: World) -> None:
    assert [child["name"] for child in response.json()["results"]] == ["inside"]


def _shares(response: Any, role: str, place: Place, w: World) -> None:
    body = response.json()
    kinds = {(row["type"], row["name"]) for row in body["shares"]}
    expected = {("public", None)} if place is w.open else {("user", "editor"), ("user", "viewer"), ("group", "crew")}
    assert kinds - {("user", "stranger")} == expected
    assert all(row["inherited_from"] for row in body["shares"] if row["name"] != "stranger")


def _restored(response: Any, role: str, place: Place, w: World) -> None:
    assert response.json()["id"] == str(place.binned.pk)
    assert Node.objects.get(pk=place.binned.pk).deleted_at is None


def _gone(node_of: Any) -> Any:
    def body(response: Any, role: str, place: Place, w: World) -> None:
        assert not Node.objects.filter(pk=node_of(place).pk, deleted_at__isnull=True).exists()

    return body


def _moved_out(response: Any, role: str, place: Place, w: World) -> None:
    assert response.json()["path"] == f"/{w.user(role).username}/subject"


def _trash(response: Any, role: str, place: Place, w: World) -> None:
    names = sorted(node["name"] for node in response.json()["results"])
    assert names == (["binned", "binned", "binned-run", "binned-run"] if role in {"owner", "read_key"} else [])


def _shared_with_me(response: Any, role: str, place: Place, w: World) -> None:
    paths = {node["path"] for node in response.json()["results"]}
    assert paths == ({"/owner/team"} if role in {"editor", "viewer", "member"} else set())


def _group(response: Any, role: str, place: Place, w: World) -> None:
    assert response.json()["name"] == "crew"


def _destination(role: str, w: World) -> str:
    """The caller's own root (the owner's for callers without one): a move out of the owner's tree."""
    return str(root_of(w.user(role) or w.users["owner"]).pk)


def _revoked(response: Any, role: str, place: Place, w: World) -> None:
    w.owner_key.refresh_from_db()
    assert w.owner_key.revoked_at is not None


ENDPOINTS: dict[str, Endpoint] = {
    "get node": Endpoint(lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.subject.pk}"), reads(), _node_body()),
    "list children": Endpoint(lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.subject.pk}/children"), reads(), _children),
    "resolve path": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/nodes/resolve", {"path": p.paths["subject"]}), reads(), _node_body()
    ),
    "resolve a missing path": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/nodes/resolve", {"path": p.paths["subject"] + "-nothing"}),
        expect(404, anonymous=401),
    ),
    "create child": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/nodes", {"parent": str(p.subject.pk), "name": "new"}, format="json"),
        writes(201),
        _created,
    ),
    "create child by path": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/nodes", {"parent_path": p.paths["subject"], "name": "new"}, format="json"),
        writes(201),
        _created,
    ),
    "rename": Endpoint(
        lambda c, p, w, r: c.patch(f"/api/v1/nodes/{p.subject.pk}", {"name": "renamed"}, format="json"),
        writes(200),
        _node_body("renamed", "/renamed"),
    ),
    "relabel": Endpoint(
        lambda c, p, w, r: c.patch(f"/api/v1/nodes/{p.subject.pk}", {"labels": ["b", "c"]}, format="json"),
        writes(200),
        _node_body(),
    ),
    "delete": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/nodes/{p.subject.pk}"), writes(204), _gone(lambda p: p.subject)
    ),
    "move within the owner's tree": Endpoint(
        lambda c, p, w, r: c.post(
            f"/api/v1/nodes/{p.subject.pk}/move", {"destination": str(p.spare.pk)}, format="json"
        ),
        writes(200),
        _node_body(path_end="/spare/subject"),
    ),
    "move by destination path": Endpoint(
        lambda c, p, w, r: c.post(
            f"/api/v1/nodes/{p.subject.pk}/move", {"destination_path": p.paths["spare"]}, format="json"
        ),
        writes(200),
        _node_body(path_end="/spare/subject"),
    ),
    "move out of the owner's tree": Endpoint(
        lambda c, p, w, r: c.post(
            f"/api/v1/nodes/{p.subject.pk}/move", {"destination": _destination(r, w)}, format="json"
        ),
        owner_only(200),
        _moved_out,
    ),
    "restore": Endpoint(lambda c, p, w, r: c.post(f"/api/v1/nodes/{p.binned.pk}/restore"), trash_entry(200), _restored),
    "delete forever": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/trash/{p.binned.pk}"),
        trash_entry(204),
        lambda resp, r, p, w: _gone_for_good(p.binned),
    ),
    "delete a trashed run forever": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/trash/{p.binned_run.pk}"),
        trash_entry(204),
        lambda resp, r, p, w: _gone_for_good(p.binned_run),
    ),
    "list shares": Endpoint(lambda c, p, w, r: c.get(f"/api/v1/nodes/{p.subject.pk}/shares"), reads(), _shares),
    "share": Endpoint(
        lambda c, p, w, r: c.post(
            f"/api/v1/nodes/{p.subject.pk}/shares", {"type": "user", "name": "stranger", "level": "view"}, format="json"
        ),
        owner_only(200),
        _shares,
    ),
    "unshare a user": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/nodes/{p.subject.pk}/shares/user/editor"), owner_only(204)
    ),
    "unshare public": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/nodes/{p.subject.pk}/shares/public"), owner_only(204)
    ),
    "me": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/me"),
        signed_in(200),
        lambda resp, r, p, w: _equal(resp.json()["username"], w.user(r).username),
    ),
    "shared with me": Endpoint(lambda c, p, w, r: c.get("/api/v1/shared-with-me"), signed_in(200), _shared_with_me),
    "public nodes": Endpoint(
        lambda c, p, w, r: c.get("/api/v1/public"),
        expect(200, anonymous=401),
        lambda resp, r, p, w: _equal([n["path"] for n in resp.json()["results"]], ["/owner/open"]),
    ),
    "trash": Endpoint(lambda c, p, w, r: c.get("/api/v1/trash"), signed_in(200), _trash),
    "list keys": Endpoint(lambda c, p, w, r: c.get("/api/v1/keys"), signed_in(200)),
    "create key": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/keys", {"name": "laptop"}, format="json"), signed_in(201, read_key=403)
    ),
    "revoke the owner's key": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/keys/{w.owner_key.pk}"),
        signed_in(404, owner=204, read_key=403),
        _revoked,
    ),
    "list groups": Endpoint(lambda c, p, w, r: c.get("/api/v1/groups"), signed_in(200)),
    "create group": Endpoint(
        lambda c, p, w, r: c.post("/api/v1/groups", {"name": f"new-{r}"}, format="json"), signed_in(201, read_key=403)
    ),
    "get group": Endpoint(
        lambda c, p, w, r: c.get(f"/api/v1/groups/{w.crew.pk}"),
        signed_in(404, owner=200, member=200, read_key=200, staff=200),
        _group,
    ),
    "add a group member": Endpoint(
        lambda c, p, w, r: c.post(f"/api/v1/groups/{w.crew.pk}/members", {"username": "stranger"}, format="json"),
        signed_in(404, owner=200, staff=200, member=403, read_key=403),
        _group,
    ),
    "remove a group member": Endpoint(
        lambda c, p, w, r: c.delete(f"/api/v1/groups/{w.crew.pk}/members/member"),
        signed_in(404, owner=204, staff=204, member=403, read_key=403),
    ),
}


def _equal(got: Any, wanted: Any) -> None:
    assert got == wanted


def _gone_for_good(node: Node) -> None:
    assert not Node.objects.filter(pk=node.pk).exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(endpoint: str, role: str, world: World, settings: Any) -> None:
    check(ENDPOINTS[endpoint], role, world, settings)


@pytest.mark.parametrize("role", ["stranger", "anon_public", "public"])
def test_a_hidden_node_answers_exactly_as_a_missing_one(role: str, world: World, settings: Any) -> None:
    settings.EM_PUBLIC_ANONYMOUS = True
    client, hidden = world.client(role), world.team
    missing = "00000000-0000-0000-0000-000000000000"
    pairs = [
        (f"/api/v1/nodes/{hidden.subject.pk}", f"/api/v1/nodes/{missing}"),
        (f"/api/v1/nodes/{hidden.subject.pk}/children", f"/api/v1/nodes/{missing}/children"),
        (f"/api/v1/nodes/resolve?path={hidden.paths['subject']}", "/api/v1/nodes/resolve?path=/owner/team/nothing"),
        ("/api/v1/nodes/resolve?path=/owner/team", "/api/v1/nodes/resolve?path=/nobody"),
    ]
    for seen, absent in pairs:
        a, b = client.get(seen), client.get(absent)
        assert a.status_code == b.status_code == 404
        assert a.json()["error"]["code"] == b.json()["error"]["code"] == "not_found"
        assert _without_path(a.json()) == _without_path(b.json())


def _without_path(body: dict[str, Any]) -> str:
    """The error's message with the path it names taken out: only that may differ."""
    return body["error"]["message"].split("'")[0]


def test_unshare_at_a_folder_removes_access_granted_below_it(world: World) -> None:
    owner, subject = world.users["owner"], world.team.subject
    sharing.share(node=subject, to=sharing.principal("user", "editor"), level=Level.EDIT, by=owner)
    team = Node.objects.get(parent=root_of(owner), name="team")
    assert world.client("owner").delete(f"/api/v1/nodes/{team.pk}/shares/user/editor").status_code == 204
    assert world.client("editor").get(f"/api/v1/nodes/{subject.pk}").status_code == 404
    assert world.client("viewer").get(f"/api/v1/nodes/{subject.pk}").status_code == 200


def test_a_node_moved_out_of_a_shared_folder_is_no_longer_shared(world: World) -> None:
    owner, subject = world.client("owner"), world.team.subject
    private = owner.post("/api/v1/nodes", {"parent_path": "/owner", "name": "private"}, format="json")
    assert private.status_code == 201
    moved = owner.post(f"/api/v1/nodes/{subject.pk}/move", {"destination_path": "/owner/private"}, format="json")
    assert moved.json()["path"] == "/owner/private/subject"
    assert world.client("viewer").get(f"/api/v1/nodes/{subject.pk}").status_code == 404
    back = owner.post(f"/api/v1/nodes/{subject.pk}/move", {"destination": str(world.team.base.pk)}, format="json")
    assert back.status_code == 200
    assert world.client("viewer").get(f"/api/v1/nodes/{subject.pk}").json()["access"] == "view"


def test_a_shortcut_shows_its_target_only_to_those_who_may_see_it(world: World) -> None:
    owner = world.client("owner")
    secret = owner.post("/api/v1/nodes", {"parent_path": "/owner", "name": "secret"}, format="json").json()
    link = owner.post(
        "/api/v1/nodes",
        {"parent": str(world.team.base.pk), "name": "link", "kind": "Shortcut", "target": secret["id"]},
        format="json",
    ).json()
    assert world.client("viewer").get(f"/api/v1/nodes/{link['id']}").json()["target"] is None
    target = owner.get(f"/api/v1/nodes/{link['id']}").json()["target"]
    assert target == {"id": secret["id"], "name": "secret", "kind": "Folder", "path": "/owner/secret"}
    assert world.client("viewer").get(f"/api/v1/nodes/{secret['id']}").status_code == 404


def test_what_an_editor_deletes_only_the_owner_can_bring_back(world: World) -> None:
    subject = world.team.subject
    assert world.client("editor").delete(f"/api/v1/nodes/{subject.pk}").status_code == 204
    assert world.client("editor").get(f"/api/v1/nodes/{subject.pk}").status_code == 404
    assert world.client("editor").post(f"/api/v1/nodes/{subject.pk}/restore").status_code == 404
    entries = world.client("owner").get("/api/v1/trash").json()["results"]
    assert str(subject.pk) in [entry["id"] for entry in entries]
    restored = world.client("owner").post(f"/api/v1/nodes/{subject.pk}/restore")
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert world.client("editor").get(f"/api/v1/nodes/{subject.pk}").json()["access"] == "edit"
