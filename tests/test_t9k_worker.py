"""The T9k SDK's upload through real parts: a live server on PostgreSQL, Redis carrying the indexing
requests, a real `celery worker` process indexing — first the whole run, then again after `auto_upload`
sends a grown metrics file — checked through EM's own API."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from accounts import services as account_services
from em.models import IndexState, Run
from tests.integration.conftest import celery_through_redis, em_worker  # noqa: F401 - fixtures
from tests.t9k_replay import T9kReplay
from tests.test_t9k import ALT_1, ARTIFACT_ALT, artifact_bundle, run_bundle

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def wait_for(node_id: str, points: int, timeout: float = 60) -> Run:
    """The run once the worker has indexed it with `points` train.loss points."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.filter(node_id=node_id).first()
        if run is not None and run.index_state == IndexState.FAILED:
            pytest.fail(f"indexing failed: {run.index_errors}")
        if (
            run is not None
            and run.index_state == IndexState.INDEXED
            and run.metrics.filter(key="train.loss", count=points).exists()
        ):
            return run
        time.sleep(0.2)
    pytest.fail(f"the worker did not index the run with {points} points within {timeout:.0f} s")


def test_the_worker_indexes_an_sdk_upload_and_its_auto_upload(
    em_worker: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
    alice: Any,
) -> None:
    _, raw = account_services.create_key(user=alice, name="t9k")
    client = T9kReplay(live_server.url, account_services.uuid_form(raw))
    artifact = client.upload(artifact_bundle(), kind="Artifact", name="mnist_data", alternative=ARTIFACT_ALT,
                             folder="/alice/t9k-em/mnist")  # fmt: skip
    node = client.upload(
        run_bundle(ALT_1, 2), kind="Run", name="mnist_torch", alternative=ALT_1, folder="/alice/t9k-em/mnist"
    )
    client.link([(artifact["id"], node["id"])])
    wait_for(node["id"], 2)

    for path, data in run_bundle(ALT_1, 6).items():  # auto_upload: the folder again, one file grown
        client.put_object(f"{node['path']}/{path}", data)
    run = wait_for(node["id"], 6)
    assert run.alternative_name == ALT_1

    em = requests.Session()
    em.headers["Authorization"] = f"Bearer {raw}"
    detail = em.get(f"{live_server.url}/api/v1/runs/{node['id']}", timeout=30).json()
    assert detail["index_state"] == "indexed" and detail["run"]["alternative_name"] == ALT_1
    assert detail["metrics"]["train.loss"]["count"] == 6
    assert [i["id"] for i in detail["lineage"]["input"]] == [artifact["id"]]
    found = em.get(f"{live_server.url}/api/v1/runs", params={"filter": "metrics.train.loss < 1"}, timeout=30).json()
    assert node["id"] in [r["id"] for r in found["results"]]
    assert "em.tasks.index_run" in em_worker.wait_for_output("succeeded")
