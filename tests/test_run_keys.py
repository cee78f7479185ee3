"""GET /api/v1/runs/keys: the keys of the runs a search would see, never of runs the caller cannot see."""

from __future__ import annotations

from typing import Any

import pytest

from em.access import Level
from em.services import sharing
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/runs/keys"


@pytest.fixture
def runs(alice: Any, bob: Any) -> None:
    exp = folder(root(alice), "exp")
    make_run(exp, "a", hparams={"lr": 0.1, "model": {"layers": 2}}, series={"train.loss": [1.0]}, tags={"team": "x"})
    make_run(folder(root(alice), "other"), "b", hparams={"batch": 8}, series={"val.acc": [0.5]})
    make_run(folder(root(bob), "private"), "secret", hparams={"bob_only": 1}, series={"bob.metric": [1.0]})
    shared = folder(root(bob), "shared")
    sharing.share(node=shared, to=sharing.principal("user", "alice"), level=Level.VIEW, by=bob)
    make_run(shared, "open", hparams={"seen": 1}, tags={"owner": "bob"})


def test_keys_of_every_run_the_caller_sees_and_no_other(api: Any, alice: Any, runs: None) -> None:
    answer = api(alice).get(KEYS)
    assert answer.status_code == 200
    body = answer.json()
    assert body["params"] == ["batch", "lr", "model.layers", "seen"]
    assert body["metrics"] == ["train.loss", "val.acc"]
    assert body["tags"] == ["owner", "team"]
    assert {"status", "name", "start_time", "duration", "path"} <= set(body["attributes"])
    assert body["truncated"] is False


def test_keys_below_a_folder_and_matching_a_filter(api: Any, alice: Any, runs: None) -> None:
    assert api(alice).get(KEYS, {"folder": "/alice/exp"}).json()["params"] == ["lr", "model.layers"]
    assert api(alice).get(KEYS, {"filter": "params.batch = 8"}).json()["metrics"] == ["val.acc"]


def test_a_hidden_folder_answers_as_a_missing_one_and_a_bad_filter_says_where(api: Any, alice: Any, runs: None) -> None:
    hidden = api(alice).get(KEYS, {"folder": "/bob/private"})
    missing = api(alice).get(KEYS, {"folder": "/bob/nothing"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == {
        "code": "not_found",
        "message": "Nothing found at '/bob/private'.",
        "detail": None,
    }
    assert missing.json()["error"]["message"] == "Nothing found at '/bob/nothing'."
    bad = api(alice).get(KEYS, {"filter": "metrics.x >>> 1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_filter"
    assert api(alice).get(KEYS, {"fodler": "/alice/exp"}).status_code == 400  # a misspelt scope widens nothing
    assert api().get(KEYS).status_code in {401, 403}


def test_the_query_count_does_not_grow_with_runs_or_keys(
    api: Any, alice: Any, runs: None, django_assert_max_num_queries: Any
) -> None:
    client = api(alice)
    client.get(KEYS)  # session and user loaded once
    with django_assert_max_num_queries(8):
        client.get(KEYS)
    many = folder(root(alice), "many")
    for i in range(30):
        make_run(many, f"r{i}", hparams={f"p{i}": i}, series={f"m{i}": [1.0]}, tags={f"t{i}": "x"})
    with django_assert_max_num_queries(8):
        body = client.get(KEYS).json()
    assert len(body["params"]) == 34 and len(body["metrics"]) == 32 and len(body["tags"]) == 32
