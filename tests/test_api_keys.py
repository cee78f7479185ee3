"""API keys through the API: created and shown once, stored as a digest, sent as a bearer token, scoped,
revoked, expiring. Every request below goes through the real authentication and permission classes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiKey
from em.models import Node
from tests.factories import folder, root

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def create(client: APIClient, **body):
    return client.post("/api/v1/keys", body, format="json")


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "detail"}, body
    return body["error"]


# --- created, shown once, stored as a digest ------------------------------------------------------


def test_created_key_is_shown_once_and_listed_without_it(alice, api):
    client = api(alice)
    response = create(client, name="laptop", scope="read")
    assert response.status_code == 201
    body = response.json()
    raw = body["key"]
    assert raw.startswith("em_")
    assert len(raw) > 40
    assert body["name"] == "laptop"
    assert body["scope"] == "read"
    assert body["prefix"] == raw[:11]
    assert body["expires_at"] is None
    assert body["last_used_at"] is None
    assert set(body) == {"id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at", "key", "uuid_key"}
    assert body["uuid_key"] == services.uuid_form(raw)  # for UUID-only clients (docs/t9k.md)

    listed = client.get("/api/v1/keys")
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()] == [body["id"]]
    assert "key" not in listed.json()[0]
    assert listed.json()[0]["prefix"] == raw[:11]
    assert raw not in listed.content.decode()


def test_database_keeps_only_the_sha256_digest_of_the_key(alice, api):
    response = create(api(alice), name="ci")
    assert response.status_code == 201
    raw = response.json()["key"]

    row = ApiKey.objects.values().get(pk=response.json()["id"])
    assert row["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in row.values())
    assert row["scope"] == "write"


def test_default_scope_is_write(alice, api):
    response = create(api(alice), name="default")
    assert response.status_code == 201
    assert response.json()["scope"] == "write"


def test_key_with_a_future_expiry_works_until_then(alice, api):
    expires = timezone.now() + timedelta(days=7)
    response = create(api(alice), name="week", expires_at=expires.isoformat())
    assert response.status_code == 201
    assert response.json()["expires_at"] is not None
    assert ApiKey.objects.get(pk=response.json()["id"]).expires_at == expires

    me = bearer(response.json()["key"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


# --- using a key ----------------------------------------------------------------------------------


def test_bearer_key_signs_in_as_its_owner(alice, bob, api):
    raw = create(api(bob), name="bobs").json()["key"]
    response = bearer(raw).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "bob"
    assert response.json()["root"]["path"] == "/bob"


def test_keyword_bearer_is_case_insensitive(alice, api):
    raw = create(api(alice), name="case").json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {raw}")
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_write_key_can_create_a_folder(alice, key_client):
    response = key_client(alice, "write").post(
        "/api/v1/nodes", {"parent": str(root(alice).pk), "name": "x"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["path"] == "/alice/x"
    assert response.json()["created_by"] == "alice"


def test_read_key_can_read(alice, key_client):
    folder(root(alice), "exp")
    client = key_client(alice, "read")

    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"

    children = client.get(f"/api/v1/nodes/{root(alice).pk}/children")
    assert children.status_code == 200
    assert [n["name"] for n in children.json()["results"]] == ["exp"]

    keys = client.get("/api/v1/keys")
    assert keys.status_code == 200
    assert [k["scope"] for k in keys.json()] == ["read"]


def test_read_key_cannot_create_a_folder(alice, key_client):
    response = key_client(alice, "read").post(
        "/api/v1/nodes", {"parent": str(root(alice).pk), "name": "x"}, format="json"
    )
    assert response.status_code == 403
    err = error(response)
    assert err["code"] == "permission_denied"
    assert "'read' scope" in err["message"]
    assert not Node.objects.filter(name="x").exists()


def test_read_key_cannot_rename_a_node(alice, key_client):
    exp = folder(root(alice), "exp")
    response = key_client(alice, "read").patch(f"/api/v1/nodes/{exp.pk}", {"name": "renamed"}, format="json")
    assert response.status_code == 403
    err = error(response)
    assert err["code"] == "permission_denied"
    assert "'read' scope" in err["message"]
    exp.refresh_from_db()
    assert exp.name == "exp"


def test_read_key_cannot_delete_a_node(alice, key_client):
    exp = folder(root(alice), "exp")
    response = key_client(alice, "read").delete(f"/api/v1/nodes/{exp.pk}")
    assert response.status_code == 403
    err = error(response)
    assert err["code"] == "permission_denied"
    assert "'read' scope" in err["message"]
    exp.refresh_from_db()
    assert exp.deleted_at is None


def test_read_key_cannot_mint_a_write_key_or_revoke_keys(alice, key_client):
    client = key_client(alice, "read")
    read_key = ApiKey.objects.get(user=alice)

    minted = create(client, name="escalate", scope="write")
    assert minted.status_code == 403
    assert error(minted)["code"] == "permission_denied"
    assert not ApiKey.objects.filter(name="escalate").exists()

    revoked = client.delete(f"/api/v1/keys/{read_key.pk}")
    assert revoked.status_code == 403
    assert error(revoked)["code"] == "permission_denied"
    read_key.refresh_from_db()
    assert read_key.revoked_at is None


def test_last_used_at_is_recorded_on_use(alice, api):
    session = api(alice)
    created = create(session, name="tracked").json()
    key = ApiKey.objects.get(pk=created["id"])
    assert key.last_used_at is None

    before = timezone.now()
    response = bearer(created["key"]).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert before <= key.last_used_at <= timezone.now()

    listed = session.get("/api/v1/keys")
    assert listed.status_code == 200
    assert listed.json()[0]["last_used_at"] is not None


def test_last_used_at_is_refreshed_only_after_a_minute(alice, api):
    created = create(api(alice), name="tracked").json()
    client = bearer(created["key"])
    assert client.get("/api/v1/me").status_code == 200
    first = ApiKey.objects.get(pk=created["id"]).last_used_at

    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert ApiKey.objects.get(pk=created["id"]).last_used_at == first

    stale = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=created["id"]).update(last_used_at=stale)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert ApiKey.objects.get(pk=created["id"]).last_used_at > stale


# --- refused keys and requests ----------------------------------------------------------------------


def test_revoked_key_is_refused_with_a_message_saying_so(alice, api):
    session = api(alice)
    created = create(session, name="old").json()
    client = bearer(created["key"])
    assert client.get("/api/v1/me").status_code == 200

    revoked = session.delete(f"/api/v1/keys/{created['id']}")
    assert revoked.status_code == 204
    assert revoked.content == b""
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None

    response = client.get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "revoked" in err["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")

    listed = session.get("/api/v1/keys")
    assert listed.status_code == 200
    assert listed.json() == []


def test_revoking_twice_is_not_found(alice, api):
    session = api(alice)
    created = create(session, name="once").json()
    assert session.delete(f"/api/v1/keys/{created['id']}").status_code == 204
    again = session.delete(f"/api/v1/keys/{created['id']}")
    assert again.status_code == 404
    assert error(again)["code"] == "not_found"


def test_expired_key_is_refused_with_a_message_saying_so(alice, api):
    created = create(api(alice), name="short").json()
    ApiKey.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = bearer(created["key"]).get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "expired" in err["message"]


def test_unknown_key_is_refused(alice):
    response = bearer("em_" + "x" * 43).get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "not valid" in err["message"]


@pytest.mark.parametrize("header", ["Bearer a b", "Bearer", "Bearer  em_a em_b"])
def test_malformed_bearer_header_is_refused(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "Authorization: Bearer <key>" in err["message"]


def test_non_ascii_key_is_refused(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer em_clé")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "not valid" in err["message"]


def test_bad_bearer_key_is_refused_even_beside_a_valid_session(alice, api):
    client = api(alice)
    client.credentials(HTTP_AUTHORIZATION="Bearer em_unknown")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error(response)["code"] == "authentication_failed"


def test_key_of_a_deactivated_user_is_refused(alice, api):
    raw = create(api(alice), name="leaver").json()["key"]
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = bearer(raw).get("/api/v1/me")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "authentication_failed"
    assert "not valid" in err["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/me"), ("get", "/api/v1/keys"), ("post", "/api/v1/keys"), ("get", "/api/v1/groups")],
)
def test_anonymous_is_not_authenticated(db, method, path):
    response = getattr(APIClient(), method)(path, {"name": "x"} if method == "post" else None, format="json")
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "not_authenticated"
    assert err["message"]
    assert not ApiKey.objects.exists()


def test_other_authorization_schemes_are_anonymous(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6c2VjcmV0")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


# --- creation rules -------------------------------------------------------------------------------


def test_expiry_in_the_past_is_refused_at_creation(alice, api):
    past = timezone.now() - timedelta(seconds=1)
    response = create(api(alice), name="late", expires_at=past.isoformat())
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert "future" in err["message"]
    assert not ApiKey.objects.exists()


def test_unreadable_expiry_is_refused(alice, api):
    response = create(api(alice), name="late", expires_at="next tuesday")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"].startswith("expires_at:")
    assert not ApiKey.objects.exists()


def test_duplicate_live_key_name_is_a_conflict(alice, api):
    session = api(alice)
    first = create(session, name="laptop")
    assert first.status_code == 201
    second = create(session, name="laptop", scope="read")
    assert second.status_code == 409
    err = error(second)
    assert err["code"] == "name_clash"
    assert "laptop" in err["message"]
    assert ApiKey.objects.filter(user=alice).count() == 1


def test_name_of_a_revoked_key_can_be_reused(alice, api):
    session = api(alice)
    first = create(session, name="laptop").json()
    assert session.delete(f"/api/v1/keys/{first['id']}").status_code == 204
    again = create(session, name="laptop")
    assert again.status_code == 201
    assert again.json()["name"] == "laptop"
    assert again.json()["key"] != first["key"]
    assert [k["id"] for k in session.get("/api/v1/keys").json()] == [again.json()["id"]]


def test_two_users_may_use_the_same_key_name(alice, bob, api):
    assert create(api(alice), name="laptop").status_code == 201
    response = create(api(bob), name="laptop")
    assert response.status_code == 201
    assert response.json()["name"] == "laptop"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name: This field may not be blank."),
        ("   ", "name: This field may not be blank."),
        ("n" * 101, "Name the key (1 to 100 characters)."),
    ],
)
def test_key_name_must_be_one_to_a_hundred_characters(alice, api, name, message):
    response = create(api(alice), name=name)
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"] == message
    assert not ApiKey.objects.exists()


def test_key_name_is_required(alice, api):
    response = create(api(alice))
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"] == "name: This field is required."
    assert err["detail"] == {"name": ["This field is required."]}


def test_key_name_is_trimmed_and_may_be_a_hundred_characters(alice, api):
    response = create(api(alice), name=f"  {'n' * 100}  ")
    assert response.status_code == 201
    assert response.json()["name"] == "n" * 100


def test_unknown_scope_is_refused(alice, api):
    response = create(api(alice), name="root", scope="admin")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "invalid"
    assert err["message"].startswith("scope:")
    assert not ApiKey.objects.exists()


# --- revoking ---------------------------------------------------------------------------------------


def test_revoking_someone_elses_key_is_not_found_and_leaves_it_working(alice, bob, api):
    bobs = create(api(bob), name="bobs").json()

    response = api(alice).delete(f"/api/v1/keys/{bobs['id']}")
    assert response.status_code == 404
    err = error(response)
    assert err["code"] == "not_found"
    assert err["message"] == "API key not found."

    assert ApiKey.objects.get(pk=bobs["id"]).revoked_at is None
    me = bearer(bobs["key"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "bob"


def test_listing_shows_only_your_own_keys(alice, bob, api):
    create(api(bob), name="bobs")
    mine = create(api(alice), name="mine").json()
    response = api(alice).get("/api/v1/keys")
    assert response.status_code == 200
    assert [(k["id"], k["name"]) for k in response.json()] == [(mine["id"], "mine")]


def test_a_key_can_revoke_itself(alice, api):
    created = create(api(alice), name="self").json()
    client = bearer(created["key"])
    response = client.delete(f"/api/v1/keys/{created['id']}")
    assert response.status_code == 204
    after = client.get("/api/v1/me")
    assert after.status_code == 401
    assert "revoked" in error(after)["message"]
