"""The portal page, browser sign-in, and the OpenAPI schema with its Swagger UI."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_portal_page_sends_visitors_to_sign_in_and_serves_users_the_app(client, alice):
    anonymous = client.get("/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    signed_in = client.get("/")
    assert b'<div id="root">' in signed_in.content  # the app's shell (tests/test_portal_shell.py has more)
    assert "csrftoken" in signed_in.cookies  # the page's script may write through the API


def test_browser_sign_in_opens_a_session_the_api_accepts(client, alice):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "alice"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_a_wrong_password_is_refused_plainly(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_schema_is_valid_and_documents_every_endpoint(client, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in ("/api/v1/nodes/{node_id}/children", "/api/v1/nodes/{node_id}/shares", "/api/v1/keys", "/api/v1/me"):
        assert f"{path}:" in schema
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()  # served from the installed sidecar, works offline


def test_healthz_answers_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
