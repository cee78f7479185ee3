"""Groups through the API: anyone creates one, its managers run its members and managers, strangers do not
see it, the public group stays hidden, and a share with a group follows its membership."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import PUBLIC_GROUP, GroupManager
from tests.factories import folder, root

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "detail"}, body
    return body["error"]


def new_group(client, name: str = "vision") -> dict:
    response = client.post("/api/v1/groups", {"name": name}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def add(client, group: dict, username: str, role: str = "members"):
    return client.post(f"/api/v1/groups/{group['id']}/{role}", {"username": username}, format="json")


def remove(client, group: dict, username: str, role: str = "members"):
    return client.delete(f"/api/v1/groups/{group['id']}/{role}/{username}")


def state(group: dict) -> tuple[list[str], list[str]]:
    """(members, managers) as stored, sorted."""
    g = Group.objects.get(pk=group["id"])
    members = sorted(g.user_set.values_list("username", flat=True))
    managers = sorted(GroupManager.objects.filter(group=g).values_list("user__username", flat=True))
    return members, managers


@pytest.fixture
def carol(make_user):
    return make_user("carol")


# --- creating -------------------------------------------------------------------------------------


def test_any_user_creates_a_group_and_becomes_its_member_and_manager(alice, api):
    client = api(alice)
    response = client.post("/api/v1/groups", {"name": "vision"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "name": "vision", "members": ["alice"], "managers": ["alice"]}
    assert state(body) == (["alice"], ["alice"])

    listed = client.get("/api/v1/groups")
    assert listed.status_code == 200
    assert listed.json() == [body]

    one = client.get(f"/api/v1/groups/{body['id']}")
    assert one.status_code == 200
    assert one.json() == body

    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["groups"] == ["vision"]


@pytest.mark.parametrize("name", ["a", "Team-1", "ml.research", "x_y", "9lives", "n" * 150])
def test_valid_group_names_are_accepted(alice, api, name):
    response = api(alice).post("/api/v1/groups", {"name": name}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (PUBLIC_GROUP, "invalid_name"),
        ("_hidden", "invalid_name"),
        ("-dash", "invalid_name"),
        (".dot", "invalid_name"),
        ("two words", "invalid_name"),
        ("a/b", "invalid_name"),
        ("naïve", "invalid_name"),
        ("n" * 151, "invalid_name"),
        ("", "invalid"),
        ("   ", "invalid"),
    ],
)
def test_invalid_group_names_are_refused(alice, api, name, code):
    before = set(Group.objects.values_list("name", flat=True))
    response = api(alice).post("/api/v1/groups", {"name": name}, format="json")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == code
    assert err["message"]
    assert set(Group.objects.values_list("name", flat=True)) == before


def test_surrounding_whitespace_is_trimmed_from_a_group_name(alice, api):
    response = api(alice).post("/api/v1/groups", {"name": "  padded  "}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "padded"


def test_group_name_is_required(alice, api):
    response = api(alice).post("/api/v1/groups", {}, format="json")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"] == "name: This field is required."


def test_duplicate_group_name_is_a_conflict(alice, bob, api):
    new_group(api(alice), "vision")
    response = api(bob).post("/api/v1/groups", {"name": "vision"}, format="json")
    assert response.status_code == 409
    err = error(response)
    assert err["code"] == "name_clash"
    assert "vision" in err["message"]
    assert Group.objects.filter(name="vision").count() == 1
    assert not GroupManager.objects.filter(user=bob).exists()


# --- members and managers ---------------------------------------------------------------------------


def test_manager_adds_and_removes_a_member(alice, bob, api):
    group = new_group(api(alice))

    added = add(api(alice), group, "bob")
    assert added.status_code == 200
    assert added.json() == {"id": group["id"], "name": "vision", "members": ["alice", "bob"], "managers": ["alice"]}
    assert state(group) == (["alice", "bob"], ["alice"])
    assert [g["name"] for g in api(bob).get("/api/v1/groups").json()] == ["vision"]

    removed = remove(api(alice), group, "bob")
    assert removed.status_code == 204
    assert removed.content == b""
    assert state(group) == (["alice"], ["alice"])
    listed = api(bob).get("/api/v1/groups")
    assert listed.status_code == 200
    assert listed.json() == []


def test_adding_a_member_twice_changes_nothing(alice, bob, api):
    group = new_group(api(alice))
    assert add(api(alice), group, "bob").status_code == 200
    again = add(api(alice), group, "bob")
    assert again.status_code == 200
    assert again.json()["members"] == ["alice", "bob"]
    assert state(group) == (["alice", "bob"], ["alice"])


def test_manager_adds_a_manager_who_then_manages(alice, bob, carol, api):
    group = new_group(api(alice))

    promoted = add(api(alice), group, "bob", role="managers")
    assert promoted.status_code == 200
    assert promoted.json()["members"] == ["alice", "bob"]
    assert promoted.json()["managers"] == ["alice", "bob"]

    by_bob = add(api(bob), group, "carol")
    assert by_bob.status_code == 200
    assert by_bob.json()["members"] == ["alice", "bob", "carol"]
    assert state(group) == (["alice", "bob", "carol"], ["alice", "bob"])


def test_removing_a_manager_keeps_them_as_a_plain_member(alice, bob, carol, api):
    group = new_group(api(alice))
    add(api(alice), group, "bob", role="managers")

    demoted = remove(api(alice), group, "bob", role="managers")
    assert demoted.status_code == 204
    assert state(group) == (["alice", "bob"], ["alice"])

    refused = add(api(bob), group, "carol")
    assert refused.status_code == 403
    assert error(refused)["code"] == "permission_denied"
    assert state(group) == (["alice", "bob"], ["alice"])


def test_removing_a_manager_from_the_members_drops_the_manager_role_too(alice, bob, api):
    group = new_group(api(alice))
    add(api(alice), group, "bob", role="managers")

    response = remove(api(alice), group, "bob")
    assert response.status_code == 204
    assert state(group) == (["alice"], ["alice"])
    gone = api(bob).get(f"/api/v1/groups/{group['id']}")
    assert gone.status_code == 404
    assert error(gone)["code"] == "not_found"


@pytest.mark.parametrize(
    ("action", "role"),
    [("add", "members"), ("add", "managers"), ("remove", "members"), ("remove", "managers")],
)
def test_member_who_is_not_a_manager_is_forbidden(alice, bob, carol, api, action, role):
    group = new_group(api(alice))
    add(api(alice), group, "bob")
    if action == "remove":
        add(api(alice), group, "carol", role=role)
    before = state(group)

    response = (add if action == "add" else remove)(api(bob), group, "carol", role=role)
    assert response.status_code == 403
    err = error(response)
    assert err["code"] == "permission_denied"
    assert err["message"] == "Only the group's managers may change its members."
    assert state(group) == before

    # Members may still look at the group.
    seen = api(bob).get(f"/api/v1/groups/{group['id']}")
    assert seen.status_code == 200
    assert seen.json()["members"] == before[0]


def test_member_cannot_promote_themselves(alice, bob, api):
    group = new_group(api(alice))
    add(api(alice), group, "bob")
    response = add(api(bob), group, "bob", role="managers")
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert state(group) == (["alice", "bob"], ["alice"])


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", "/members"),
        ("post", "/managers"),
        ("delete", "/members/alice"),
        ("delete", "/managers/alice"),
    ],
)
def test_stranger_does_not_see_the_group(alice, bob, api, method, suffix):
    group = new_group(api(alice))
    client = api(bob)
    url = f"/api/v1/groups/{group['id']}{suffix}"
    response = (
        client.post(url, {"username": "bob"}, format="json") if method == "post" else getattr(client, method)(url)
    )
    assert response.status_code == 404
    err = error(response)
    assert err["code"] == "not_found"
    assert err["message"] == "Group not found."
    assert state(group) == (["alice"], ["alice"])

    listed = client.get("/api/v1/groups")
    assert listed.status_code == 200
    assert listed.json() == []


def test_unknown_group_id_is_not_found(alice, api):
    response = api(alice).get("/api/v1/groups/999999")
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


@pytest.mark.parametrize("role", ["members", "managers"])
def test_unknown_username_is_refused(alice, api, role):
    group = new_group(api(alice))

    added = add(api(alice), group, "nobody", role=role)
    assert added.status_code == 400
    err = error(added)
    assert err["code"] == "invalid"
    assert err["message"] == "There is no user named 'nobody'."
    assert err["detail"] == {"username": "nobody"}

    removed = remove(api(alice), group, "nobody", role=role)
    assert removed.status_code == 400
    assert error(removed)["detail"] == {"username": "nobody"}
    assert state(group) == (["alice"], ["alice"])


def test_deactivated_user_cannot_be_added(alice, bob, api):
    group = new_group(api(alice))
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    response = add(api(alice), group, "bob")
    assert response.status_code == 400
    assert error(response)["message"] == "There is no user named 'bob'."
    assert state(group) == (["alice"], ["alice"])


def test_username_is_required_to_add(alice, api):
    group = new_group(api(alice))
    response = api(alice).post(f"/api/v1/groups/{group['id']}/members", {}, format="json")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"] == "username: This field is required."


def test_last_manager_cannot_step_down(alice, api):
    group = new_group(api(alice))
    response = remove(api(alice), group, "alice", role="managers")
    assert response.status_code == 409
    err = error(response)
    assert err["code"] == "conflict"
    assert err["message"] == "A group keeps at least one manager."
    assert state(group) == (["alice"], ["alice"])


def test_last_manager_cannot_leave_the_members_either(alice, bob, api):
    """Removing the sole manager as a *member* also drops their manager role, so it must be refused the
    same way; otherwise the group is left with no manager and nobody can ever change it again."""
    group = new_group(api(alice))
    add(api(alice), group, "bob")

    response = remove(api(alice), group, "alice")
    assert response.status_code == 409
    err = error(response)
    assert err["code"] == "conflict"
    assert err["message"] == "A group keeps at least one manager."
    assert state(group) == (["alice", "bob"], ["alice"])


def test_one_of_two_managers_can_step_down(alice, bob, carol, api):
    group = new_group(api(alice))
    add(api(alice), group, "bob", role="managers")
    response = remove(api(alice), group, "alice", role="managers")
    assert response.status_code == 204
    assert state(group) == (["alice", "bob"], ["bob"])
    refused = add(api(alice), group, "carol")
    assert refused.status_code == 403
    assert error(refused)["code"] == "permission_denied"


def test_staff_manage_any_group(alice, make_user, api):
    admin = make_user("admin", is_staff=True)
    group = new_group(api(alice))
    make_user("dave")

    listed = api(admin).get("/api/v1/groups")
    assert listed.status_code == 200
    assert [g["name"] for g in listed.json()] == ["vision"]

    response = add(api(admin), group, "dave")
    assert response.status_code == 200
    assert response.json()["members"] == ["alice", "dave"]


# --- the public group ---------------------------------------------------------------------------------


def test_public_group_never_appears_in_the_group_list(alice, make_user, api):
    public, _ = Group.objects.get_or_create(name=PUBLIC_GROUP)
    admin = make_user("admin", is_staff=True, is_superuser=True)
    public.user_set.add(alice, admin)
    GroupManager.objects.create(group=public, user=alice)
    new_group(api(alice), "vision")

    for user in (alice, admin):
        listed = api(user).get("/api/v1/groups")
        assert listed.status_code == 200
        assert [g["name"] for g in listed.json()] == ["vision"]
        me = api(user).get("/api/v1/me")
        assert me.status_code == 200
        assert PUBLIC_GROUP not in me.json()["groups"]


def test_public_group_cannot_be_read_or_changed_through_the_api(alice, bob, make_user, api):
    public, _ = Group.objects.get_or_create(name=PUBLIC_GROUP)
    admin = make_user("admin", is_staff=True, is_superuser=True)
    group = {"id": public.pk}
    for user in (alice, admin):
        seen = api(user).get(f"/api/v1/groups/{public.pk}")
        assert seen.status_code == 404
        assert error(seen)["code"] == "not_found"
        added = add(api(user), group, "bob")
        assert added.status_code == 404
        assert error(added)["code"] == "not_found"
    assert not public.user_set.exists()


# --- sharing with a group -------------------------------------------------------------------------------


def test_group_share_follows_membership(alice, bob, carol, api):
    shared = folder(root(alice), "shared")
    group = new_group(api(alice), "vision")
    assert add(api(alice), group, "bob").status_code == 200

    share = api(alice).post(
        f"/api/v1/nodes/{shared.pk}/shares", {"type": "group", "name": "vision", "level": "view"}, format="json"
    )
    assert share.status_code == 200
    assert share.json()["shares"] == [{"type": "group", "name": "vision", "level": "view", "inherited_from": None}]

    as_member = api(bob).get(f"/api/v1/nodes/{shared.pk}")
    assert as_member.status_code == 200
    assert as_member.json()["path"] == "/alice/shared"
    assert as_member.json()["access"] == "view"

    later = folder(shared, "later")
    below = api(bob).get(f"/api/v1/nodes/{later.pk}")
    assert below.status_code == 200
    assert below.json()["path"] == "/alice/shared/later"

    rename = api(bob).patch(f"/api/v1/nodes/{shared.pk}", {"name": "mine"}, format="json")
    assert rename.status_code == 403
    assert error(rename)["code"] == "permission_denied"

    as_stranger = api(carol).get(f"/api/v1/nodes/{shared.pk}")
    assert as_stranger.status_code == 404
    assert error(as_stranger)["code"] == "not_found"

    assert remove(api(alice), group, "bob").status_code == 204
    for node in (shared, later):
        after = api(bob).get(f"/api/v1/nodes/{node.pk}")
        assert after.status_code == 404
        assert error(after)["code"] == "not_found"


def test_group_share_reaches_a_member_added_later(alice, bob, api):
    shared = folder(root(alice), "shared")
    group = new_group(api(alice), "vision")
    response = api(alice).post(
        f"/api/v1/nodes/{shared.pk}/shares", {"type": "group", "name": "vision", "level": "edit"}, format="json"
    )
    assert response.status_code == 200

    before = api(bob).get(f"/api/v1/nodes/{shared.pk}")
    assert before.status_code == 404
    assert error(before)["code"] == "not_found"

    assert add(api(alice), group, "bob").status_code == 200
    after = api(bob).get(f"/api/v1/nodes/{shared.pk}")
    assert after.status_code == 200
    assert after.json()["access"] == "edit"

    mine = api(bob).get("/api/v1/shared-with-me")
    assert mine.status_code == 200
    assert [n["path"] for n in mine.json()["results"]] == ["/alice/shared"]


def test_sharing_with_the_public_group_by_name_is_refused(alice, api):
    shared = folder(root(alice), "shared")
    response = api(alice).post(
        f"/api/v1/nodes/{shared.pk}/shares", {"type": "group", "name": PUBLIC_GROUP, "level": "view"}, format="json"
    )
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"] == f"There is no group named {PUBLIC_GROUP!r}."
