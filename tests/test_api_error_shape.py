"""Every answer under /api is the JSON error shape, whatever the method, the trailing slash, and
whether the server runs with EM_DEBUG (the embedded default, where Django's own 404 page would answer)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UNKNOWN = ["/api/v1/nope", "/api/v1/nope/", "/api/v1/runs/", "/api/v1/me/", "/api", "/api/", "/api/v2/runs", "/api/v1"]
METHODS = ["get", "post", "put", "patch", "delete", "options"]


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_api_path_answers_the_json_error_shape(path, method, debug, api, alice):
    for client in (api(), api(alice)):
        response = getattr(client, method)(path)

        assert response.status_code == 404, response.content[:200]
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert error["message"].startswith("No such API endpoint")


def test_a_known_endpoint_with_a_trailing_slash_says_where_it_is(api, alice):
    response = api(alice).get("/api/v1/runs/")
    assert response.status_code == 404
    assert response.json()["error"]["detail"] == {"path": "/api/v1/runs/", "did_you_mean": "/api/v1/runs"}


def test_head_on_an_unknown_api_path_is_a_404_too(debug, api, alice):
    response = api(alice).head("/api/v1/nope")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/api/v1/runs/compare"), ("put", "/api/v1/me"), ("patch", "/api/v1/trash"), ("post", "/api/v1/public")],
)
def test_a_method_an_endpoint_does_not_take_answers_405_in_the_json_shape(method, path, debug, api, alice):
    response = getattr(api(alice), method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert method.upper() in error["message"]


def test_pages_outside_the_api_keep_their_own_404(debug, api, alice):
    response = api(alice).get("/no-such-page")
    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]


def test_a_session_post_without_a_csrf_token_to_an_unknown_path_still_gets_the_json_shape(debug, alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/v1/nope", {"a": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
