"""Indexing is eventually certain: a commit answers although the broker is down, the pending Run row is
the record, a repeated commit or the beat sweep sends it again once the broker is back; `/readyz` says
which part is down. The broker here is either Celery's in-process (eager) one or a port nothing listens
on — a real unreachable broker, no stand-in for our code."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.utils import timezone

from em import tasks
from em.celery import app
from em.models import IndexState, Node, Run
from tests.bundle_helpers import example_bundle, run_node
from tests.factories import root
from tests.integration.conftest import _forget_connections
from tests.test_blobs_and_uploads import announce, put, sha

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def broker(url: str | None) -> Iterator[None]:
    """This process's Celery app publishes to `url` (None: runs tasks in-process, as the suite does)."""
    wanted = {"task_always_eager": url is None, "broker_url": url or "memory://"}
    saved = {name: app.conf[name] for name in wanted}
    app.conf.update(wanted)
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


@pytest.fixture
def broker_down() -> Iterator[str]:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with broker(url):
        yield url


def start_upload(client: Any, parent: Node, files: dict[str, bytes]) -> str:
    started = announce(client, parent, "run", files)
    assert started.status_code == 201, started.content
    by_digest = {sha(b): b for b in files.values()}
    for digest in started.json()["missing"]:
        assert put(client, by_digest[digest]).status_code == 201
    return str(started.json()["id"])


# --- readiness -------------------------------------------------------------------------------------------


def test_liveness_and_readiness_answer_ok_when_everything_answers(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readiness_names_an_unreachable_broker_while_liveness_stays_ok(client: Any, broker_down: str) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}
    assert ready["Cache-Control"].startswith("max-age=0")
    assert client.get("/healthz").status_code == 200


def test_the_helm_chart_asks_readyz_for_readiness_and_healthz_for_liveness() -> None:
    chart = Path(settings.BASE_DIR) / "deploy" / "helm" / "em"
    web = yaml.safe_load((chart / "values.yaml").read_text())["web"]
    assert (web["readinessPath"], web["probePath"]) == ("/readyz", "/healthz")
    template = (chart / "templates" / "web-deployment.yaml").read_text()
    readiness, liveness = template.split("readinessProbe:")[1].split("livenessProbe:")
    assert ".Values.web.readinessPath" in readiness and ".Values.web.probePath" in liveness.split("resources:")[0]


# --- the commit and the outbox ----------------------------------------------------------------------------


def test_a_commit_with_the_broker_down_answers_and_leaves_a_pending_run_to_send_again(
    alice: Any, key_client: Callable[..., Any], broker_down: str, django_capture_on_commit_callbacks: Any
) -> None:
    client = key_client(alice)
    upload = start_upload(client, root(alice), example_bundle())
    with django_capture_on_commit_callbacks(execute=True) as published:
        committed = client.post(f"/api/v1/uploads/{upload}/commit")
    assert committed.status_code == 201, committed.content
    assert len(published) == 1  # the send was tried, failed, and was logged, not raised
    run = Run.objects.get(pk=committed.json()["node"]["id"])
    assert run.index_state == IndexState.PENDING
    assert run.index_requested_at is not None and run.index_requests == 0  # asked for, never sent

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/api/v1/uploads/{upload}/commit")  # still down: still an answer
    assert again.status_code == 200 and again.json()["node"]["id"] == str(run.pk)
    assert Node.objects.filter(parent=root(alice)).count() == 1  # no "run (2)"


def test_a_repeated_commit_sends_a_run_still_pending_once_the_broker_is_back(
    alice: Any, key_client: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = key_client(alice)
    upload = start_upload(client, root(alice), example_bundle())

    def commit() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/api/v1/uploads/{upload}/commit")

    with broker(f"redis://127.0.0.1:{closed_port()}/0"):
        node_id = commit().json()["node"]["id"]
    assert Run.objects.get(pk=node_id).index_state == IndexState.PENDING
    assert commit().status_code == 200  # the broker (in-process here) is back
    run = Run.objects.get(pk=node_id)
    assert run.index_state == IndexState.INDEXED, run.index_errors
    assert commit().status_code == 200  # indexed: nothing more to send
    assert Run.objects.get(pk=node_id).indexed_at == run.indexed_at


def pending_run(alice: Any, name: str, *, sent_ago: timedelta | None, requests: int = 0) -> Run:
    node = run_node(root(alice), name, example_bundle())
    at = None if sent_ago is None else timezone.now() - sent_ago
    return Run.objects.create(node=node, index_state=IndexState.PENDING, index_requested_at=at, index_requests=requests)


def test_the_sweep_sends_runs_pending_past_the_grace_period_and_only_those(alice: Any) -> None:
    grace = settings.EM_INDEX_RETRY_AFTER
    stale = pending_run(alice, "stale", sent_ago=grace + timedelta(seconds=1))
    never = pending_run(alice, "never", sent_ago=None)  # e.g. pending before the outbox existed
    fresh = pending_run(alice, "fresh", sent_ago=grace / 2)
    assert tasks.requeue_pending_runs.delay().get() == 2
    for run in (stale, never):
        run.refresh_from_db()
        assert (run.index_state, run.index_requests) == (IndexState.INDEXED, 1)
    fresh.refresh_from_db()
    assert fresh.index_state == IndexState.PENDING and fresh.index_requests == 0
    assert tasks.requeue_pending_runs.delay().get() == 0  # idempotent: nothing stale is left


def test_the_sweep_spends_no_attempt_while_the_broker_is_down(alice: Any, broker_down: str) -> None:
    stale = pending_run(alice, "stale", sent_ago=timedelta(hours=1))
    before = stale.index_requested_at
    assert tasks.requeue_pending_runs() == 0
    stale.refresh_from_db()
    assert (stale.index_state, stale.index_requests, stale.index_requested_at) == (IndexState.PENDING, 0, before)


def test_a_run_sent_again_and_again_without_an_end_fails_with_the_reason(alice: Any) -> None:
    spent = pending_run(alice, "spent", sent_ago=timedelta(hours=1), requests=settings.EM_INDEX_MAX_REQUESTS)
    assert tasks.requeue_pending_runs.delay().get() == 0
    spent.refresh_from_db()
    assert spent.index_state == IndexState.FAILED
    (error,) = spent.index_errors
    assert "never finished (is a worker serving the `index` queue?)" in error["message"]


# --- delivery settings ------------------------------------------------------------------------------------


def test_a_killed_index_is_delivered_again_within_a_minute_and_never_while_it_runs() -> None:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert tasks.index_run.acks_late and tasks.index_run.reject_on_worker_lost
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT  # never twice at once
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 60
    assert options["unacked_restore_throttle"] == 1 and settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    for beat in (tasks.purge_expired_trash, tasks.collect_garbage, tasks.compact_metrics, tasks.requeue_pending_runs):
        assert not beat.acks_late  # long work acks early: a lost one runs at its next beat
    assert settings.CELERY_BEAT_SCHEDULE["requeue-pending-runs"]["task"] == tasks.requeue_pending_runs.name
    assert (
        settings.EM_INDEX_RETRY_AFTER.total_seconds() > options["visibility_timeout"] + settings.CELERY_TASK_TIME_LIMIT
    )
