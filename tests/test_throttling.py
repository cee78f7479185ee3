"""Wrong passwords and invalid API keys meet a 429 with Retry-After, per client IP and per user / key.

Before: 100 wrong passwords and 300 invalid API keys never met a 429.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as account_services

pytestmark = pytest.mark.django_db

LOCKOUT_SECONDS = 15 * 60


def sign_in(password: str, username: str = "alice", ip: str = "10.0.0.1", **extra: str) -> Any:
    return Client(REMOTE_ADDR=ip, **extra).post("/accounts/login/", {"username": username, "password": password})


def bearer(key: str, ip: str = "10.0.0.1") -> Any:
    return APIClient(REMOTE_ADDR=ip).get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.EM_LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.EM_API_KEY_FAILURE_LIMIT = 5
    return settings


def test_wrong_passwords_lock_the_address_out_with_retry_after(alice: Any, limits: Any) -> None:
    answers = [sign_in("wrong").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the form again, then the lockout

    locked = sign_in("secret-pass-123")  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(LOCKOUT_SECONDS)
    assert b"Too many failed sign-ins" in locked.content


def test_wrong_passwords_for_one_user_from_many_addresses_lock_that_user(alice: Any, bob: Any, limits: Any) -> None:
    answers = [sign_in("wrong", ip=f"10.0.1.{i}").status_code for i in range(5)]
    assert answers[-1] == 429
    assert sign_in("secret-pass-123", ip="10.0.2.1").status_code == 429
    # Another user from a fresh address is untouched.
    assert sign_in("secret-pass-123", username="bob", ip="10.0.2.2").status_code == 302


def test_a_default_of_a_hundred_wrong_passwords_meets_a_429(alice: Any) -> None:
    answers = [sign_in("wrong").status_code for _ in range(100)]
    assert 429 in answers
    assert answers.index(429) < 20


def test_a_successful_sign_in_starts_the_count_afresh(alice: Any, limits: Any) -> None:
    for _ in range(4):
        assert sign_in("wrong").status_code == 200
    assert sign_in("secret-pass-123").status_code == 302
    for _ in range(4):
        assert sign_in("wrong").status_code == 200


def test_the_admin_sign_in_is_throttled_too(alice: Any, limits: Any) -> None:
    client = Client(REMOTE_ADDR="10.0.3.1")
    answers = [client.post("/admin/login/", {"username": "alice", "password": "wrong"}).status_code for _ in range(5)]
    assert answers[-1] == 429


def test_invalid_api_keys_from_one_address_meet_429_with_retry_after(alice: Any, limits: Any) -> None:
    answers = [bearer(f"em_{i:04d}guessxxxxxxxx").status_code for i in range(6)]
    assert answers == [401] * 5 + [429]

    refused = bearer(account_services.create_key(user=alice, name="real")[1])  # a valid key waits too
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(LOCKOUT_SECONDS)
    error = refused.json()["error"]
    assert error["code"] == "throttled"
    assert "EM_API_KEY_FAILURE_LIMIT" in error["message"]
    assert error["detail"] == {"retry_after": LOCKOUT_SECONDS}

    assert bearer("em_9999guessxxxxxxxx", ip="10.9.9.9").status_code == 401  # another address is free


def test_one_key_prefix_retried_from_many_addresses_is_throttled(alice: Any, limits: Any) -> None:
    answers = [bearer("em_revokedAAxxxxxxxx", ip=f"10.0.4.{i}").status_code for i in range(6)]
    assert answers[-1] == 429
    assert bearer("em_otherBBBxxxxxxxx", ip="10.0.5.1").status_code == 401


def test_a_default_of_three_hundred_invalid_keys_meets_a_429(alice: Any) -> None:
    answers = [bearer(f"em_{i:08d}-not-a-key").status_code for i in range(300)]
    assert 429 in answers
    assert set(answers[: answers.index(429)]) == {401}


def test_valid_keys_are_never_counted(alice: Any, limits: Any, key_client: Callable[..., APIClient]) -> None:
    client = key_client(alice)
    assert all(client.get("/api/v1/me").status_code == 200 for _ in range(20))


def test_the_client_address_comes_from_the_trusted_proxy_hop(alice: Any, limits: Any, settings: Any) -> None:
    settings.EM_TRUSTED_PROXY_COUNT = 1

    def via_proxy(forwarded: str, key: str) -> int:
        client = APIClient(REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code

    # A client cannot escape by forging the left part of X-Forwarded-For: nginx appends the real address.
    answers = [via_proxy(f"1.2.3.{i}, 203.0.113.7", f"em_{i:08d}") for i in range(6)]
    assert answers[-1] == 429
    assert via_proxy("203.0.113.8", "em_99999999") == 401  # another client behind the same proxy is not


@pytest.mark.redis
def test_with_redis_the_api_key_limit_holds_across_processes(alice: Any, settings: Any) -> None:
    """The counters live in Redis, so a second process (another gunicorn worker) sees the first's."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["EM_TEST_REDIS_URL"],
            "KEY_PREFIX": "em",
        }
    }
    settings.EM_API_KEY_FAILURE_LIMIT = 5
    cache.clear()
    assert [bearer(f"em_{i:04d}redisxxxxx", ip="10.7.7.7").status_code for i in range(3)] == [401] * 3
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='em.settings.base'; django.setup()\n"
        "from django.conf import settings; from django.test import RequestFactory\n"
        "from accounts import throttle\n"
        "request = RequestFactory().get('/', REMOTE_ADDR='10.7.7.7')\n"
        "for i in range(2): throttle.record_key_failure(request, f'em_other{i}')\n"
        "print(throttle.key_attempts_blocked(request, 'em_x'))\n"
    )
    env = {**os.environ, "EM_REDIS_URL": os.environ["EM_TEST_REDIS_URL"], "EM_API_KEY_FAILURE_LIMIT": "5"}
    other = subprocess.run(  # noqa: S603 (our own code, fixed arguments)
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert other.stdout.strip() not in ("", "None"), other.stderr  # the other process saw 3 + 2 = the limit
    assert bearer("em_9999redisxxxxx", ip="10.7.7.7").status_code == 429
    cache.clear()
