"""Bad input gets a clear error in the one error shape, and changes nothing."""

from __future__ import annotations

import pytest

from em.access import Level
from em.models import Node
from em.services import sharing
from tests.factories import folder, root

pytestmark = pytest.mark.django_db


def _state() -> list[tuple]:
    return list(Node.objects.order_by("path").values_list("path", "name", "parent_id", "labels", "deleted_at"))


@pytest.fixture
def tree(alice):
    a = folder(root(alice), "a")
    b = folder(a, "b")
    return {"root": root(alice), "a": a, "b": b}


BAD_NAMES = {
    "slash": ("x/y", "must not contain '/'"),
    "empty": ("", "must not be empty"),
    "too long": ("n" * 256, "at most 255 characters"),
    "newline": ("bad\nname", "control characters"),
    "nul": ("bad\x00name", "NUL character"),
    "bidi override": ("evil\u202ename", "control characters"),
    "dot": (".", "not allowed"),
    "dot dot": ("..", "not allowed"),
    "padded": (" padded ", "white space"),
}


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_bad_names_are_refused_on_create_rename_and_move(case, tree, alice, api):
    name, message = BAD_NAMES[case]
    client = api(alice)
    before = _state()
    responses = [
        client.post("/api/v1/nodes", {"parent": str(tree["a"].pk), "name": name}, format="json"),
        client.patch(f"/api/v1/nodes/{tree['b'].pk}", {"name": name}, format="json"),
        client.post(
            f"/api/v1/nodes/{tree['b'].pk}/move", {"destination": str(tree["root"].pk), "name": name}, format="json"
        ),
    ]
    for response in responses:
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] in {"invalid_name", "invalid"}
        assert message in error["message"]
    assert _state() == before


def test_a_name_of_255_characters_and_unicode_are_fine(tree, alice, api):
    client = api(alice)
    for name in ("n" * 255, "実験 – ü ✓", "emoji 🚀"):
        response = client.post("/api/v1/nodes", {"parent": str(tree["a"].pk), "name": name}, format="json")
        assert response.status_code == 201
        assert response.json()["name"] == name


def test_a_name_clash_is_a_409_naming_the_path(tree, alice, api):
    before = _state()
    response = api(alice).post("/api/v1/nodes", {"parent": str(tree["a"].pk), "name": "b"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "name_clash",
        "message": "/alice/a/b already exists.",
        "detail": {"name": "b"},
    }
    rename = api(alice).patch(f"/api/v1/nodes/{tree['a'].pk}", {"name": "a"}, format="json")
    assert rename.status_code == 200  # renaming to its own name is no clash
    assert _state() == before


def test_moving_a_folder_into_itself_or_a_descendant_is_refused(tree, alice, api):
    before = _state()
    for destination in ("a", "b"):
        response = api(alice).post(
            f"/api/v1/nodes/{tree['a'].pk}/move", {"destination": str(tree[destination].pk)}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_move"
        assert "into itself or one of its descendants" in response.json()["error"]["message"]
    assert _state() == before


def test_moving_into_something_that_is_not_a_folder_is_refused(tree, alice, api):
    run = folder(tree["a"], "run", kind="Run")
    before = _state()
    response = api(alice).post(f"/api/v1/nodes/{tree['b'].pk}/move", {"destination": str(run.pk)}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "/alice/a/run is a Run, not a folder."
    assert _state() == before


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"type": "user", "name": "nobody"}, "There is no user named 'nobody'."),
        ({"type": "group", "name": "nobody"}, "There is no group named 'nobody'."),
        ({"type": "group", "name": "__public__"}, "There is no group named '__public__'."),
        ({"type": "user"}, "Name the user to share with."),
        ({"type": "robot", "name": "x"}, 'type: "robot" is not a valid choice.'),
    ],
)
def test_sharing_with_an_unknown_principal_is_refused(principal, message, tree, alice, api):
    response = api(alice).post(f"/api/v1/nodes/{tree['a'].pk}/shares", {**principal, "level": "view"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert tree["a"].user_grants.count() + tree["a"].group_grants.count() == 0


def test_sharing_with_a_bad_level_or_with_yourself_is_refused(tree, alice, bob, api):
    client = api(alice)
    bad_level = client.post(
        f"/api/v1/nodes/{tree['a'].pk}/shares", {"type": "user", "name": "bob", "level": "admin"}, format="json"
    )
    assert bad_level.status_code == 400
    assert "level" in bad_level.json()["error"]["message"]
    yourself = client.post(
        f"/api/v1/nodes/{tree['a'].pk}/shares", {"type": "user", "name": "alice", "level": "edit"}, format="json"
    )
    assert yourself.status_code == 400
    assert "owner" in yourself.json()["error"]["message"]
    assert tree["a"].user_grants.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"labels": "not-a-list"}, "labels"),
        ({"labels": [""]}, "1 to 100 characters"),
        ({"labels": ["x" * 101]}, "1 to 100 characters"),
        ({"labels": [f"l{i}" for i in range(65)]}, "at most 64 labels"),
        ({"extra": [1, 2]}, "must be a JSON object"),
        ({"extra": {"blob": "x" * 70_000}}, "at most 64 KiB"),
        ({"description": "d" * 20_001}, "at most 20000 characters"),
    ],
)
def test_bad_labels_descriptions_and_extra_are_refused(body, message, tree, alice, api):
    before = _state()
    response = api(alice).patch(f"/api/v1/nodes/{tree['a'].pk}", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert _state() == before


def test_nan_and_infinity_in_json_are_refused(tree, alice, api):
    response = api(alice).generic(
        "PATCH", f"/api/v1/nodes/{tree['a'].pk}", '{"extra": {"loss": NaN}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_malformed_json_and_unknown_orderings_get_clear_errors(tree, alice, api):
    client = api(alice)
    broken = client.generic("POST", "/api/v1/nodes", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "parse_error"
    ordering = client.get(f"/api/v1/nodes/{tree['a'].pk}/children?ordering=size")
    assert ordering.status_code == 400
    assert "Order by one of name, kind, modified, created" in ordering.json()["error"]["message"]
    both = client.post("/api/v1/nodes", {"name": "x"}, format="json")
    assert both.json()["error"]["message"] == "Give exactly one of `parent` and `parent_path`."


def test_unknown_endpoints_and_ids_answer_in_the_error_shape(alice, api):
    client = api(alice)
    assert client.get("/api/v1/no-such-thing").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/nodes/not-a-uuid").status_code == 404
    resolve = client.get("/api/v1/nodes/resolve", {"path": "/alice/missing"})
    assert resolve.status_code == 404
    assert resolve.json()["error"]["message"] == "Nothing found at '/alice/missing'."


def test_renaming_or_deleting_a_root_folder_is_refused(alice, api):
    client = api(alice)
    rename = client.patch(f"/api/v1/nodes/{root(alice).pk}", {"name": "mallory"}, format="json")
    assert rename.status_code == 400
    assert "cannot be renamed" in rename.json()["error"]["message"]
    delete = client.delete(f"/api/v1/nodes/{root(alice).pk}")
    assert delete.status_code == 400
    assert "cannot be deleted" in delete.json()["error"]["message"]


def test_restoring_a_live_node_is_not_found(tree, alice, api):
    response = api(alice).post(f"/api/v1/nodes/{tree['a'].pk}/restore")
    assert response.status_code == 404


def test_editors_cannot_share_onwards(tree, alice, bob, api):
    sharing.share(node=tree["a"], to=sharing.principal("user", "bob"), level=Level.EDIT, by=alice)
    response = api(bob).post(f"/api/v1/nodes/{tree['a'].pk}/shares", {"type": "public", "level": "view"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only the owner of this tree (or staff) may do this."
