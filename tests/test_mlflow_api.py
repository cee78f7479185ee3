"""The MLflow layer's own rules, through the API with a real key (the real client is in
test_mlflow_client.py): MLflow's error shape and codes for every refusal, EM's permissions underneath,
and reads whose query count does not grow with the runs."""

from __future__ import annotations

from typing import Any

import pytest

from em.access import Level
from em.models import Kind, Node
from em.services import sharing
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db
API = "/api/2.0/mlflow"


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{API}/{path}", body, format="json")


def test_no_key_or_a_bad_key_is_unauthenticated(api, alice):
    answer = post(api(), "experiments/create", {"name": "x"})
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"
    bad = api()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    answer = post(bad, "experiments/create", {"name": "x"})
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"


def test_hidden_and_missing_answer_alike_and_viewers_may_not_write(key_client, alice, bob):
    secret = make_run(folder(root(alice), "secret"), "run").node
    shared = make_run(folder(root(alice), "shared"), "run").node
    sharing.share(node=shared.parent, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    as_bob = key_client(bob)
    hidden = as_bob.get(f"{API}/runs/get", {"run_id": str(secret.pk)})
    missing = as_bob.get(f"{API}/runs/get", {"run_id": "00000000-0000-0000-0000-000000000000"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run not found."}
    write = post(as_bob, "runs/set-tag", {"run_id": str(secret.pk), "key": "k", "value": "v"})
    assert write.json() == hidden.json()
    viewer = post(as_bob, "runs/set-tag", {"run_id": str(shared.pk), "key": "k", "value": "v"})
    assert viewer.status_code == 403
    assert viewer.json()["error_code"] == "PERMISSION_DENIED"
    read_only = key_client(alice, scope="read")
    refused = post(read_only, "runs/set-tag", {"run_id": str(secret.pk), "key": "k", "value": "v"})
    assert refused.status_code == 403


def test_unknown_fields_are_ignored_as_protobuf_json_has_it(key_client, alice):
    client = key_client(alice)
    created = post(client, "experiments/create", {"name": "e", "artifact_location": "s3://x", "future_field": 1})
    assert created.status_code == 200
    run = post(
        client, "runs/create", {"experiment_id": created.json()["experiment_id"], "run_name": "r", "user_id": "x"}
    )
    assert run.status_code == 200
    assert run.json()["run"]["info"]["user_id"] == "alice"  # who sent the key, not what the body says


def test_bad_input_is_invalid_parameter_value(key_client, alice):
    client = key_client(alice)
    run_id = make_run(folder(root(alice), "e"), "r").node.pk
    for path, body in [
        ("runs/log-metric", {"run_id": str(run_id), "key": "loss", "value": "much", "timestamp": 0}),
        ("runs/log-batch", {"run_id": str(run_id), "metrics": [{"key": "m", "value": 1}] * 1001}),
        ("runs/search", {"experiment_ids": ["0"], "page_token": "garbage"}),
        ("runs/update", {"run_id": str(run_id), "status": "DONE"}),
        ("experiments/create", {}),
    ]:
        answer = post(client, path, body)
        assert answer.status_code == 400, (path, answer.json())
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", path


def test_experiments_are_folders_named_by_their_path(key_client, alice, bob):
    theirs = folder(root(bob), "team")
    sharing.share(node=theirs, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    client = key_client(alice)
    made = post(client, "experiments/create", {"name": "deep/er/exp"}).json()["experiment_id"]
    node = Node.objects.get(pk=made)
    assert node.kind == Kind.FOLDER and node.parent.name == "er"
    # LIKE matches the folder's own name, the last part of the experiment's name.
    found = post(client, "experiments/search", {"filter": "name LIKE 'ex%'"}).json()["experiments"]
    assert [e["name"] for e in found] == ["deep/er/exp"]
    names = {e["name"] for e in post(client, "experiments/search", {}).json()["experiments"]}
    assert names == {"deep", "deep/er", "deep/er/exp", "/bob/team"}
    by_name = client.get(f"{API}/experiments/get-by-name", {"experiment_name": "/bob/team"}).json()
    assert by_name["experiment"]["experiment_id"] == str(theirs.pk)
    missing = client.get(f"{API}/experiments/get-by-name", {"experiment_name": "/bob/nothing"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_search_pages_cost_the_same_queries_however_many_runs(key_client, alice, django_assert_max_num_queries):
    client = key_client(alice)
    exp = folder(root(alice), "many")
    body = {"experiment_ids": [str(exp.pk)], "filter": "params.lr > 0", "max_results": 100}

    def fill(start: int, count: int) -> None:
        for i in range(start, start + count):
            parent = make_run(exp, f"r{i}", hparams={"lr": 0.1}, series={"loss": [1.0, 0.5]}, tags={"t": "x"}).node
            make_run(parent, f"inner{i}", hparams={"lr": 0.2})

    fill(0, 3)
    with django_assert_max_num_queries(14) as few:
        assert len(post(client, "runs/search", body).json()["runs"]) == 6
    fill(3, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        runs = post(client, "runs/search", body).json()["runs"]
    assert len(runs) == 66
    nested = [r for r in runs if "mlflow.parentRunId" in {t["key"] for t in r["data"]["tags"]}]
    assert len(nested) == 33
    assert {r["info"]["experiment_id"] for r in runs} == {str(exp.pk)}


def test_the_artifact_proxy_reads_and_writes_through_the_run_s_rights(key_client, alice, bob, private_storage):
    run = make_run(folder(root(alice), "e"), "r").node
    path = f"/api/2.0/mlflow-artifacts/artifacts/{run.parent_id}/{run.pk}/artifacts/a.txt"
    as_alice, as_bob = key_client(alice), key_client(bob)
    mine = as_alice.generic("PUT", path, b"hello", content_type="text/plain")
    assert mine.status_code == 200
    assert b"".join(as_alice.get(path).streaming_content) == b"hello"
    stranger = as_bob.get(path)
    assert stranger.status_code == 404
    assert stranger.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert as_bob.generic("PUT", path, b"evil", content_type="text/plain").status_code == 404


def test_ids_that_are_no_ids_name_nothing(key_client, alice):
    client = key_client(alice)
    for bad in ("x" * 36, "not-an-id", "0" * 40):
        answer = client.get(f"{API}/runs/get", {"run_id": bad})
        assert answer.status_code == 404, bad
        assert answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert client.get(f"{API}/experiments/get", {"experiment_id": bad}).status_code == 404


def test_history_pages_and_the_sampled_interval(key_client, alice):
    client = key_client(alice)
    run = make_run(folder(root(alice), "e"), "r", series={"loss": [float(i) for i in range(50)]}).node
    query = {"run_id": str(run.pk), "metric_key": "loss", "max_results": 20}
    steps, token = [], None
    while True:
        page = client.get(f"{API}/metrics/get-history", {**query, **({"page_token": token} if token else {})}).json()
        steps += [point["step"] for point in page["metrics"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert steps == list(range(50))
    sampled = client.get(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": [str(run.pk)], "metric_key": "loss", "max_results": 10},
    ).json()["metrics"]
    assert 2 <= len(sampled) <= 10
    assert sampled[0]["step"] == 0 and sampled[-1]["step"] == 49  # the ends are kept
    assert {point["run_id"] for point in sampled} == {str(run.pk)}
    ranged = client.get(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": [str(run.pk)], "metric_key": "loss", "start_step": 10, "end_step": 19, "max_results": 100},
    ).json()["metrics"]
    assert [point["step"] for point in ranged] == list(range(10, 20))
    assert client.get(f"{API}/metrics/get-history-bulk-interval", {"run_ids": [str(run.pk)]}).status_code == 404


def test_a_refused_batch_writes_nothing(key_client, alice):
    client = key_client(alice)
    run = make_run(folder(root(alice), "e"), "r").node
    body = {
        "run_id": str(run.pk),
        "params": [{"key": "lr", "value": "0.1"}],
        "metrics": [{"key": "loss", "value": 1.0, "timestamp": 0, "step": 0}],
        "tags": [{"key": "bad\u0000key", "value": "v"}],
    }
    assert post(client, "runs/log-batch", body).json()["error_code"] == "INVALID_PARAMETER_VALUE"
    fetched = client.get(f"{API}/runs/get", {"run_id": str(run.pk)}).json()["run"]["data"]
    assert fetched["params"] == [] and fetched["metrics"] == []


def test_reads_of_the_default_experiment_make_nothing(key_client, alice):
    reader = key_client(alice, scope="read")
    assert reader.get(f"{API}/experiments/get", {"experiment_id": "0"}).status_code == 404
    assert not Node.objects.filter(name="Default").exists()
    writer = key_client(alice)
    run = post(writer, "runs/create", {"experiment_id": "0", "run_name": "r"}).json()["run"]
    default = Node.objects.get(name="Default")
    assert run["info"]["experiment_id"] == str(default.pk) and default.parent_id == root(alice).pk
    assert reader.get(f"{API}/experiments/get", {"experiment_id": "0"}).json()["experiment"]["name"] == "Default"
