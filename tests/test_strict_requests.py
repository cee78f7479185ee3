"""Issue 8, defect 4: a request says only what the endpoint reads. A key it does not know is a 400 that
names it, on every endpoint that writes (and on search, whose `folder` narrows what an export holds),
never dropped; bulk delete and restore work below a named folder, or everywhere only when told so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from em.models import Node
from em.services import trash
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(days=400)
CUTOFF = timedelta(days=300)


def _millis(delta: timedelta) -> int:
    return int((timezone.now() - delta).timestamp() * 1000)


@pytest.fixture
def sweep(alice) -> dict[str, Any]:
    """Two old runs of alice's: one in /alice/sweep, one in /alice/other."""
    started = timezone.now() - LONG_AGO
    home, other = folder(root(alice), "sweep"), folder(root(alice), "other")
    return {
        "home": home,
        "inside": make_run(home, "inside", started_at=started),
        "outside": make_run(other, "outside", started_at=started),
    }


def _live(*runs: Any) -> list[bool]:
    return [Node.objects.get(pk=run.pk).deleted_at is None for run in runs]


def test_bulk_delete_with_an_unknown_key_deletes_nothing(sweep, alice, api):
    response = api(alice).post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": _millis(CUTOFF), "folder_path": "/alice/sweep"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("folder_path: Unknown field")
    assert "`folder`" in error["message"]
    assert _live(sweep["inside"], sweep["outside"]) == [True, True]


def test_bulk_delete_without_a_folder_needs_everywhere_said(sweep, alice, api):
    response = api(alice).post("/api/v1/runs/bulk-delete", {"max_timestamp_millis": _millis(CUTOFF)}, format="json")
    assert response.status_code == 400
    assert "everywhere" in response.json()["error"]["message"]
    assert _live(sweep["inside"], sweep["outside"]) == [True, True]


@pytest.mark.parametrize("ref", ["id", "path"])
def test_bulk_delete_takes_the_folder_by_id_or_path(ref, sweep, alice, api):
    home = sweep["home"]
    response = api(alice).post(
        "/api/v1/runs/bulk-delete",
        {"max_timestamp_millis": _millis(CUTOFF), "folder": str(home.pk) if ref == "id" else "/alice/sweep"},
        format="json",
    )
    assert response.json() == {"deleted": 1}
    assert _live(sweep["inside"], sweep["outside"]) == [False, True]


def test_bulk_delete_everywhere_takes_the_callers_whole_tree(sweep, alice, api):
    response = api(alice).post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": _millis(CUTOFF), "everywhere": True}, format="json"
    )
    assert response.json() == {"deleted": 2}
    assert _live(sweep["inside"], sweep["outside"]) == [False, False]


def test_bulk_delete_refuses_a_folder_and_everywhere_together(sweep, alice, api):
    response = api(alice).post(
        "/api/v1/runs/bulk-delete",
        {"max_timestamp_millis": _millis(CUTOFF), "folder": "/alice/sweep", "everywhere": True},
        format="json",
    )
    assert response.status_code == 400
    assert _live(sweep["inside"], sweep["outside"]) == [True, True]


@pytest.mark.parametrize("folder_ref", ["/alice/sweep", "/alice/nothing-here", "/bob", "not-an-id"])
def test_bulk_delete_below_a_folder_the_caller_cannot_see_is_404(folder_ref, sweep, bob, api):
    response = api(bob).post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": _millis(CUTOFF), "folder": folder_ref}, format="json"
    )
    assert response.status_code == (200 if folder_ref == "/bob" else 404)
    assert _live(sweep["inside"], sweep["outside"]) == [True, True]


def test_bulk_restore_has_the_same_shape(sweep, alice, api):
    client = api(alice)
    for run in (sweep["inside"], sweep["outside"]):
        trash.trash_node(node=run.node, by=alice)
    since = _millis(timedelta(minutes=5))
    unknown = client.post("/api/v1/runs/bulk-restore", {"min_timestamp_millis": since, "folder_path": "/alice/sweep"})
    bare = client.post("/api/v1/runs/bulk-restore", {"min_timestamp_millis": since}, format="json")
    assert (unknown.status_code, bare.status_code) == (400, 400)
    assert _live(sweep["inside"], sweep["outside"]) == [False, False]
    one = client.post("/api/v1/runs/bulk-restore", {"min_timestamp_millis": since, "folder": "/alice/sweep"})
    assert one.json() == {"restored": 1}
    assert _live(sweep["inside"], sweep["outside"]) == [True, False]
    rest = client.post("/api/v1/runs/bulk-restore", {"min_timestamp_millis": since, "everywhere": True}, format="json")
    assert rest.json() == {"restored": 1}
    assert _live(sweep["inside"], sweep["outside"]) == [True, True]


# Every endpoint that writes (and the reads that take a body or narrow an export), each with a request it
# would accept, to which one unknown key is added: (method, address, body or query, where the key goes).
def _requests(world: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any], str]]:
    home, run, spare = world["home"], world["run"], world["spare"]
    return {
        "create node": ("post", "/api/v1/nodes", {"parent": str(home.pk), "name": "n"}, "body"),
        "update node": ("patch", f"/api/v1/nodes/{home.pk}", {"name": "renamed"}, "body"),
        "move node": ("post", f"/api/v1/nodes/{spare.pk}/move", {"destination": str(home.pk)}, "body"),
        "share": ("post", f"/api/v1/nodes/{home.pk}/shares", {"type": "public", "level": "view"}, "body"),
        "start live run": ("post", "/api/v1/runs", {"parent": str(home.pk), "name": "live"}, "body"),
        "update run": ("patch", f"/api/v1/runs/{run.pk}", {"notes": "n"}, "body"),
        "set tag": ("put", f"/api/v1/runs/{run.pk}/tags/k", {"value": "v"}, "body"),
        "log metrics": (
            "post",
            f"/api/v1/runs/{run.pk}/metrics",
            {"metrics": {"train.loss": {"step": [1], "value": [0.5]}}},
            "body",
        ),
        "histories": ("post", "/api/v1/metrics/history", {"runs": [str(run.pk)], "keys": ["train.loss"]}, "body"),
        "compare": ("post", "/api/v1/runs/compare", {"runs": [str(run.pk), str(world["other"].pk)]}, "body"),
        "bulk delete": ("post", "/api/v1/runs/bulk-delete", {"max_timestamp_millis": 0, "everywhere": True}, "body"),
        "bulk restore": ("post", "/api/v1/runs/bulk-restore", {"min_timestamp_millis": 0, "everywhere": True}, "body"),
        "start upload": (
            "post",
            "/api/v1/uploads",
            {"kind": "Artifact", "parent": str(home.pk), "name": "a", "files": []},
            "body",
        ),
        "upload archive": ("post", "/api/v1/uploads/archive", {"parent": str(home.pk), "name": "z"}, "query"),
        "search": ("get", "/api/v1/runs", {"filter": ""}, "query"),
        "export": ("get", "/api/v1/runs/export.csv", {"filter": ""}, "query"),
    }


@pytest.fixture
def targets(alice) -> dict[str, Any]:
    home = folder(root(alice), "home")
    run = make_run(home, "run", status="Running")
    return {"home": home, "run": run, "other": make_run(home, "other"), "spare": folder(root(alice), "spare")}


@pytest.mark.parametrize(
    "name",
    [
        "create node",
        "update node",
        "move node",
        "share",
        "start live run",
        "update run",
        "set tag",
        "log metrics",
        "histories",
        "compare",
        "bulk delete",
        "bulk restore",
        "start upload",
        "upload archive",
        "search",
        "export",
    ],
)
def test_an_unknown_key_is_a_400_that_names_it(name, targets, alice, api):
    method, address, known, where = _requests(targets)[name]
    client = api(alice)
    if where == "query":
        response = getattr(client, method)(f"{address}?{urlencode({**known, 'folder_paht': '/alice/home'})}")
    else:
        response = getattr(client, method)(address, {**known, "folder_paht": "/alice/home"}, format="json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("folder_paht: Unknown field")
    assert Node.objects.filter(name__in=["n", "renamed", "live", "a", "z"]).count() == 0
    assert Node.objects.filter(deleted_at__isnull=False).count() == 0


def test_search_still_takes_its_pagination_and_format_parameters(targets, alice, api):
    client = api(alice)
    page = client.get("/api/v1/runs", {"folder": "/alice/home", "page": 1, "page_size": 1})
    assert page.status_code == 200, page.content[:300]
    assert page.json()["count"] == 2
    export = client.get("/api/v1/runs/export.csv", {"folder": "/alice/home", "format": "csv"})
    assert export.status_code == 200
