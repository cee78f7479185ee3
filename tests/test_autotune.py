"""AutoTune: bundle indexing (idempotent, whole or nothing, per-file errors), the upload protocol's
commit enqueuing it, and the API's reads (summary, trials with the filter language, best trial,
intermediate values, charts) and promotion of a trial to a run with lineage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from em.access import Level
from em.autotune import indexing
from em.models import IndexState, LineageEdge, Node, Run
from em.models.autotune import AutoTune, Trial, TrialParam, TrialStatus
from em.services import sharing
from tests.autotune_helpers import autotune_node, example_search, trial_files
from tests.bundle_helpers import example_bundle, replace_files, run_node
from tests.factories import root
from tests.test_blobs_and_uploads import upload

pytestmark = pytest.mark.django_db


def _indexed(node: Node) -> AutoTune:
    outcome = indexing.index_autotune(node.pk)
    assert outcome["state"] == "indexed", outcome
    return AutoTune.objects.get(node=node)


def _rows(node: Node) -> list[tuple[Any, ...]]:
    return list(
        Trial.objects.filter(autotune_id=node.pk)
        .order_by("number")
        .values_list("number", "status", "params", "value", "points", "steps", "values")
    )


def test_indexing_stores_profile_and_trials_and_is_idempotent(alice, private_storage):
    node = autotune_node(root(alice), "search", example_search())
    autotune = _indexed(node)
    assert (autotune.objective_metric, autotune.goal, autotune.max_trial_num) == ("accuracy", "maximize", 10)
    assert autotune.status == "DONE" and autotune.index_errors == []
    rows = _rows(node)
    assert [(n, s, v) for n, s, _, v, *_ in rows] == [
        (0, TrialStatus.SUCCEEDED, 0.80),
        (1, TrialStatus.SUCCEEDED, 0.91),
        (2, TrialStatus.SUCCEEDED, 0.85),
        (3, TrialStatus.PRUNED, None),
        (4, TrialStatus.SUCCEEDED, 0.95),
        (5, TrialStatus.FAILED, 0.70),
    ]
    assert all(points == 3 for *_, points, _s, _v in rows)
    assert TrialParam.objects.filter(trial__autotune=autotune).count() == 18
    again = _indexed(node)
    assert _rows(node) == rows and again.index_state == IndexState.INDEXED


@pytest.mark.parametrize(
    ("override", "file", "words"),
    [
        ({"profile.json": None}, "profile.json", "missing"),
        ({"trials/2/metadata.json": b"{not json"}, "trials/2/metadata.json", "not valid JSON"),
        (
            {"trials/1/metadata.json": json.dumps({"id": 1, "status": "EXPLODED"}).encode()},
            "trials/1/metadata.json",
            "status 'EXPLODED' is unknown",
        ),
        ({"trials/4/metrics.yaml": b"final: [1, 2\n"}, "trials/4/metrics.yaml", "line"),
        (
            {"trials/4/metrics.yaml": json.dumps({"final": "high"}).encode()},
            "trials/4/metrics.yaml",
            "final is a number",
        ),
        ({"trials/x/metrics.yaml": b"{}"}, "trials/x/metadata.json", "missing"),
        (
            {"trials/9/metadata.json": json.dumps({"id": 1}).encode()},
            "trials/9/metadata.json",
            "also the id",
        ),
    ],
)
def test_a_hostile_bundle_fails_with_the_file_named_and_keeps_what_was_indexed(
    alice, private_storage, override, file, words
):
    node = autotune_node(root(alice), "search", example_search())
    _indexed(node)
    before = _rows(node)
    replace_files(node, example_search(**override))
    outcome = indexing.index_autotune(node.pk)
    assert outcome["state"] == "failed"
    problem = next(p for p in outcome["errors"] if p["file"] == file)
    assert words in problem["message"], outcome["errors"]
    autotune = AutoTune.objects.get(node=node)
    assert autotune.index_state == IndexState.FAILED and autotune.index_errors == outcome["errors"]
    assert _rows(node) == before  # nothing half-indexed: the earlier trials stand whole


def test_ten_thousand_trials_are_refused_whole(alice, private_storage):
    files = example_search()
    for number in range(10_000):
        files[f"trials/{number}/metadata.json"] = json.dumps({"id": number, "status": "SUCCEEDED"}).encode()
    node = autotune_node(root(alice), "big", files)
    outcome = indexing.index_autotune(node.pk)
    assert outcome["state"] == "failed"
    assert outcome["errors"] == [{"file": "trials/", "message": "10,000 trials; a search holds at most 5,000"}]
    assert not Trial.objects.filter(autotune_id=node.pk).exists()


def test_an_upload_through_the_protocol_is_indexed_on_commit(
    alice, api, private_storage, django_capture_on_commit_callbacks
):
    client = api(alice)
    with django_capture_on_commit_callbacks(execute=True):
        committed = upload(client, root(alice), "search", example_search(), kind="AutoTune")
    assert committed["kind"] == "AutoTune"
    answer = client.get(f"/api/v1/autotune/{committed['id']}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["index_state"] == "indexed"
    assert body["best"]["id"] == 4 and body["best"]["value"] == 0.95
    assert body["progress"]["by_status"] == {
        "Waiting": 0,
        "Running": 0,
        "Succeeded": 4,
        "Pruned": 1,
        "Failed": 1,
        "Canceled": 0,
    }
    assert body["progress"]["elapsed_seconds"] == 1800.0 and body["progress"]["max_exec_seconds"] == 3600


@pytest.fixture
def search(alice, private_storage) -> Node:
    node = autotune_node(root(alice), "search", example_search())
    _indexed(node)
    return node


def _ids(answer: Any) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [trial["id"] for trial in answer.json()["results"]]


def test_trials_filter_and_sort_with_the_run_filter_language(alice, api, search):
    client = api(alice)
    url = f"/api/v1/autotune/{search.pk}/trials"
    assert _ids(client.get(url)) == [0, 1, 2, 3, 4, 5]
    assert _ids(client.get(url, {"order_by": "metrics.accuracy DESC"})) == [4, 1, 2, 0, 5, 3]
    assert _ids(client.get(url, {"filter": "metrics.accuracy > 0.84 AND attributes.status = 'Succeeded'"})) == [1, 2, 4]
    assert _ids(client.get(url, {"filter": "params.layers = 2 OR params.lr >= 0.05"})) == [1, 4, 5]
    assert _ids(client.get(url, {"filter": "attributes.status IN ('pruned', 'FAILED')"})) == [3, 5]
    assert _ids(client.get(url, {"filter": "params.optimizer LIKE 'ad%'", "order_by": "params.lr DESC"})) == [
        5,
        4,
        3,
        2,
        1,
        0,
    ]
    assert _ids(client.get(url, {"filter": "attributes.duration >= 13"})) == [3, 4, 5]
    assert _ids(client.get(url, {"page_size": 2, "page": 2})) == [2, 3]


def test_a_bad_trial_filter_points_at_the_token(alice, api, search):
    answer = api(alice).get(f"/api/v1/autotune/{search.pk}/trials", {"filter": "metrics.loss > 1"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_filter" and error["detail"]["token"] == "metrics.loss"
    answer = api(alice).get(f"/api/v1/autotune/{search.pk}/trials", {"filter": "tags.x = 'a'"})
    assert answer.status_code == 400 and "Trials have no tags" in answer.json()["error"]["message"]


def test_a_trial_answers_its_intermediate_values(alice, api, search):
    answer = api(alice).get(f"/api/v1/autotune/{search.pk}/trials/4")
    assert answer.status_code == 200
    body = answer.json()
    assert body["steps"] == [0, 1, 2] and body["values"] == pytest.approx([0.95 / 3, 0.95 * 2 / 3, 0.95])
    assert body["params"] == {"lr": 0.05, "layers": 2, "optimizer": "adam"} and body["duration_seconds"] == 14.0
    assert api(alice).get(f"/api/v1/autotune/{search.pk}/trials/77").status_code == 404


def test_charts_hold_best_so_far_parallel_coordinates_and_durations(alice, api, search):
    body = api(alice).get(f"/api/v1/autotune/{search.pk}/charts").json()
    assert body["values"] == {
        "trial": [0, 1, 2, 4],
        "value": [0.80, 0.91, 0.85, 0.95],
        "best_so_far": [0.80, 0.91, 0.91, 0.95],
    }
    assert body["parallel"]["params"]["layers"] == [1, 2, 3, 1, 2, 3]
    assert body["parallel"]["value"] == [0.80, 0.91, 0.85, None, 0.95, 0.70]
    assert body["durations"]["seconds"] == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]


def test_minimize_picks_the_lowest_value(alice, api, private_storage):
    profile = json.dumps({"objective": {"metric": "loss", "goal": "minimize"}})
    node = autotune_node(root(alice), "search", example_search(**{"profile.json": profile}))
    _indexed(node)
    body = api(alice).get(f"/api/v1/autotune/{node.pk}").json()
    assert body["best"]["id"] == 0 and body["best"]["value"] == 0.80  # failed trial 5 (0.70) is not a best


def test_promoting_a_trial_makes_a_run_with_lineage_to_the_search(alice, api, search):
    answer = api(alice).post(f"/api/v1/autotune/{search.pk}/trials/4/promote", {}, format="json")
    assert answer.status_code == 201, answer.content
    run = Run.objects.select_related("node").get(node_id=answer.json()["id"])
    assert run.node.name == "search-trial-4" and run.node.parent_id == search.parent_id
    assert run.hyperparameters == {"lr": 0.05, "layers": 2, "optimizer": "adam"} and run.status == "Complete"
    assert run.metrics.get().key == "accuracy" and run.metrics.get().latest == pytest.approx(0.95)
    assert LineageEdge.objects.filter(run=run.node, other=search, direction="input").exists()
    detail = api(alice).get(f"/api/v1/runs/{run.node_id}")
    assert detail.status_code == 200 and detail.json()["params"]


def test_strangers_get_404_and_viewers_cannot_write(alice, bob, api, search):
    url = f"/api/v1/autotune/{search.pk}"
    for path in ("", "/trials", "/trials/4", "/charts"):
        answer = api(bob).get(url + path)
        assert answer.status_code == 404 and answer.json()["error"]["message"] == "AutoTune not found."
    sharing.share(node=search, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    assert api(bob).get(url).status_code == 200
    assert api(bob).post(url + "/trials", {"id": 9}, format="json").status_code == 403
    # The run would go beside the search, into alice's root, which bob cannot even see.
    assert api(bob).post(url + "/trials/4/promote", {}, format="json").status_code == 404
    assert not Run.objects.exists()


def test_a_run_is_no_autotune(alice, api, private_storage):
    node = run_node(root(alice), "run", example_bundle())
    assert api(alice).get(f"/api/v1/autotune/{node.pk}").status_code == 404


def test_intermediate_values_as_yaml_are_read_too(alice, private_storage):
    files = example_search(**{"trials/0/metrics.yaml": "final: 0.5\nintermediate:\n- step: 1\n  value: 1e-3\n"})
    node = autotune_node(root(alice), "search", files)
    _indexed(node)
    trial = Trial.objects.get(autotune_id=node.pk, number=0)
    assert trial.value == 0.5 and trial.points == 1


@pytest.mark.parametrize(
    ("intermediate", "words"),
    [
        ([{"step": 1, "value": "high"}], "intermediate[0].value is a number"),
        ([{"step": -1, "value": 1.0}], "intermediate[0].step is a whole number"),
        ([{"step": 2**63, "value": 1.0}], "intermediate[0].step is a whole number"),
        ([{"step": 0, "value": 1.0}, [1, 2]], "intermediate[1] is a mapping"),
        ({"step": 0}, "intermediate is a list"),
    ],
)
def test_bad_intermediate_values_are_named_by_their_index(alice, private_storage, intermediate, words):
    metrics = json.dumps({"final": 1.0, "intermediate": intermediate})
    node = autotune_node(root(alice), "search", example_search(**{"trials/2/metrics.yaml": metrics}))
    outcome = indexing.index_autotune(node.pk)
    assert outcome["state"] == "failed"
    assert outcome["errors"][0]["file"] == "trials/2/metrics.yaml" and words in outcome["errors"][0]["message"]


def test_reads_take_a_constant_number_of_queries(alice, api, private_storage, django_assert_max_num_queries):
    small = autotune_node(root(alice), "small", example_search())
    files = example_search()
    for number in range(6, 200):
        files.update(trial_files(number, value=number / 1000))
    big = autotune_node(root(alice), "big", files)
    client = api(alice)
    for node in (small, big):
        assert indexing.index_autotune(node.pk)["state"] == "indexed"
        for path in ("", "/trials?order_by=params.lr%20DESC&filter=params.layers%20>%201", "/charts", "/trials/5"):
            with django_assert_max_num_queries(12):
                assert client.get(f"/api/v1/autotune/{node.pk}{path}").status_code == 200
