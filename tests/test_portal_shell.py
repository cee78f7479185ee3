"""The portal's shell: which addresses serve the app, who is sent to sign in, and the page shown when
the app has not been built. (What the app does in a browser is tests/browser/.)"""

from __future__ import annotations

import pytest

from frontend.views import built_entry
from tests.conftest import IN_CI

pytestmark = pytest.mark.django_db


@pytest.fixture
def built() -> None:
    if built_entry() is None:
        message = "the portal is not built: `cd frontend && npm run build` (make test does it)"
        if IN_CI:  # make test builds it first: a missing build there is a failure, never a silent skip
            pytest.fail(f"CI must run these tests, but {message}", pytrace=False)
        pytest.skip(message)


@pytest.mark.usefixtures("built")
@pytest.mark.parametrize(
    "address",
    [
        "/",
        "/browse/alice",
        "/browse/alice/a%20b/c",
        "/shared",
        "/public",
        "/trash",
        "/keys",
        "/groups",
        "/runs",
        "/runs/0b6f3c1e-2f47-4b8e-9d7e-6a2b1c0d9e8f",
        "/compare",
    ],
)
def test_every_portal_address_serves_the_built_app(client, alice, address):
    client.force_login(alice)
    response = client.get(address)
    assert response.status_code == 200
    entry = built_entry()
    assert entry is not None
    assert f"/static/{entry.js}".encode() in response.content
    assert all(f"/static/{css}".encode() in response.content for css in entry.css)
    assert "csrftoken" in response.cookies  # the app writes through the API with it


@pytest.mark.parametrize("address", ["/", "/browse/alice/x", "/runs/abc"])
def test_visitors_are_sent_to_sign_in_and_brought_back(client, address):
    response = client.get(address)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={address.replace('/', '%2F')}"


def test_other_addresses_keep_their_own_views(client, alice):
    client.force_login(alice)
    assert client.get("/healthz").json() == {"status": "ok"}
    api_missing = client.get("/api/v1/no-such-thing")
    assert api_missing.status_code == 404 and api_missing.json()["error"]["code"] == "not_found"
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_signin_goes_to_the_form_or_straight_on(client, alice):
    assert client.get("/signin?next=/trash")["Location"] == "/accounts/login/?next=%2Ftrash"
    client.force_login(alice)
    assert client.get("/signin?next=/trash")["Location"] == "/trash"
    assert client.get("/signin?next=https://evil.example/")["Location"] == "/"


def test_without_a_build_the_page_says_how_to_build_it(client, alice, settings, tmp_path):
    # A server whose static files hold no build: no app directory to find it in, an empty STATIC_ROOT.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATICFILES_DIRS = []
    settings.STATIC_ROOT = tmp_path
    client.force_login(alice)
    response = client.get("/browse/alice")
    assert response.status_code == 503
    assert b"make run" in response.content and b"npm run build" in response.content
