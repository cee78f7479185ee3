"""Security headers: a Content-Security-Policy on the portal's pages, and API answers no cache may keep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import root

pytestmark = pytest.mark.django_db


def directives(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/", "/browse/x", "/accounts/login/", "/api/docs/"])
def test_portal_pages_carry_a_policy_that_runs_only_our_own_scripts(client: Any, alice: Any, path: str) -> None:
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code in (200, 503)  # 503: the shell says the portal is not built
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]


def test_the_api_docs_load_their_script_from_a_file_not_inline(client: Any) -> None:
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/keys", "/api/v1/trash", "/api/v1/nodes/resolve?path=/alice", "/api/v1/nope"]
)
def test_api_answers_are_never_stored(path: str, alice: Any, key_client: Callable[..., APIClient]) -> None:
    response = key_client(alice).get(path)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_refusals_and_file_downloads_are_not_stored_either(alice: Any, api: Callable[..., APIClient]) -> None:
    assert "no-store" in api().get("/api/v1/me")["Cache-Control"]  # 401
    response = api(alice).get(f"/api/v1/nodes/{root(alice).pk}/archive.zip")
    assert "no-store" in response["Cache-Control"]


def test_the_public_schema_may_be_cached(client: Any) -> None:
    assert "no-store" not in client.get("/api/schema/").get("Cache-Control", "")
