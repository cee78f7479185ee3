"""An Optuna study recorded live into EM, its bundle uploaded and indexed by a real `celery worker` through
Redis, on PostgreSQL, and read back through the API: the best trial and the pruned ones are Optuna's own.
A hostile bundle sent the same way ends failed with the file named, and no trial indexed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from em.client.integrations.optuna import EMCallback
from em.models import IndexState
from em.models.autotune import AutoTune, Trial
from tests.autotune_helpers import example_search
from tests.factories import root
from tests.test_autotune_sdk import study
from tests.test_blobs_and_uploads import upload

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def wait_until_done(node_id: str, timeout: float = 60) -> AutoTune:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = AutoTune.objects.filter(node_id=node_id).first()
        if row is not None and row.index_state != IndexState.PENDING:
            return row
        time.sleep(0.2)
    pytest.fail(f"the worker did not index AutoTune {node_id} within {timeout} s")


def check_against_study(client: APIClient, node_id: str, s: optuna.Study) -> None:
    body = client.get(f"/api/v1/autotune/{node_id}").json()
    assert body["best"]["id"] == s.best_trial.number
    assert body["best"]["value"] == s.best_value and body["best"]["params"] == s.best_trial.params
    states = {t.number: t.state for t in s.trials}
    pruned = sorted(n for n, state in states.items() if state == optuna.trial.TrialState.PRUNED)
    assert pruned, "the pruner stopped no trial: the test would prove nothing about pruning"
    assert body["progress"]["by_status"]["Pruned"] == len(pruned)
    assert body["progress"]["by_status"]["Succeeded"] == len(s.trials) - len(pruned)
    listed = client.get(f"/api/v1/autotune/{node_id}/trials", {"filter": "attributes.status = 'Pruned'"}).json()
    assert [t["id"] for t in listed["results"]] == pruned
    some = pruned[0]
    detail = client.get(f"/api/v1/autotune/{node_id}/trials/{some}").json()
    assert detail["steps"] == sorted(s.trials[some].intermediate_values)


def test_an_optuna_study_recorded_live_uploaded_and_indexed_by_a_worker(
    em_worker: Any, live_server: Any, make_user: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    alice = make_user("alice")
    key = account_services.create_key(user=alice, name="e2e")[1]
    monkeypatch.setenv("EM_HOST", live_server.url)
    monkeypatch.setenv("EM_API_KEY", key)
    monkeypatch.setenv("EM_CONFIG_DIR", str(tmp_path / "config"))
    recorder = EMCallback(
        "bowl", objective_metric="score", live=True, folder="searches", make_folder=True, base_dir=tmp_path
    )
    s = study(30, recorder)
    assert recorder.autotune is not None and recorder.autotune.remote_id is not None
    api = APIClient()
    api.force_login(alice)

    live_id = recorder.autotune.remote_id
    check_against_study(api, live_id, s)  # live: read back while nothing was uploaded yet
    assert Trial.objects.filter(autotune_id=live_id).count() == 30

    node = recorder.autotune.upload(folder="searches")
    assert node["kind"] == "AutoTune" and node["id"] != live_id
    indexed = wait_until_done(node["id"])
    assert indexed.index_state == IndexState.INDEXED, indexed.index_errors
    assert "index_autotune" in em_worker.output() and "succeeded" in em_worker.wait_for_output("succeeded")
    check_against_study(api, node["id"], s)
    assert Trial.objects.filter(autotune_id=node["id"]).count() == 30


def test_a_hostile_bundle_through_the_worker_fails_whole(em_worker: Any, make_user: Any):
    alice = make_user("alice")
    client = APIClient()
    client.force_login(alice)
    bad = example_search(**{"trials/3/metadata.json": b'{"id": 3, "status":'})
    node = upload(client, root(alice), "bad", bad, kind="AutoTune")
    row = wait_until_done(node["id"])
    assert row.index_state == IndexState.FAILED
    assert [p["file"] for p in row.index_errors] == ["trials/3/metadata.json"]
    assert "not valid JSON" in row.index_errors[0]["message"]
    assert not Trial.objects.filter(autotune=row).exists()
    shown = client.get(f"/api/v1/autotune/{node['id']}").json()
    assert shown["index_state"] == "failed" and shown["index_errors"] == json.loads(json.dumps(row.index_errors))
