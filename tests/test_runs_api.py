"""The run endpoints: who may call each, status and notes, tags, bulk delete and restore, the log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from em.access import Level
from em.models import Node, Run, RunStatus, Tag
from em.runs import services as run_services
from em.runs.log import MAX_LINE_CHARS, scan
from em.services import sharing, trash
from tests.factories import chain, folder, root
from tests.run_helpers import attach_files, make_run

pytestmark = pytest.mark.django_db

ROLES = ["owner", "editor", "viewer", "public", "stranger", "anonymous", "read_key"]
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
LOG = b"".join(f"line {i}{' ERROR' if i % 10 == 0 else ''}\n".encode() for i in range(1, 101))


@dataclass
class World:
    users: dict[str, Any]
    runs: dict[str, Run]  # "team" runs four levels below the shared folder, "open" ones under a public one
    spares: dict[str, Run]  # a second run beside each, for compare


@pytest.fixture
def world(make_user, make_group) -> World:
    owner = make_user("owner")
    users = {name: make_user(name) for name in ("editor", "viewer", "passerby", "stranger")}
    users["owner"], users["public"] = owner, users.pop("passerby")
    make_group("viewers", users["viewer"])
    team, open_folder = folder(root(owner), "team"), folder(root(owner), "open")
    sharing.share(node=team, to=sharing.principal("user", "editor"), level=Level.EDIT, by=owner)
    sharing.share(node=team, to=sharing.principal("group", "viewers"), level=Level.VIEW, by=owner)
    sharing.share(node=open_folder, to=sharing.principal("public"), level=Level.VIEW, by=owner)
    made, spares = {}, {}
    for name, top in (("team", team), ("open", open_folder)):
        parent = chain(top, 3, prefix=name)[-1]
        made[name] = make_run(
            parent, "subject", status=RunStatus.RUNNING, series={"train.loss": [3.0, 2.0, 1.0]}, tags={"t": "1"}
        )
        attach_files(made[name].node, {"stdout.log": LOG})
        spares[name] = make_run(parent, "spare", series={"train.loss": [2.0]})
    return World(users, made, spares)


def client_for(role: str, world: World, api, key_client) -> APIClient:
    if role == "anonymous":
        return api()
    if role == "read_key":
        return key_client(world.users["owner"], scope="read")
    return api(world.users[role])


def _long_ago(run: Run) -> int:
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=400))
    return int((timezone.now() - timedelta(days=300)).timestamp() * 1000)


Call = Callable[[APIClient, Run, Run], Any]
ENDPOINTS: dict[str, tuple[Call, list[int]]] = {
    "get run": (lambda c, r, s: c.get(f"/api/v1/runs/{r.pk}"), [200, 200, 200, 200, 404, 401, 200]),
    "edit notes": (
        lambda c, r, s: c.patch(f"/api/v1/runs/{r.pk}", {"notes": "n"}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "finish": (
        lambda c, r, s: c.patch(f"/api/v1/runs/{r.pk}", {"status": "Complete"}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "set tag": (
        lambda c, r, s: c.put(f"/api/v1/runs/{r.pk}/tags/best", {"value": "yes"}, format="json"),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "delete tag": (lambda c, r, s: c.delete(f"/api/v1/runs/{r.pk}/tags/t"), [204, 204, 403, 403, 404, 401, 403]),
    "log metrics": (
        lambda c, r, s: c.post(
            f"/api/v1/runs/{r.pk}/metrics", {"metrics": {"train.acc": {"step": [1], "value": [0.5]}}}, format="json"
        ),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "metric history": (
        lambda c, r, s: c.get(f"/api/v1/runs/{r.pk}/metrics/train.loss"),
        [200, 200, 200, 200, 404, 401, 200],
    ),
    "histories": (
        lambda c, r, s: c.post(
            "/api/v1/metrics/history", {"runs": [str(r.pk), str(s.pk)], "keys": ["train.loss"]}, format="json"
        ),
        [200, 200, 200, 200, 404, 401, 200],
    ),
    "log": (lambda c, r, s: c.get(f"/api/v1/runs/{r.pk}/log?limit=5"), [200, 200, 200, 200, 404, 401, 200]),
    "compare": (
        lambda c, r, s: c.post("/api/v1/runs/compare", {"runs": [str(r.pk), str(s.pk)]}, format="json"),
        [200, 200, 200, 200, 404, 401, 200],
    ),
    "create live run": (
        lambda c, r, s: c.post("/api/v1/runs", {"parent": str(r.node.parent_id), "name": "live"}, format="json"),
        [201, 201, 403, 403, 404, 401, 403],
    ),
    "bulk delete": (
        lambda c, r, s: c.post(
            "/api/v1/runs/bulk-delete",
            {"max_timestamp_millis": _long_ago(r), "folder": str(r.node.parent_id)},
            format="json",
        ),
        [200, 200, 403, 403, 404, 401, 403],
    ),
    "bulk restore": (
        lambda c, r, s: c.post(
            "/api/v1/runs/bulk-restore",
            {"min_timestamp_millis": 0, "folder": str(_trashed(r).parent_id)},
            format="json",
        ),
        [200, 200, 403, 403, 404, 401, 403],
    ),
}


def _trashed(run: Run) -> Node:
    return trash.trash_node(node=run.node, by=run.node.owner)


def _snapshot(run: Run) -> tuple[Any, ...]:
    fresh = Run.objects.select_related("node").get(pk=run.pk)
    tags = dict(Tag.objects.filter(run=run).values_list("key", "value"))
    series = list(fresh.metrics.order_by("key").values_list("key", "count"))
    siblings = Node.objects.filter(parent=run.node.parent_id).count()
    return (fresh.status, fresh.notes, fresh.node.deleted_at, tags, series, siblings)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(endpoint, role, world, api, key_client):
    call, statuses = ENDPOINTS[endpoint]
    expected = statuses[ROLES.index(role)]
    where = "open" if role == "public" else "team"
    run, spare = world.runs[where], world.spares[where]
    before = _snapshot(run) if expected >= 400 and endpoint != "bulk restore" else None

    response = call(client_for(role, world, api, key_client), run, spare)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["error"]["code"] == ERROR_CODES[expected]
        if before is not None:
            assert _snapshot(run) == before, "a refused request changed the run"
    elif endpoint == "get run":
        body = response.json()
        assert body["id"] == str(run.pk)
        assert body["run"]["status"] == "Running"
        assert body["metrics"]["train.loss"]["latest"] == 1.0
        assert body["tags"] == {"t": "1"}
    elif endpoint == "bulk delete":
        assert response.json() == {"deleted": 1}
    elif endpoint == "bulk restore":  # the trash entry is the owner's: an editor brings back none
        assert response.json() == {"restored": 0 if role == "editor" else 1}


@pytest.mark.parametrize(
    "call",
    [
        lambda c, r: c.get(f"/api/v1/runs/{r.pk}"),
        lambda c, r: c.patch(f"/api/v1/runs/{r.pk}", {"notes": "x"}, format="json"),
        lambda c, r: c.put(f"/api/v1/runs/{r.pk}/tags/k", {"value": "v"}, format="json"),
        lambda c, r: c.get(f"/api/v1/runs/{r.pk}/metrics/train.loss"),
        lambda c, r: c.post(
            f"/api/v1/runs/{r.pk}/metrics", {"metrics": {"a.b": {"step": [1], "value": [1]}}}, format="json"
        ),
        lambda c, r: c.get(f"/api/v1/runs/{r.pk}/log"),
    ],
)
def test_a_run_in_the_trash_is_not_found_even_by_its_owner(call, world, api):
    run = world.runs["team"]
    _trashed(run)
    response = call(api(world.users["owner"]), run)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_folder_is_not_a_run(world, api):
    team_folder = world.runs["team"].node.parent
    assert api(world.users["owner"]).get(f"/api/v1/runs/{team_folder.pk}").status_code == 404


def test_a_live_run_starts_running_with_its_hyperparameters(world, api):
    owner = world.users["owner"]
    response = api(owner).post(
        "/api/v1/runs",
        {"parent_path": "/owner/team", "name": "mnist", "hparams": {"lr": 0.1, "opt": {"name": "adam"}}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "Run" and body["path"] == "/owner/team/mnist"
    assert body["run"]["status"] == "Running" and body["run"]["started_at"]
    assert body["params"] == {"lr": "0.1", "opt.name": "adam"}
    assert body["hyperparameters"] == {"lr": 0.1, "opt": {"name": "adam"}}
    clash = api(owner).post("/api/v1/runs", {"parent_path": "/owner/team", "name": "mnist"}, format="json")
    assert clash.status_code == 409


def test_hyperparameters_must_be_plain_json(world, api):
    response = api(world.users["owner"]).post(
        "/api/v1/runs", {"parent_path": "/owner/team", "name": "x", "hparams": [1, 2]}, format="json"
    )
    assert response.status_code == 400
    assert not Node.objects.filter(name="x").exists()


def test_status_goes_from_running_to_an_end_state_once(world, api):
    client, run = api(world.users["editor"]), world.runs["team"]
    done = client.patch(f"/api/v1/runs/{run.pk}", {"status": "Killed"}, format="json")
    assert done.status_code == 200
    assert done.json()["run"]["status"] == "Killed"
    assert done.json()["run"]["ended_at"] is not None
    again = client.patch(f"/api/v1/runs/{run.pk}", {"status": "Complete"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    back = client.patch(f"/api/v1/runs/{run.pk}", {"status": "Running"}, format="json")
    assert back.status_code == 409
    assert Run.objects.get(pk=run.pk).status == RunStatus.KILLED
    assert Node.objects.get(pk=run.pk).editor == world.users["editor"]


def test_ending_a_run_keeps_the_end_time_given(world, api):
    run = world.runs["team"]
    end = run.started_at + timedelta(hours=2)
    response = api(world.users["owner"]).patch(
        f"/api/v1/runs/{run.pk}", {"status": "Error", "ended_at": end.isoformat()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["run"]["duration"] == 7200.0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "Done"}, 400),
        ({"status": "Running"}, 409),
        ({"ended_at": "2026-01-01T00:00:00Z"}, 400),
        ({"status": "Complete", "ended_at": "2000-01-01T00:00:00Z"}, 400),
        ({"notes": "x" * 50_001}, 400),
    ],
)
def test_bad_updates_change_nothing(body, status, world, api):
    run = world.runs["team"]
    before = _snapshot(run)
    response = api(world.users["owner"]).patch(f"/api/v1/runs/{run.pk}", body, format="json")
    assert response.status_code == status, response.content
    assert _snapshot(run) == before


def test_notes_of_the_longest_allowed_length_are_kept(world, api):
    run = world.runs["team"]
    response = api(world.users["owner"]).patch(f"/api/v1/runs/{run.pk}", {"notes": "é" * 50_000}, format="json")
    assert response.status_code == 200
    assert response.json()["notes"] == "é" * 50_000


def test_tags_can_be_edited_after_the_run_finished(world, api):
    client, run = api(world.users["editor"]), world.runs["team"]
    client.patch(f"/api/v1/runs/{run.pk}", {"status": "Complete"}, format="json")
    put = client.put(f"/api/v1/runs/{run.pk}/tags/review/by", {"value": "ann"}, format="json")
    assert put.status_code == 200
    assert put.json() == {"key": "review/by", "value": "ann"}
    assert client.put(f"/api/v1/runs/{run.pk}/tags/t", {"value": "2"}, format="json").status_code == 200
    assert client.get(f"/api/v1/runs/{run.pk}").json()["tags"] == {"review/by": "ann", "t": "2"}
    assert client.delete(f"/api/v1/runs/{run.pk}/tags/t").status_code == 204
    missing = client.delete(f"/api/v1/runs/{run.pk}/tags/t")
    assert missing.status_code == 404
    assert client.get(f"/api/v1/runs/{run.pk}").json()["tags"] == {"review/by": "ann"}


@pytest.mark.parametrize(
    ("key", "value"),
    [("k" * 251, "v"), ("bad\x07key", "v"), ("k", "v" * 5_001)],
)
def test_tag_limits(key, value, world, api):
    run = world.runs["team"]
    response = api(world.users["owner"]).put(f"/api/v1/runs/{run.pk}/tags/{key}", {"value": value}, format="json")
    assert response.status_code == 400, response.content
    assert dict(Tag.objects.filter(run=run).values_list("key", "value")) == {"t": "1"}


def test_tag_limits_are_inclusive(world, api):
    run = world.runs["team"]
    response = api(world.users["owner"]).put(f"/api/v1/runs/{run.pk}/tags/{'k' * 250}", {"value": "v" * 5_000})
    assert response.status_code == 200


def test_bulk_delete_trashes_each_old_run_as_its_own_entry_and_restore_brings_them_back(alice, api):
    home = folder(root(alice), "sweep")
    now = timezone.now()
    old = [make_run(home, f"old{i}", started_at=now - timedelta(days=10 + i)) for i in range(3)]
    new = make_run(home, "new", started_at=now)
    cutoff = int((now - timedelta(days=5)).timestamp() * 1000)
    client = api(alice)

    deleted = client.post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": cutoff, "everywhere": True}, format="json"
    )

    assert deleted.json() == {"deleted": 3}
    entries = set(trash.trash_of(alice).values_list("pk", flat=True))
    assert entries == {run.pk for run in old}
    assert Node.objects.get(pk=new.pk).deleted_at is None
    folder(home, "old0", kind="Run")  # takes the name of a deleted run meanwhile
    since = int((now - timedelta(minutes=1)).timestamp() * 1000)
    restored = client.post(
        "/api/v1/runs/bulk-restore", {"min_timestamp_millis": since, "folder": str(home.pk)}, format="json"
    )
    assert restored.json() == {"restored": 3}
    names = set(Node.objects.live().filter(parent=home).values_list("name", flat=True))
    assert names == {"old0", "old0 (2)", "old1", "old2", "new"}
    assert not trash.trash_of(alice).exists()


def test_bulk_delete_takes_at_most_max_runs_oldest_first(alice, api):
    home = folder(root(alice), "many")
    now = timezone.now()
    made = [make_run(home, f"r{i}", started_at=now - timedelta(hours=i)) for i in range(5)]
    client = api(alice)
    cutoff = int(now.timestamp() * 1000) + 1
    first = client.post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": cutoff, "max_runs": 2, "folder": "/alice/many"}
    )
    assert first.json() == {"deleted": 2}
    assert set(trash.trash_of(alice).values_list("name", flat=True)) == {"r4", "r3"}
    too_many = client.post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": cutoff, "max_runs": 10_001, "everywhere": True}
    )
    assert too_many.status_code == 400
    assert client.post("/api/v1/runs/bulk-delete", {"max_timestamp_millis": cutoff, "everywhere": True}).json() == {
        "deleted": 3
    }
    assert len(made) == trash.trash_of(alice).count()


def test_bulk_delete_caps_one_call_at_ten_thousand_runs(alice, api, monkeypatch):
    monkeypatch.setattr(run_services, "MAX_BULK_RUNS", 3)
    home = folder(root(alice), "capped")
    for i in range(4):
        make_run(home, f"r{i}")
    response = api(alice).post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": 2**41, "everywhere": True}, format="json"
    )
    assert response.json() == {"deleted": 3}


def test_bulk_delete_everywhere_stays_in_the_callers_tree(world, api):
    editor = world.users["editor"]
    response = api(editor).post(
        "/api/v1/runs/bulk-delete", {"max_timestamp_millis": 2**41, "everywhere": True}, format="json"
    )
    assert response.json() == {"deleted": 0}
    assert Node.objects.get(pk=world.runs["team"].pk).deleted_at is None


@pytest.mark.parametrize("millis", [-1, "soon", None, True])
def test_bulk_delete_needs_a_time(millis, alice, api):
    response = api(alice).post("/api/v1/runs/bulk-delete", {"max_timestamp_millis": millis}, format="json")
    assert response.status_code == 400


def test_log_pages_by_line(world, api):
    client, run = api(world.users["viewer"]), world.runs["team"]
    first = client.get(f"/api/v1/runs/{run.pk}/log?limit=3").json()
    assert first == {"lines": [[1, "line 1"], [2, "line 2"], [3, "line 3"]], "total": 100, "next_offset": 3}
    last = client.get(f"/api/v1/runs/{run.pk}/log?offset=98&limit=5").json()
    assert last == {"lines": [[99, "line 99"], [100, "line 100 ERROR"]], "total": 100, "next_offset": None}
    beyond = client.get(f"/api/v1/runs/{run.pk}/log?offset=500").json()
    assert beyond == {"lines": [], "total": 100, "next_offset": None}
    assert client.get(f"/api/v1/runs/{run.pk}/log?limit=0").status_code == 400
    assert client.get(f"/api/v1/runs/{run.pk}/log?offset=x").status_code == 400


def test_log_search_is_case_insensitive_and_keeps_line_numbers(world, api):
    client, run = api(world.users["viewer"]), world.runs["team"]
    page = client.get(f"/api/v1/runs/{run.pk}/log", {"q": "error", "offset": 1, "limit": 2}).json()
    assert page == {"lines": [[20, "line 20 ERROR"], [30, "line 30 ERROR"]], "total": 10, "next_offset": 3}


def test_a_run_without_a_log_has_an_empty_one(world, api):
    spare = world.spares["team"]
    assert api(world.users["owner"]).get(f"/api/v1/runs/{spare.pk}/log").json() == {
        "lines": [],
        "total": 0,
        "next_offset": None,
    }


def test_the_log_named_by_index_yaml_is_the_one_read(world, api):
    spare = world.spares["team"]
    attach_files(spare.node, {"index.yaml": b"log: ./console.txt\n", "console.txt": b"a\nb", "stdout.log": b"no\n"})
    body = api(world.users["owner"]).get(f"/api/v1/runs/{spare.pk}/log").json()
    assert body == {"lines": [[1, "a"], [2, "b"]], "total": 2, "next_offset": None}


class Chunks:
    """A stream that hands out small blocks, so lines straddle block boundaries."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.at = data, size, 0

    def read(self, _: int = -1) -> bytes:
        block = self.data[self.at : self.at + self.size]
        self.at += len(block)
        return block


def test_log_scan_across_blocks_with_crlf_unicode_and_an_overlong_line(monkeypatch):
    monkeypatch.setattr("em.runs.log.BLOCK_BYTES", 7)
    data = "héllo\r\n".encode() + b"x" * (MAX_LINE_CHARS * 5) + b"\nworld ERROR\nlast"
    page = scan(Chunks(data, 7), limit=10)  # type: ignore[arg-type]
    assert [n for n, _ in page.lines] == [1, 2, 3, 4]
    assert page.lines[0][1] == "héllo"
    assert len(page.lines[1][1]) == MAX_LINE_CHARS
    assert page.lines[2:] == [(3, "world ERROR"), (4, "last")]
    found = scan(Chunks(data, 7), q="ÉLLO")  # type: ignore[arg-type]
    assert found.lines == [(1, "héllo")] and found.total == 1


def test_log_of_a_file_of_many_blocks_streams(tmp_path):
    lines = 300_000
    data = b"".join(b"step %d loss %d\n" % (i, i % 97) for i in range(lines))
    path = tmp_path / "big.log"
    path.write_bytes(data)
    with path.open("rb") as stream:
        page = scan(stream, offset=lines - 2, limit=5)
    assert page.total == lines
    assert page.lines == [(n + 1, f"step {n} loss {n % 97}") for n in (lines - 2, lines - 1)]


def test_a_runs_detail_costs_the_same_however_much_it_holds(alice, api):
    home = folder(root(alice), "detail")
    small = make_run(home, "small", hparams={"a": 1}, series={"train.a": [1.0]}, tags={"a": "1"})
    big = make_run(
        home,
        "big",
        hparams={f"p{i}": i for i in range(30)},
        series={f"train.m{i}": [1.0, 2.0] for i in range(30)},
        tags={f"t{i}": "x" for i in range(30)},
    )
    client = api(alice)

    def count(run: Run) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/runs/{run.pk}").status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(big)


def test_a_live_run_can_make_its_folder(alice, api):
    response = api(alice).post(
        "/api/v1/runs",
        {"parent_path": "/alice/new/deeper", "make_folder": True, "name": "live", "hparams": {"lr": 0.1}},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["path"] == "/alice/new/deeper/live"
