"""A real Celery worker for integration tests.

`em_worker` starts `celery -A em.celery worker` as a subprocess against the *test* database that
pytest-django created and the test Redis database, and points this process's Celery app at the same Redis,
so that `.delay()` really travels broker → worker → result backend. Tests using it must commit their rows
(`django_db(transaction=True)`): the worker has its own database connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from em.celery import app

WORKER_START_TIMEOUT = 30.0
WORKER_STOP_TIMEOUT = 20.0
QUEUES = "default,index"
ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Worker:
    hostname: str
    process: subprocess.Popen[bytes]
    log_path: Path
    redis_url: str

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> str:
        """The worker's output once it contains `text` (its log lines may trail the task's result)."""
        deadline = time.monotonic() + timeout
        while text not in (out := self.output()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return out


def database_url(settings_dict: dict[str, Any]) -> str:
    """A URL django-environ reads back into these connection settings."""
    assert settings_dict["ENGINE"] == "django.db.backends.postgresql", settings_dict["ENGINE"]
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _forget_connections() -> None:
    """Drop the app's cached broker pool and result backend, so they are rebuilt from the current conf.

    kombu keeps connection and producer pools in process-wide registries keyed by broker URL: closing
    one pool in place would leave a closed pool registered for the next user of that URL (the eager
    `memory://` broker of the rest of the suite), so the registries are emptied as a whole.
    """
    kombu_pools.reset()
    app._after_fork()  # forget the app's references to the old pools
    backend = app._backend
    if backend is not None and hasattr(backend, "client"):
        backend.client.close()
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture(scope="module")
def celery_through_redis() -> Iterator[str]:
    """This process's Celery app sends tasks through the test Redis (not eagerly), for the module."""
    redis_url = os.environ["EM_TEST_REDIS_URL"]
    wanted = {"task_always_eager": False, "broker_url": redis_url, "result_backend": redis_url}
    saved = {name: app.conf[name] for name in wanted}
    app.conf.update(wanted)
    _forget_connections()
    try:
        yield redis_url
    finally:
        _forget_connections()
        app.conf.update(saved)


@pytest.fixture(scope="module")
def em_worker(
    django_db_setup: None,
    celery_through_redis: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """A real `celery worker` subprocess on the test database and Redis; stopped after the module.

    Depending on `django_db_setup` makes sure the worker is gone before pytest-django drops the test
    database (PostgreSQL refuses to drop a database with open connections).
    """
    redis_url = celery_through_redis
    flush_redis(redis_url)
    worker = start_worker(redis_url, tmp_path_factory.mktemp("celery"))
    try:
        yield worker
    finally:
        _stop(worker)
        flush_redis(redis_url)


def start_worker(
    redis_url: str, log_dir: Path, *, name: str = "em-test", env: dict[str, str] | None = None, pool: str = "solo"
) -> Worker:
    """A `celery worker` subprocess on the test database and `redis_url`, answering pings; `env` adds to
    (or overrides) its environment. The caller stops it (`_stop`) or kills it."""
    db_url = database_url(connection.settings_dict)
    assert connection.settings_dict["NAME"].startswith("test_"), "the worker must use the test database"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    environment.update(
        DJANGO_SETTINGS_MODULE="em.settings.base",
        EM_DATABASE_URL=db_url,
        EM_REDIS_URL=redis_url,
        EM_TRASH_RETENTION_DAYS=str(settings.EM_TRASH_RETENTION.days),
        EM_FILES_DIR=str(settings.MEDIA_ROOT),  # the blobs the test process stored
        EM_UPLOAD_SCRATCH_DIR=str(settings.EM_UPLOAD_SCRATCH_DIR),
        EM_DEBUG="false",
        PYTHONUNBUFFERED="1",
        **(env or {}),
    )
    log_path = log_dir / f"{name}.log"
    hostname = f"{name}-{os.getpid()}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "em.celery", "worker",
        f"--pool={pool}", "--concurrency=1", "-Q", QUEUES,
        "--without-heartbeat", "--without-gossip", "--without-mingle",
        "--loglevel=INFO", f"--hostname={hostname}",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    worker = Worker(hostname, process, log_path, redis_url)
    try:
        _wait_until_ready(worker)
    except BaseException:
        _stop(worker)
        raise
    return worker


def _wait_until_ready(worker: Worker) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(
                f"The celery worker exited with status {worker.process.returncode} before answering a ping."
                f"\n--- worker output ---\n{worker.output()}",
                pytrace=False,
            )
        replies = app.control.ping(timeout=0.5)
        if any(worker.hostname in reply for reply in replies):
            return
    pytest.fail(
        f"The celery worker did not answer a ping within {WORKER_START_TIMEOUT:.0f} s."
        f"\n--- worker output ---\n{worker.output()}",
        pytrace=False,
    )


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()  # warm shutdown
        try:
            worker.process.wait(timeout=WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=WORKER_STOP_TIMEOUT)
