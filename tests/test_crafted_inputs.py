"""The crafted inputs issue 9 found answering 500, each now a 400 in the error shape that says what to fix.
(tests/test_hostile_api.py sends the whole class of them to every endpoint.)"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from rest_framework.test import APIClient

from em.runs import live
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(alice: Any, api: Any) -> APIClient:
    return api(alice)


@pytest.fixture
def running(alice: Any) -> Any:
    return make_run(folder(root(alice), "f"), "live", status="Running")


def _refused(response: Any, *words: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "detail"}
    for word in words:
        assert word in error["message"], error["message"]
    return error


@pytest.mark.parametrize(
    ("stamp", "words"),
    [(1.7e12, ["milliseconds"]), (1e20, ["outside 1970-9999"]), (1e300, ["outside"]), (-1e300, ["outside"])],
)
def test_live_timestamps_out_of_range_are_refused_by_key_and_index(
    stamp: float, words: list[str], running: Any, client: APIClient
) -> None:
    body = {"metrics": {"train.loss": {"step": [1, 2], "value": [0.5, 0.4], "timestamp": [1.7e9, stamp]}}}
    error = _refused(client.post(f"/api/v1/runs/{running.node_id}/metrics", body, format="json"), *words)
    assert error["detail"] == {"key": "train.loss", "field": "timestamp", "index": 1}


def test_the_latest_accepted_timestamp_is_the_end_of_year_9999() -> None:
    parsed = live.parse_batch(
        {"metrics": {"train.loss": {"step": [1], "value": [1.0], "timestamp": ["9999-12-31T23:59:59+00:00"]}}},
        now=0,
    )
    assert parsed["train.loss"].timestamps[0] == live.LATEST_TIMESTAMP


def test_an_mtime_with_no_utc_form_is_refused(alice: Any, client: APIClient) -> None:
    parent = folder(root(alice), "f")
    entry = {"path": "x", "size": 1, "sha256": hashlib.sha256(b"x").hexdigest(), "mtime": "9999-12-31T23:59:59-23:59"}
    response = client.post(
        "/api/v1/uploads", {"kind": "Artifact", "parent": str(parent.pk), "name": "a", "files": [entry]}, format="json"
    )
    _refused(response, "x: mtime", "1-9999")


def test_a_nul_in_a_resolved_path_is_refused(client: APIClient) -> None:
    _refused(client.get("/api/v1/nodes/resolve?path=/alice/a%00b"), "NUL")


UPLOAD = {"kind": "Run", "parent_path": "/alice", "name": "u", "files": []}


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        ("nodes", {"parent_path": "/alice", "name": "n", "extra": {"k": "a\x00"}}, "body.extra.k"),
        ("runs", {"parent_path": "/alice", "name": "r", "hparams": {"lr\x00": 1}}, "a key of body.hparams"),
        ("uploads", {**UPLOAD, "metadata": {"d": "\x00"}}, "body.metadata.d"),
        ("uploads", {**UPLOAD, "lineage": {"input": ["\x00"]}}, "body.lineage.input[0]"),
        ("uploads", {**UPLOAD, "files": [{"path": "a\x00"}]}, "body.files[0].path"),
    ],
)
def test_a_nul_anywhere_in_a_body_is_refused_naming_where(url: str, body: Any, where: str, client: APIClient) -> None:
    error = _refused(client.post(f"/api/v1/{url}", body, format="json"), "NUL")
    assert where in error["message"]


def test_a_hex_id_without_dashes_in_the_unshare_path_is_404(client: APIClient) -> None:
    response = client.delete(f"/api/v1/nodes/{'a' * 36}/shares/user/bob")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
