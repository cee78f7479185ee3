"""Shared fixtures and the rules for tests that need real services.

`postgres` tests run only when the suite runs on PostgreSQL (EM_TEST_DATABASE_URL); `redis` and
`celery` tests need EM_TEST_REDIS_URL. Outside CI a missing service skips them with a note on how to get
it; in CI (CI=true) a missing service fails them, so nothing is silently left out there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts import services as account_services
from em.client import Client, config
from em.client.cli import main
from tests.factories import GroupFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"
HOW_TO_GET = {
    "postgres": "run the suite through `make test`, which starts PostgreSQL "
    "(or set EM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/em)",
    "redis": "start Redis (`redis-server --daemonize yes`) and set EM_TEST_REDIS_URL=redis://127.0.0.1:6379/15",
}


def _missing(marker: str) -> bool:
    if marker == "postgres":
        return connection.vendor != "postgresql"
    return not os.environ.get("EM_TEST_REDIS_URL")


def pytest_runtest_setup(item: pytest.Item) -> None:
    needs = {m.name for m in item.iter_markers()} & {"postgres", "redis", "celery"}
    if "celery" in needs:
        needs |= {"postgres", "redis"}
    for marker in sorted(needs - {"celery"}):  # celery means postgres + redis, added above
        if _missing(marker):
            message = f"needs {marker}: {HOW_TO_GET[marker]}"
            if IN_CI:
                pytest.fail(f"CI must run this test, but it {message}", pytrace=False)
            pytest.skip(message)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Each test starts with no throttling counters (accounts.throttle, django-axes) from the ones before."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(username: str, **fields: Any) -> Any:
        return UserFactory(username=username, **fields)

    return make


@pytest.fixture
def make_group(db: None) -> Callable[..., Any]:
    def make(name: str, *members: Any) -> Any:
        group = GroupFactory(name=name)
        group.user_set.add(*members)
        return group

    return make


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., Any]) -> Any:
    return make_user("bob")


@pytest.fixture
def api() -> Callable[..., APIClient]:
    """An API client signed in as `user` through a real session (or anonymous without one)."""

    def client(user: Any = None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_login(user)
        return c

    return client


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """An API client sending a real bearer key of the given scope for `user`."""

    def client(user: Any, scope: str = "write") -> APIClient:
        _, raw = account_services.create_key(user=user, name=f"test-{scope}", scope=scope)
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return c

    return client


@pytest.fixture
def private_storage(settings: Any, tmp_path: Path) -> Path:
    """Storage and upload scratch directories of the test's own, so what it finds on disk is what it made."""
    storage = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}},
    }
    settings.EM_UPLOAD_SCRATCH_DIR = tmp_path / "scratch"
    return storage


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory (bundles land in its .em/), a private config dir and no server configured."""
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "em-config"))
    monkeypatch.delenv(config.HOST_ENV, raising=False)
    monkeypatch.delenv(config.API_KEY_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables are not cut to a narrow terminal
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def em_cli() -> Callable[..., Result]:
    """The `em` command line, run in process: `em_cli("ls", "/alice")`."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def signed_in(live_server: Any, alice: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    """Alice's key and the live server in the environment (as `em login` would leave them); a client as her."""
    key = account_services.create_key(user=alice, name="cli")[1]
    monkeypatch.setenv(config.HOST_ENV, live_server.url)
    monkeypatch.setenv(config.API_KEY_ENV, key)
    return Client(live_server.url, key)
