"""Lineage edges and the lineage graph through the API: dataset version -> run -> model version, as the
owner and as people who may see only part of it (docs/lineage.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from em.access import Level
from em.models import Kind, LineageEdge, Node
from em.services import sharing
from tests.assethub_helpers import commit, create
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


def share(node: Node, user: Any, level: Level = Level.VIEW) -> None:
    sharing.share(node=node, to=sharing.principal("user", user.username), level=level, by=node.owner)


@pytest.fixture
def world(alice: Any, bob: Any, api: Any) -> dict[str, Any]:
    """alice's dataset mnist (v1, v2), a training run in /alice/exp, and the model cnn it produced (v1)."""
    client = api(alice)
    dataset = create(client, "mnist", kind="Dataset")
    d1 = commit(client, dataset["id"], {"train.csv": b"x,y\n1,2\n"}, message="first rows")
    assert client.post(f"/api/v1/assets/{dataset['id']}/tags", {"name": "v1"}, format="json").status_code == 201
    d2 = commit(client, dataset["id"], {"train.csv": b"x,y\n1,2\n3,4\n"}, message="more rows")
    model = create(client, "cnn", kind="Model")
    m1 = commit(client, model["id"], {"weights.bin": b"\x00\x01"}, message="trained")
    assert client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1"}, format="json").status_code == 201
    exp = folder(root(alice), "exp")
    run = make_run(exp, "train-1").node
    return {
        "client": client,
        "dataset": dataset,
        "d1": d1["id"],
        "d2": d2["id"],
        "model": model,
        "m1": m1["id"],
        "exp": exp,
        "run": run,
    }


def mark(client: Any, run: Node, **lineage: list[str]) -> Any:
    return client.post(f"/api/v1/runs/{run.pk}/lineage", lineage, format="json")


def graph(client: Any, node: str, depth: int = 3) -> Any:
    return client.get("/api/v1/lineage", {"node": node, "depth": depth})


DATASET_V1 = "/alice/t9k-assethub/dataset/mnist:v1"
MODEL_V1 = "/alice/t9k-assethub/model/cnn:v1"


def test_version_edges_point_at_the_real_version(world: dict[str, Any]) -> None:
    client, run = world["client"], world["run"]
    answer = mark(client, run, input=[DATASET_V1], output=["/alice/t9k-assethub/model/cnn"])
    assert answer.status_code == 201, answer.content
    edges = {(e.direction, e.other.name, e.version, e.ref) for e in LineageEdge.objects.filter(run=run)}
    # a tag resolves to its commit; a bare asset path to main's head at the time the edge is made
    assert edges == {("input", "mnist", world["d1"], "v1"), ("output", "cnn", world["m1"], "")}
    body = answer.json()
    (dataset_in,) = body["input"]
    assert dataset_in["version"]["id"] == world["d1"]
    assert dataset_in["version"]["tags"] == ["v1"]
    assert dataset_in["version"]["message"] == "first rows"
    # main moving on does not move an edge made earlier
    commit(client, world["model"]["id"], {"weights.bin": b"\x02"}, message="retrained")
    assert LineageEdge.objects.get(run=run, direction="output").version == world["m1"]


def test_a_ref_that_names_no_version_is_a_clear_400(world: dict[str, Any]) -> None:
    client, run = world["client"], world["run"]
    answer = mark(client, run, input=["/alice/t9k-assethub/dataset/mnist:v9"])
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "v9" in error["message"]
    assert error["detail"] == {"ref": "/alice/t9k-assethub/dataset/mnist:v9"}
    assert not LineageEdge.objects.exists()
    # a ref on something without versions is refused too, not stored as text
    folder(root(world["run"].owner), "data", kind=Kind.ARTIFACT)
    refused = mark(client, run, input=["/alice/data:v1"])
    assert refused.status_code == 400
    assert "only models and datasets have versions" in refused.json()["error"]["message"]
    assert not LineageEdge.objects.exists()


def test_a_hidden_other_end_answers_as_a_missing_one(world: dict[str, Any], bob: Any, api: Any) -> None:
    share(world["exp"], bob, Level.EDIT)
    client = api(bob)
    hidden = mark(client, world["run"], input=[DATASET_V1])
    missing = mark(client, world["run"], input=["/alice/t9k-assethub/dataset/nothing:v1"])
    assert hidden.status_code == missing.status_code == 400
    h, m = hidden.json()["error"], missing.json()["error"]
    assert h["code"] == m["code"]
    assert h["message"].replace(DATASET_V1, "X") == m["message"].replace("/alice/t9k-assethub/dataset/nothing:v1", "X")
    # and a hidden asset with a ref it does not have reads the same: its refs are not consulted
    bad_ref = mark(client, world["run"], input=["/alice/t9k-assethub/dataset/mnist:v9"])
    assert bad_ref.json()["error"]["message"].replace("/alice/t9k-assethub/dataset/mnist:v9", "X") == (
        m["message"].replace("/alice/t9k-assethub/dataset/nothing:v1", "X")
    )
    assert not LineageEdge.objects.exists()


def test_editing_lineage_needs_edit_on_the_run(world: dict[str, Any], bob: Any, api: Any, make_user: Any) -> None:
    share(world["exp"], bob, Level.VIEW)
    assert mark(api(bob), world["run"], input=[f"{world['run'].pk}"]).status_code == 403
    assert mark(api(make_user("carol")), world["run"], input=[DATASET_V1]).status_code == 404
    assert mark(world["client"], world["run"], input=[str(world["run"].pk)]).status_code == 400  # itself
    assert mark(world["client"], world["run"]).status_code == 400  # nothing named
    unknown = world["client"].post(f"/api/v1/runs/{world['run'].pk}/lineage", {"inputs": [DATASET_V1]}, format="json")
    assert unknown.status_code == 400
    assert not LineageEdge.objects.exists()


def test_delete_one_edge(world: dict[str, Any], bob: Any, api: Any) -> None:
    client, run = world["client"], world["run"]
    body = mark(client, run, input=[DATASET_V1], output=[MODEL_V1]).json()
    dataset_edge, model_edge = body["input"][0]["edge"], body["output"][0]["edge"]
    share(world["exp"], bob, Level.EDIT)
    share(Node.objects.get(pk=world["model"]["id"]), bob)
    bob_client = api(bob)
    # bob edits the run but cannot see the dataset: that edge is not there for him
    assert [e["name"] for e in bob_client.get(f"/api/v1/runs/{run.pk}/lineage").json()["input"]] == []
    assert bob_client.delete(f"/api/v1/runs/{run.pk}/lineage/{dataset_edge}").status_code == 404
    assert bob_client.delete(f"/api/v1/runs/{run.pk}/lineage/{model_edge}").status_code == 204
    assert list(LineageEdge.objects.values_list("pk", flat=True)) == [dataset_edge]
    assert client.delete(f"/api/v1/runs/{run.pk}/lineage/{model_edge}").status_code == 404
    assert client.delete(f"/api/v1/runs/{run.pk}/lineage/{dataset_edge}").status_code == 204
    assert not LineageEdge.objects.exists()


def test_model_version_shows_the_run_that_made_it_and_its_dataset_version(world: dict[str, Any]) -> None:
    client, run = world["client"], world["run"]
    assert mark(client, run, input=[DATASET_V1], output=[MODEL_V1]).status_code == 201
    answer = graph(client, MODEL_V1, depth=2)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    model_key = f"{world['model']['id']}:{world['m1']}"
    dataset_key = f"{world['dataset']['id']}:{world['d1']}"
    run_key = str(run.pk)
    assert body["root"] == model_key
    assert body["hidden"] == 0
    nodes = {n["key"]: n for n in body["nodes"]}
    assert set(nodes) == {model_key, run_key, dataset_key}
    assert nodes[dataset_key]["version"]["tags"] == ["v1"]
    assert nodes[dataset_key]["path"] == "/alice/t9k-assethub/dataset/mnist"
    assert (nodes[run_key]["depth"], nodes[dataset_key]["depth"]) == (1, 2)
    flows = {(e["source"], e["target"], e["direction"]) for e in body["edges"]}
    assert flows == {(dataset_key, run_key, "input"), (run_key, model_key, "output")}
    # depth 1 stops at the run
    assert {n["key"] for n in graph(client, MODEL_V1, depth=1).json()["nodes"]} == {model_key, run_key}


def test_a_viewer_of_part_sees_that_part_and_a_count(world: dict[str, Any], bob: Any, api: Any) -> None:
    client, run = world["client"], world["run"]
    assert mark(client, run, input=[DATASET_V1], output=[MODEL_V1]).status_code == 201
    share(world["exp"], bob)
    share(Node.objects.get(pk=world["model"]["id"]), bob)
    answer = graph(api(bob), MODEL_V1)
    assert answer.status_code == 200
    body = answer.json()
    assert {n["kind"] for n in body["nodes"]} == {"Model", "Run"}
    assert body["hidden"] == 1
    assert "mnist" not in json.dumps(body) and world["dataset"]["id"] not in json.dumps(body)
    assert all(world["dataset"]["id"] not in (e["source"] + e["target"]) for e in body["edges"])
    # what bob cannot see, he cannot start from either: the same 404 as nothing at all
    hidden, missing = graph(api(bob), DATASET_V1), graph(api(bob), "/alice/t9k-assethub/dataset/nothing:v1")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]


def test_graph_of_a_whole_asset_holds_its_versions(world: dict[str, Any], make_user: Any) -> None:
    client, run = world["client"], world["run"]
    other = make_run(world["exp"], "train-2").node
    assert mark(client, run, input=[DATASET_V1]).status_code == 201
    assert mark(client, other, input=["/alice/t9k-assethub/dataset/mnist"]).status_code == 201  # main: d2
    body = graph(client, world["dataset"]["id"], depth=1).json()
    asset = world["dataset"]["id"]
    keys = {n["key"] for n in body["nodes"]}
    assert keys == {asset, f"{asset}:{world['d1']}", f"{asset}:{world['d2']}", str(run.pk), str(other.pk)}
    links = {(e["source"], e["target"]) for e in body["edges"] if e["direction"] == "version"}
    assert links == {(asset, f"{asset}:{world['d1']}"), (asset, f"{asset}:{world['d2']}")}
    # a run's graph names the version it read, by id as by path
    by_run = graph(client, "/alice/exp/train-1", depth=1).json()
    assert {n["key"] for n in by_run["nodes"]} == {str(run.pk), f"{asset}:{world['d1']}"}


def test_depth_is_capped_and_strict(world: dict[str, Any]) -> None:
    client = world["client"]
    assert graph(client, str(world["run"].pk), depth=11).status_code == 400
    assert graph(client, str(world["run"].pk), depth=0).json()["nodes"][0]["key"] == str(world["run"].pk)
    assert client.get("/api/v1/lineage", {"node": str(world["run"].pk), "dpeth": 2}).status_code == 400
    assert client.get("/api/v1/lineage").status_code == 400


def _chain_world(alice: Any, width: int) -> Node:
    """A run with `width` artifact inputs, each the output of its own run: two levels of `width` nodes,
    half of them in a folder shared with bob, half in one that is not."""
    seen, unseen = folder(root(alice), f"seen{width}"), folder(root(alice), f"unseen{width}")
    centre = make_run(seen, "centre").node
    edges = []
    for i in range(width):
        where = seen if i % 2 else unseen
        data = folder(where, f"data{i}", kind=Kind.ARTIFACT)
        maker = make_run(where, f"maker{i}").node
        edges += [
            LineageEdge(run=centre, direction="input", other=data),
            LineageEdge(run=maker, direction="output", other=data),
        ]
    LineageEdge.objects.bulk_create(edges)
    return centre


def test_queries_do_not_grow_with_the_nodes_per_level(alice: Any, bob: Any, api: Any) -> None:
    small, large = _chain_world(alice, 4), _chain_world(alice, 40)
    for node in Node.objects.filter(name__in=["seen4", "seen40"]):
        share(node, bob)
    counts = []
    for centre, width in ((small, 4), (large, 40)):
        client = api(bob)
        client.get("/api/v1/me")  # the session is read once
        with CaptureQueriesContext(connection) as queries:
            body = graph(client, str(centre.pk), depth=3).json()
        assert len(body["nodes"]) == 1 + width  # half the artifacts and their makers
        assert body["hidden"] == width // 2
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_upload_lineage_resolves_versions_and_refuses_what_is_not_there(world: dict[str, Any]) -> None:
    client = world["client"]
    body = {
        "kind": "Run",
        "parent_path": "/alice/exp",
        "name": "uploaded",
        "files": [],
        "lineage": {"input": ["/alice/t9k-assethub/dataset/mnist:v9"]},
    }
    refused = client.post("/api/v1/uploads", body, format="json")
    assert refused.status_code == 400
    assert "v9" in refused.json()["error"]["message"]
    body["lineage"] = {"input": [DATASET_V1], "output": [f"{world['model']['id']}:v1"]}
    started = client.post("/api/v1/uploads", body, format="json")
    assert started.status_code == 201, started.content
    committed = client.post(f"/api/v1/uploads/{started.json()['id']}/commit")
    assert committed.status_code in (200, 201), committed.content
    run_id = committed.json()["node"]["id"]
    got = set(LineageEdge.objects.filter(run_id=run_id).values_list("direction", "version", "ref"))
    assert got == {("input", world["d1"], "v1"), ("output", world["m1"], "v1")}
    detail = client.get(f"/api/v1/runs/{run_id}").json()["lineage"]
    assert detail["output"][0]["version"]["id"] == world["m1"]


def test_hostile_references_are_refused_cleanly(world: dict[str, Any]) -> None:
    client, run = world["client"], world["run"]
    for refs in (["/alice/t9k\x00"], ["x" * 2_001], [42], ["/alice/exp:" + ":" * 50], [""], ["   "]):
        answer = mark(client, run, input=refs)
        assert answer.status_code == 400, (refs, answer.content)
        assert answer.json()["error"]["code"] == "invalid"
    assert mark(client, run, input=[DATASET_V1] * 1_001).status_code == 400
    assert graph(client, "/alice/\x00").status_code == 400
    assert not LineageEdge.objects.exists()


def test_trashed_ends_are_left_out(world: dict[str, Any]) -> None:
    from em.services import trash

    client, run = world["client"], world["run"]
    assert mark(client, run, input=[DATASET_V1], output=[MODEL_V1]).status_code == 201
    trash.trash_node(node=Node.objects.get(pk=world["dataset"]["id"]), by=run.owner)
    body = graph(client, str(run.pk), depth=2).json()
    assert {n["kind"] for n in body["nodes"]} == {"Run", "Model"}
    assert body["hidden"] == 0
    assert [e["kind"] for e in client.get(f"/api/v1/runs/{run.pk}/lineage").json()["input"]] == []
    assert mark(client, run, input=[DATASET_V1]).status_code == 400  # a trashed asset names nothing


def test_services_take_a_node_or_a_proof(world: dict[str, Any], bob: Any) -> None:
    """Called with a bare node (not a view's proof), the services check the caller themselves."""
    from em import errors
    from em.access import Checker
    from em.services import lineage

    run = world["run"]
    with pytest.raises(errors.NotFound):
        lineage.add_edges(checker=Checker(bob), run=run, inputs=[DATASET_V1])
    share(world["exp"], bob)
    with pytest.raises(errors.PermissionDenied):
        lineage.add_edges(checker=Checker(bob), run=run, inputs=[str(run.pk)])
    lineage.add_edges(checker=Checker(run.owner), run=run, inputs=[DATASET_V1])
    (edge,) = LineageEdge.objects.all()
    with pytest.raises(errors.PermissionDenied):
        lineage.remove_edge(checker=Checker(bob), run=run, edge_id=edge.pk)
    lineage.remove_edge(checker=Checker(run.owner), run=run, edge_id=edge.pk)
    assert not LineageEdge.objects.exists()
