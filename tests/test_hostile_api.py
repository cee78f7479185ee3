"""Every writing endpoint, every field, every query parameter and path segment, fed hostile input:
NUL, lone surrogates, huge numbers, NaN and infinities, nesting past the recursion limit, wrong JSON
types, oversized strings. The answer is never a 5xx, and every refusal is the API's error shape.

What a write accepted is then read back through every read endpoint (detail, history, log, search,
export, children, shares), since stored hostile data may only break the reader. Run on SQLite and on
PostgreSQL: NUL and lone surrogates fail only on the latter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from em.access import Level
from em.models import Kind, MetricSeries, Node, Run, Upload
from em.services import sharing
from tests.factories import folder, root
from tests.hostile_requests import HOSTILE_QUERY, fill, mutations, send, to_json
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db

BLOB = b"abc"
SHA = hashlib.sha256(BLOB).hexdigest()
HEX36 = "0" * 36


@dataclass
class World:
    alice: Any
    bob: Any
    client: APIClient
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(alice: Any, bob: Any, api: Callable[..., APIClient]) -> World:
    f = folder(root(alice), "f")
    g = folder(root(alice), "g")
    h = folder(f, "h")
    live = make_run(f, "live", status="Running", hparams={"lr": 0.1}, series={"train.loss": [1.0, 0.5]})
    done = make_run(f, "done", tags={"t": "v"})
    sharing.share(node=f, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    group = account_services.create_group(name="team", by=alice)
    key, _ = account_services.create_key(user=alice, name="k", scope="read")
    client = api(alice)
    put = client.put(f"/api/v1/blobs/{SHA}", BLOB, content_type="application/octet-stream")
    assert put.status_code in (200, 201), put.content
    start = client.post(
        "/api/v1/uploads",
        {"kind": "Run", "parent": str(f.pk), "name": "files", "files": [_file()]},
        format="json",
    )
    upload_id = start.json()["id"]
    files = client.post(f"/api/v1/uploads/{upload_id}/commit").json()["node"]["id"]
    ids = {"f": f.pk, "g": g.pk, "h": h.pk, "live": live.node_id, "done": done.node_id, "files": files}
    ids |= {"group": group.pk, "key": key.pk}
    return World(alice, bob, client, {name: str(value) for name, value in ids.items()})


def _file(**fields: Any) -> dict[str, Any]:
    return {"path": "a/b.txt", "size": len(BLOB), "sha256": SHA, "mtime": "2026-01-01T00:00:00Z", **fields}


# name: (method, url, valid body); `{f}` etc. are filled from World.ids.
WRITES: dict[str, tuple[str, str, Any]] = {
    "create node": (
        "POST",
        "nodes",
        {"parent": "{f}", "name": "n", "kind": "Folder", "labels": ["l"], "description": "d", "extra": {"k": "v"}},
    ),
    "create node by path": ("POST", "nodes", {"parent_path": "/alice/f", "name": "n2"}),
    "create shortcut": ("POST", "nodes", {"parent": "{g}", "name": "s", "kind": "Shortcut", "target": "{done}"}),
    "update node": ("PATCH", "nodes/{h}", {"name": "h2", "labels": ["l"], "description": "d", "extra": {"k": [1]}}),
    "move node": ("POST", "nodes/{h}/move", {"destination": "{g}", "name": "moved"}),
    "move node by path": ("POST", "nodes/{h}/move", {"destination_path": "/alice/g"}),
    "share": ("POST", "nodes/{g}/shares", {"type": "user", "name": "bob", "level": "view"}),
    "start live run": (
        "POST",
        "runs",
        {
            "parent": "{f}",
            "name": "r",
            "make_folder": False,
            "hparams": {"lr": 0.1, "opt": {"name": "adam"}},
            "labels": ["x"],
            "description": "d",
        },
    ),
    "start live run by path": ("POST", "runs", {"parent_path": "/alice/f/new", "make_folder": True, "name": "r2"}),
    "update run": ("PATCH", "runs/{live}", {"notes": "n", "status": "Complete", "ended_at": "2026-01-01T00:00:00Z"}),
    "set tag": ("PUT", "runs/{live}/tags/k", {"value": "v"}),
    "log metrics": (
        "POST",
        "runs/{live}/metrics",
        {"metrics": {"train.loss": {"step": [7], "value": [0.25], "epoch": [1], "timestamp": [1.7e9]}}},
    ),
    "compare": ("POST", "runs/compare", {"runs": ["{live}", "{done}"]}),
    "history": ("POST", "metrics/history", {"runs": ["{live}"], "keys": ["train.loss"], "max_points": 10, "x": "step"}),
    "bulk delete": ("POST", "runs/bulk-delete", {"folder": "{g}", "max_timestamp_millis": 0, "max_runs": 1}),
    "bulk restore": ("POST", "runs/bulk-restore", {"folder": "{g}", "min_timestamp_millis": 0, "max_runs": 1}),
    "upload": (
        "POST",
        "uploads",
        {
            "kind": "Run",
            "parent": "{f}",
            "name": "up",
            "conflict_strategy": "new",
            "metadata": {"labels": ["a"], "description": "d"},
            "lineage": {"input": ["/alice/f/done"], "output": ["{done}"]},
            "files": [_file()],
        },
    ),
    "upload by path": (
        "POST",
        "uploads",
        {"kind": "Artifact", "parent_path": "/alice/f/made", "make_folder": True, "name": "a", "files": [_file()]},
    ),
    "create key": ("POST", "keys", {"name": "k2", "scope": "read", "expires_at": "2030-01-01T00:00:00Z"}),
    "create group": ("POST", "groups", {"name": "team2"}),
    "add member": ("POST", "groups/{group}/members", {"username": "bob"}),
    "add manager": ("POST", "groups/{group}/managers", {"username": "bob"}),
}

# name: (method, url, parameters)
QUERIES: dict[str, tuple[str, str, list[str]]] = {
    "children": ("GET", "nodes/{f}/children", ["ordering", "kind", "page", "page_size"]),
    "resolve": ("GET", "nodes/resolve", ["path"]),
    "shared with me": ("GET", "shared-with-me", ["page", "page_size"]),
    "public": ("GET", "public", ["page", "page_size"]),
    "trash": ("GET", "trash", ["page", "page_size"]),
    "search": ("GET", "runs", ["filter", "folder", "folder_path", "order_by", "page", "page_size"]),
    "export": ("GET", "runs/export.csv", ["filter", "folder", "folder_path", "order_by"]),
    "metric history": ("GET", "runs/{live}/metrics/train.loss", ["max_points", "x"]),
    "log": ("GET", "runs/{done}/log", ["offset", "limit", "q"]),
    "archive upload": (
        "POST",
        "uploads/archive",
        ["parent", "parent_path", "make_folder", "name", "kind", "conflict_strategy"],
    ),
}

# (method, url with `{x}` where the hostile segment goes)
SEGMENTS: list[tuple[str, str]] = [
    ("DELETE", "nodes/{f}/shares/user/{x}"),
    ("DELETE", "nodes/{f}/shares/group/{x}"),
    ("PUT", "runs/{live}/tags/{x}"),
    ("DELETE", "runs/{live}/tags/{x}"),
    ("GET", "runs/{live}/metrics/{x}"),
    ("GET", "runs/{live}/metrics/train.{x}"),
    ("GET", "nodes/{files}/files/{x}"),
    ("GET", "nodes/{files}/files/a/{x}"),
    ("DELETE", "groups/{group}/members/{x}"),
    ("DELETE", "groups/{group}/managers/{x}"),
]


def _read_everything(world: World) -> list[str]:
    """Every read endpoint over everything alice has now, as alice and as bob (who sees `f`)."""
    problems = []
    urls = ["trash", "public", "me", "keys", "groups", f"groups/{world.ids['group']}", "runs", "runs/export.csv"]
    for node in Node.objects.filter(owner=world.alice):
        urls += [f"nodes/{node.pk}", f"nodes/{node.pk}/children", f"nodes/{node.pk}/shares", f"runs?folder={node.pk}"]
        if node.kind in (Kind.RUN, Kind.ARTIFACT):
            urls += [f"nodes/{node.pk}/files", f"nodes/{node.pk}/archive.zip"]
    for run in Run.objects.filter(node__owner=world.alice):
        urls += [f"runs/{run.node_id}", f"runs/{run.node_id}/log"]
        for key in MetricSeries.objects.filter(run=run).values_list("key", flat=True):
            urls += [f"runs/{run.node_id}/metrics/{key}", f"runs/{run.node_id}/metrics/{key}?x=timestamp"]
    bob = APIClient()
    bob.force_login(world.bob)
    for client in (world.client, bob):
        for url in urls:
            outcome = send(client, "GET", f"/api/v1/{url}")
            if outcome.problem:
                problems.append(f"read GET {url}: {outcome.problem}")
    return problems


@pytest.mark.parametrize("name", list(WRITES))
def test_hostile_bodies_never_answer_500(name: str, world: World) -> None:
    method, url, body = WRITES[name]
    url, body = f"/api/v1/{fill(url, world.ids)}", fill(body, world.ids)
    problems = []
    for case, mutated in mutations(body):
        outcome = send(world.client, method, url, to_json(mutated))
        if outcome.problem:
            problems.append(f"{method} {url} {case}: {outcome.problem}")
        elif name.startswith("upload") and outcome.status == 201:
            commit = send(world.client, "POST", f"/api/v1/uploads/{_last_upload(world)}/commit")
            if commit.problem:
                problems.append(f"commit after {case}: {commit.problem}")
    problems += _read_everything(world)
    assert problems == [], "\n".join(problems[:40]) + f"\n({len(problems)} in all)"


def _last_upload(world: World) -> str:
    return str(Upload.objects.filter(user=world.alice).latest("created_at").pk)


@pytest.mark.parametrize("name", list(QUERIES))
def test_hostile_query_parameters_never_answer_500(name: str, world: World) -> None:
    method, url, parameters = QUERIES[name]
    url = f"/api/v1/{fill(url, world.ids)}"
    problems = []
    for parameter in parameters:
        for case, value in HOSTILE_QUERY.items():
            outcome = send(world.client, method, f"{url}?{parameter}={value}")
            if outcome.problem:
                problems.append(f"{method} {url} ?{parameter}= {case}: {outcome.problem}")
    assert problems == [], "\n".join(problems)


def test_hostile_path_segments_never_answer_500(world: World) -> None:
    problems = []
    for method, template in SEGMENTS:
        for case, value in HOSTILE_QUERY.items():
            if not value:
                continue
            url = "/api/v1/" + template.format(**world.ids, x=value)
            body = to_json({"value": "v"}) if method == "PUT" else None
            outcome = send(world.client, method, url, body)
            if outcome.problem:
                problems.append(f"{method} {template} {case}: {outcome.problem}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    "url",
    [f"nodes/{'a' * 36}/shares/user/bob", f"nodes/{'-' * 36}/shares/group/team", f"nodes/{HEX36}/shares/user/bob"],
)
def test_an_id_that_is_not_a_uuid_in_the_unshare_path_is_404(url: str, world: World) -> None:
    outcome = send(world.client, "DELETE", f"/api/v1/{url}")
    assert outcome.problem is None
    assert outcome.status == 404


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Content-Range", "bytes 0-99999999999999999999/99999999999999999999"),
        ("Content-Range", "bytes 99999999999999999997-99999999999999999999/99999999999999999999"),
        ("Content-Range", "bytes 0-2/3\x00"),
    ],
)
def test_hostile_content_range_never_answers_500(header: str, value: str, world: World) -> None:
    other = hashlib.sha256(b"xyz").hexdigest()
    response_problem = send(world.client, "PUT", f"/api/v1/blobs/{other}", None, **{header: value}).problem
    assert response_problem is None


@pytest.mark.parametrize("value", ["bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes=0-0,1-1"])
def test_hostile_range_never_answers_500(value: str, world: World) -> None:
    assert (
        send(world.client, "GET", f"/api/v1/nodes/{world.ids['files']}/files/a/b.txt", None, Range=value).problem
        is None
    )
