"""The real `mlflow` client against a live EM server (docs/mlflow.md): what a team's training code does
with MLFLOW_TRACKING_URI pointing at EM and an EM API key as MLFLOW_TRACKING_TOKEN, then the same runs
read through EM's own API and search language.

The client runs in this process (its state is reset around each test) except for autolog, which
patches scikit-learn and runs in a subprocess of its own, as a training script would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import mlflow  # a dev dependency: never skipped, the real client is what these tests are about
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException, RestException
from mlflow.tracking import MlflowClient

from accounts import services as account_services
from em.access import Level
from em.models import Kind, LineageEdge, MetricSeries, Node
from em.services import sharing

live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tracking(live_server: Any, alice: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MlflowClient:
    """Alice's MLflow client against the live server, as the environment of her training script sets it."""
    key = account_services.create_key(user=alice, name="mlflow")[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", live_server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", key)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # it would phone home: these tests talk to loopback only
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(live_server.url)
    yield MlflowClient(live_server.url)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)


def client_as(live_server: Any, user: Any, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", account_services.create_key(user=user, name="mlflow")[1])
    return MlflowClient(live_server.url)


@live
def test_fluent_logging_lands_in_em_runs(tracking, alice, tmp_path):
    experiment_id = mlflow.set_experiment("mnist/sweep").experiment_id
    assert Node.objects.get(pk=experiment_id).kind == Kind.FOLDER
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello from mlflow")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"optimizer": "adam", "batch_size": 64})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"val.accuracy": 0.9}, step=4)
        mlflow.set_tag("team", "vision")
        mlflow.log_artifact(str(artifact))
        mlflow.log_artifact(str(artifact), artifact_path="sub/dir")
    run_id = run.info.run_id

    fetched = tracking.get_run(run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "baseline"
    assert fetched.info.experiment_id == experiment_id
    assert fetched.data.params == {"lr": "0.01", "optimizer": "adam", "batch_size": "64"}
    assert fetched.data.metrics == {"loss": pytest.approx(0.2), "val.accuracy": pytest.approx(0.9)}
    assert fetched.data.tags["team"] == "vision"
    history = tracking.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert history[0].value == pytest.approx(1.0)
    assert history[0].timestamp > 1_700_000_000_000  # milliseconds, as MLflow has them
    assert sorted(f.path for f in tracking.list_artifacts(run_id)) == ["notes.txt", "sub"]
    assert [f.path for f in tracking.list_artifacts(run_id, "sub/dir")] == ["sub/dir/notes.txt"]
    downloaded = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes.txt", dst_path="dl"))
    assert downloaded.read_text() == "hello from mlflow"

    node = Node.objects.get(pk=run_id)
    assert node.kind == Kind.RUN
    assert node.parent.name == "sweep" and node.parent.parent.name == "mnist"
    assert node.run.status == "Complete"
    assert MetricSeries.objects.get(run=node.run, key="loss").count == 5


@live
def test_params_are_written_once_and_errors_carry_mlflow_codes(tracking, alice):
    experiment_id = tracking.create_experiment("codes")
    with pytest.raises(RestException) as clash:
        tracking.create_experiment("codes")
    assert clash.value.error_code == "RESOURCE_ALREADY_EXISTS"
    run = tracking.create_run(experiment_id, run_name="r")
    tracking.log_param(run.info.run_id, "lr", "0.1")
    tracking.log_param(run.info.run_id, "lr", "0.1")  # the same value again is fine
    with pytest.raises(MlflowException) as changed:
        tracking.log_param(run.info.run_id, "lr", "0.2")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        tracking.get_run("00000000-0000-0000-0000-000000000000")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert tracking.get_experiment_by_name("no/such/experiment") is None


@live
def test_nested_runs_live_inside_their_parent_and_go_to_the_trash_with_it(tracking, alice):
    mlflow.set_experiment("nested")
    with mlflow.start_run(run_name="parent") as parent, mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("loss", 0.5)
    child_node = Node.objects.get(pk=child.info.run_id)
    assert str(child_node.parent_id) == parent.info.run_id
    fetched = tracking.get_run(child.info.run_id)
    assert fetched.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert fetched.info.experiment_id == tracking.get_run(parent.info.run_id).info.experiment_id
    found = tracking.search_runs([fetched.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert [r.info.run_id for r in found] == [child.info.run_id]

    tracking.delete_run(parent.info.run_id)
    assert tracking.get_run(parent.info.run_id).info.lifecycle_stage == "deleted"
    assert tracking.search_runs([fetched.info.experiment_id]) == []
    tracking.restore_run(parent.info.run_id)
    assert {r.info.run_id for r in tracking.search_runs([fetched.info.experiment_id])} == {
        parent.info.run_id,
        child.info.run_id,
    }


@live
def test_experiments_are_tagged_renamed_deleted_and_restored(tracking, alice):
    experiment_id = tracking.create_experiment("lab/first", tags={"owner": "vision"})
    tracking.set_experiment_tag(experiment_id, "stage", "draft")
    assert tracking.get_experiment(experiment_id).tags == {"owner": "vision", "stage": "draft"}
    tracking.rename_experiment(experiment_id, "second")
    assert tracking.get_experiment(experiment_id).name == "lab/second"
    assert tracking.get_experiment_by_name("lab/second").experiment_id == experiment_id
    run_id = tracking.create_run(experiment_id).info.run_id
    tracking.delete_experiment(experiment_id)
    assert tracking.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert tracking.get_experiment_by_name("lab/second") is None
    with pytest.raises(MlflowException):
        tracking.get_run(run_id)  # in the trash with its experiment
    tracking.restore_experiment(experiment_id)
    assert tracking.get_experiment(experiment_id).lifecycle_stage == "active"
    assert tracking.get_run(run_id).info.lifecycle_stage == "active"


@live
def test_search_filters_and_orders_and_pages(tracking, alice):
    experiment_id = tracking.create_experiment("grid")
    for i, (optimizer, accuracy) in enumerate([("adam", 0.7), ("sgd", 0.9), ("adam", 0.95), ("adam", 0.5)]):
        run = tracking.create_run(experiment_id, run_name=f"r{i}")
        tracking.log_batch(
            run.info.run_id,
            metrics=[Metric("val.accuracy", accuracy, 1_772_330_400_000, 10)],
            params=[Param("optimizer", optimizer), Param("batch_size", str(32 * (i + 1)))],
            tags=[RunTag("i", str(i))],
        )
        tracking.set_terminated(run.info.run_id, "FINISHED" if i != 3 else "FAILED")
    found = tracking.search_runs(
        [experiment_id],
        "params.optimizer = 'adam' AND metrics.`val.accuracy` > 0.6 AND attributes.status = 'FINISHED'",
        order_by=["metrics.`val.accuracy` DESC"],
    )
    assert [r.data.metrics["val.accuracy"] for r in found] == [0.95, 0.7]
    # EM's extensions are accepted: OR and parentheses.
    either = tracking.search_runs([experiment_id], "params.optimizer = 'sgd' OR (tags.i = '3')")
    assert sorted(r.info.run_name for r in either) == ["r1", "r3"]
    first = tracking.search_runs([experiment_id], order_by=["attributes.run_name ASC"], max_results=3)
    assert [r.info.run_name for r in first] == ["r0", "r1", "r2"] and first.token
    rest = tracking.search_runs([experiment_id], order_by=["attributes.run_name ASC"], page_token=first.token)
    assert [r.info.run_name for r in rest] == ["r3"]
    with pytest.raises(MlflowException) as bad:
        tracking.search_runs([experiment_id], "metrics.loss <<")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


@live
def test_strangers_get_nothing_and_shared_experiments_are_visible(tracking, live_server, alice, bob, monkeypatch):
    experiment_id = tracking.create_experiment("private")
    run_id = tracking.create_run(experiment_id, run_name="secret").info.run_id
    shared_id = tracking.create_experiment("shared")
    shared_run = tracking.create_run(shared_id, run_name="open").info.run_id
    sharing.share(node=Node.objects.get(pk=shared_id), to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)

    as_bob = client_as(live_server, bob, monkeypatch)
    for call in (lambda: as_bob.get_run(run_id), lambda: as_bob.get_experiment(experiment_id)):
        with pytest.raises(MlflowException) as hidden:
            call()
        assert hidden.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as refused:
        as_bob.log_metric(run_id, "loss", 1.0)
    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"  # not PERMISSION_DENIED: it is not there for him
    assert as_bob.search_runs([experiment_id]) == []
    assert [r.info.run_id for r in as_bob.search_runs([shared_id])] == [shared_run]
    names = {e.name for e in as_bob.search_experiments()}
    assert "/alice/shared" in names and "/alice/private" not in names
    assert as_bob.get_experiment_by_name("/alice/shared").experiment_id == shared_id
    with pytest.raises(MlflowException) as viewer:
        as_bob.log_metric(shared_run, "loss", 1.0)
    assert viewer.value.error_code == "PERMISSION_DENIED"


@live
def test_runs_logged_through_mlflow_are_em_runs_to_its_api_and_search(tracking, alice, key_client):
    mlflow.set_experiment("em-view")
    with mlflow.start_run(run_name="seen") as run:
        mlflow.log_params({"lr": "0.01", "layers": "3"})
        mlflow.log_metric("loss", 0.25, step=3)
    with mlflow.start_run(run_id=run.info.run_id), mlflow.start_run(run_name="inner", nested=True) as inner:
        pass
    api = key_client(alice)
    detail = api.get(f"/api/v1/runs/{run.info.run_id}").json()
    assert detail["run"]["status"] == "Complete"
    assert detail["params"] == {"layers": "3", "lr": "0.01"}
    assert detail["metrics"]["loss"]["latest"] == 0.25
    assert detail["path"] == "/alice/em-view/seen"
    rows = api.get("/api/v1/runs", {"filter": "params.lr = '0.01' AND metrics.loss < 0.5"}).json()["results"]
    assert [row["id"] for row in rows] == [run.info.run_id]
    inner_row = api.get(f"/api/v1/runs/{inner.info.run_id}").json()
    assert inner_row["parent_run"] == run.info.run_id
    assert inner_row["path"] == "/alice/em-view/seen/inner"


AUTOLOG_SCRIPT = textwrap.dedent(
    """
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("autolog")
    mlflow.autolog()
    X, y = load_iris(return_X_y=True)
    with mlflow.start_run(run_name="iris") as run:
        LogisticRegression(max_iter=200).fit(X, y)
    print(run.info.run_id)
    """
)


@live
def test_sklearn_autolog_logs_params_metrics_and_the_model(tracking, live_server, alice, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(AUTOLOG_SCRIPT)
    env = {**os.environ, "MLFLOW_TRACKING_URI": live_server.url, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Autolog warns, and carries on without the model, when an endpoint it needs fails.
    assert "autologging" not in done.stderr.lower().replace("autologging successfully enabled", ""), done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    run = tracking.get_run(run_id)
    assert run.data.params["max_iter"] == "200"
    assert "training_accuracy_score" in run.data.metrics
    models = [edge.other for edge in LineageEdge.objects.filter(run_id=run_id, direction="output")]
    assert len(models) == 1 and models[0].kind == Kind.ARTIFACT
    model = mlflow.get_logged_model(str(models[0].pk))
    assert model.status == "READY" or str(model.status).endswith("READY")
    assert model.source_run_id == run_id
    files = {entry.path for entry in models[0].manifest.entries.all()}
    assert "MLmodel" in files and "model.pkl" in files
    loaded = mlflow.sklearn.load_model(f"models:/{models[0].pk}")
    assert loaded.predict([[5.1, 3.5, 1.4, 0.2]])[0] == 0


@live
def test_mlflow_shaped_404_for_unknown_endpoints(tracking, live_server):
    import requests

    answer = requests.get(f"{live_server.url}/api/3.0/mlflow/server-info", timeout=10)
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    unknown = requests.post(f"{live_server.url}/api/2.0/mlflow/runs/no-such-thing", json={}, timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
