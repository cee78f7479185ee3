"""Faults around indexing, with real parts only: PostgreSQL, Redis and `celery worker` subprocesses.

1. A worker SIGKILLed in the middle of indexing: Redis gives the unacknowledged task to the next worker
   once the visibility timeout has passed, and the run is indexed exactly once, within a minute.
2. The broker unreachable at commit: the commit answers, the run waits `pending`; once the broker is
   back, the beat sweep sends it again and a worker indexes it.

To kill a worker *mid*-index deterministically, the worker runs with EM_TEST_INDEX_GATE: indexing
creates `<gate>.started` and waits while `<gate>` exists (em/runs/indexing.py). EM_TASK_TIME_LIMIT=5
brings the visibility timeout down to 15 s (em/settings/base.py derives it) to keep the test short.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from em import tasks
from em.models import IndexState, Node, Run
from tests.bundle_helpers import example_bundle, run_node
from tests.factories import root
from tests.integration.conftest import Worker, _stop, flush_redis, start_worker
from tests.test_blobs_and_uploads import announce, put, sha
from tests.test_index_outbox import broker, closed_port

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

TIME_LIMIT = 5  # visibility timeout = 15 s


def wait_for(predicate: Any, timeout: float, what: str) -> float:
    """Seconds until `predicate()` held; fails the test after `timeout`."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - start


def pending_run(owner: Any, name: str) -> Node:
    node = run_node(root(owner), name, example_bundle())
    Run.objects.create(node=node, index_state=IndexState.PENDING)
    return node


def test_a_worker_killed_mid_index_is_replaced_and_the_run_indexed_exactly_once(
    celery_through_redis: str, django_db_setup: None, alice: Any, tmp_path: Path
) -> None:
    flush_redis(celery_through_redis)
    gate = tmp_path / "gate"
    started = Path(f"{gate}.started")
    gate.touch()
    env = {"EM_TEST_INDEX_GATE": str(gate), "EM_TASK_TIME_LIMIT": str(TIME_LIMIT)}
    first = start_worker(celery_through_redis, tmp_path, name="doomed", env=env)
    second: Worker | None = None
    try:
        node = pending_run(alice, "killed")
        assert tasks.publish_index([str(node.pk)]) == [str(node.pk)]
        wait_for(started.exists, 30, "the first worker starting the index")
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
        assert Run.objects.get(node=node).index_state == IndexState.PENDING
        started.unlink()
        gate.unlink()  # the next attempt goes through

        second = start_worker(celery_through_redis, tmp_path, name="heir", env=env)
        wait_for(lambda: Run.objects.get(node=node).index_state != IndexState.PENDING, 60, "the run indexed")
        took = time.monotonic() - killed_at
        run = Run.objects.get(node=node)
        assert run.index_state == IndexState.INDEXED, run.index_errors
        assert took < 60, f"indexed {took:.1f} s after the kill"
        output = second.wait_for_output("succeeded")
        assert output.count("em.tasks.index_run[") == 2, output  # received once, succeeded once
        assert output.count("succeeded") == 1, output
        # Nothing is left to deliver a third time: the queue is empty and nothing waits unacknowledged.
        client = redis.Redis.from_url(celery_through_redis)
        try:
            wait_for(lambda: client.hlen("unacked") == 0, 10, "the acknowledgement")
            assert client.llen("index") == 0
        finally:
            client.close()
        print(f"\nSIGKILL mid-index -> indexed by the next worker {took:.1f} s later")
    finally:
        for worker in (first, second):
            if worker is not None:
                _stop(worker)
        flush_redis(celery_through_redis)


def test_an_index_past_its_soft_time_limit_ends_failed_with_the_reason(
    celery_through_redis: str, django_db_setup: None, alice: Any, tmp_path: Path
) -> None:
    flush_redis(celery_through_redis)
    gate = tmp_path / "gate"
    gate.touch()  # held until the limit strikes (prefork enforces time limits; solo does not)
    worker = start_worker(
        celery_through_redis, tmp_path, name="slow", env={"EM_TEST_INDEX_GATE": str(gate)}, pool="prefork"
    )
    try:
        node = pending_run(alice, "slow")
        # The limits travel in the message, from the sender's settings: as a web process with EM_TASK_TIME_LIMIT=4.
        tasks.index_run.apply_async((str(node.pk),), time_limit=4, soft_time_limit=2)
        wait_for(lambda: Run.objects.get(node=node).index_state != IndexState.PENDING, 30, "the run settled")
        run = Run.objects.get(node=node)
        assert run.index_state == IndexState.FAILED
        assert run.index_errors == [
            {
                "file": "",
                "message": "indexing took longer than its time limit and was stopped (EM_TASK_TIME_LIMIT sets it)",
            }
        ]
    finally:
        _stop(worker)
        flush_redis(celery_through_redis)


def test_a_commit_with_the_broker_unreachable_is_indexed_by_the_sweep_once_it_is_back(
    em_worker: Worker, key_client: Any, alice: Any, settings: Any
) -> None:
    client = key_client(alice)
    files = example_bundle()
    started = announce(client, root(alice), "outage", files)
    assert started.status_code == 201, started.content
    for digest in started.json()["missing"]:
        assert put(client, {sha(b): b for b in files.values()}[digest]).status_code == 201

    with broker(f"redis://127.0.0.1:{closed_port()}/0"):
        began = time.monotonic()
        committed = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
        took = time.monotonic() - began
        assert committed.status_code == 201, committed.content
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["broker"] == "unavailable"
    node_id = committed.json()["node"]["id"]
    run = Run.objects.get(pk=node_id)
    assert run.index_state == IndexState.PENDING and run.index_requests == 0
    print(f"\ncommit with the broker unreachable answered in {took:.2f} s")

    # The broker is back (this module's app publishes to the test Redis again): the next sweep sends it.
    assert client.get("/readyz").status_code == 200
    settings.EM_INDEX_RETRY_AFTER = timedelta(0)
    assert tasks.requeue_pending_runs() == 1
    wait_for(lambda: Run.objects.get(pk=node_id).index_state != IndexState.PENDING, 60, "the run indexed")
    run = Run.objects.get(pk=node_id)
    assert run.index_state == IndexState.INDEXED and run.index_requests == 1, run.index_errors
    assert tasks.requeue_pending_runs() == 0
