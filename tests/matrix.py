"""The permission matrix's machinery: one world of owners, sharers and outsiders, the callers of
ARCHITECTURE.md §7, and a generic check that runs any endpoint as any caller (NetBox's API test mixins,
as data). The test modules hold only the data: per endpoint, how to call it and what each caller gets.

The world is built once per module inside an outer transaction; every test runs inside its own
savepoint (pytest-django's), so a write is undone before the next test and reads share the world.
Every subject sits four levels below the folder its grants were made on, so each allowed answer is an
inherited one. A refused request must leave the whole database exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ApiKey
from em.access import Level
from em.models import (
    BlobOwner,
    MetricSeries,
    Node,
    NodeGroupObjectPermission,
    NodeUserObjectPermission,
    Run,
    Tag,
    Upload,
)
from em.services import sharing, trash
from em.services.paths import display_paths
from tests.factories import UserFactory, chain, folder, root
from tests.run_helpers import attach_files, make_run

# The callers: the seven of ARCHITECTURE.md §7 (`anonymous` with EM_PUBLIC_ANONYMOUS off), then an
# anonymous visitor with it on, the owner's read-only API key, and staff.
ROLES = (
    "owner",
    "editor",  # edit, granted to the user on the shared folder
    "viewer",  # view, granted to the user
    "member",  # edit, granted to a group the user belongs to
    "public",  # signed in, no grant: works on the tree shared with *public*
    "stranger",  # signed in, no grant: works on the shared tree, which it cannot see
    "anonymous",
    "anon_public",  # anonymous, EM_PUBLIC_ANONYMOUS on: works on the public tree
    "read_key",  # the owner's API key with the `read` scope
    "staff",
)
PUBLIC_SIDE = {"public", "anon_public"}
LEVEL = {"owner": "owner", "read_key": "owner", "staff": "owner", "editor": "edit", "member": "edit"}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}
LOG = b"".join(f"line {i}\n".encode() for i in range(1, 51))
FAR_FUTURE_MILLIS = 2**41
Expect = dict[str, int]


def expect(default: int, **overrides: int) -> Expect:
    """The status each caller gets: `default`, except those named."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, unknown
    return {role: overrides.get(role, default) for role in ROLES}


def reads(*, anonymous_public: bool = True) -> Expect:
    """A read of a node: everyone who can see it; 404 to the stranger; 401 without sign-in (or with
    EM_PUBLIC_ANONYMOUS on, 200 for endpoints that serve public nodes to anonymous visitors)."""
    return expect(200, stranger=404, anonymous=401, anon_public=200 if anonymous_public else 401)


def writes(status: int) -> Expect:
    """A write to a node: editors (by user or group), the owner and staff; 403 to viewers and a read key."""
    return expect(status, viewer=403, public=403, stranger=404, anonymous=401, anon_public=401, read_key=403)


def owner_only(status: int) -> Expect:
    """Sharing: the owner and staff; 403 to whoever else sees the node."""
    return expect(403, owner=status, staff=status, stranger=404, anonymous=401, anon_public=401)


def trash_entry(status: int) -> Expect:
    """A trashed node exists for its owner and staff only: 404 to everyone else, editors included."""
    return expect(404, owner=status, staff=status, anonymous=401, anon_public=401, read_key=403)


def signed_in(status: int, **overrides: int) -> Expect:
    """An endpoint about the caller themself (keys, groups, lists): any signed-in caller."""
    return expect(status, anonymous=401, anon_public=401, **overrides)


@dataclass
class Place:
    """One shared tree's contents, four levels below the folder shared: `base` and what it holds."""

    base: Node
    subject: Node  # a folder holding `inside`
    spare: Node  # a sibling folder: where moves go
    run: Run  # Running, with a metric, a tag and files
    other_run: Run
    binned: Node  # a folder in the owner's trash
    binned_run: Node  # a run in the owner's trash
    paths: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    users: dict[str, Any]
    team: Place  # below /owner/team: edit to editor and to group crew, view to viewer
    open: Place  # below /owner/open: view to public
    crew: Group
    read_key: str
    owner_key: ApiKey  # a write key of the owner's, to revoke
    upload_id: str  # an upload the owner started and may commit
    digest: str  # sha256 of LOG, a blob the owner sent

    def place(self, role: str) -> Place:
        return self.open if role in PUBLIC_SIDE else self.team

    def user(self, role: str) -> Any:
        return self.users.get("owner" if role == "read_key" else role)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        if role == "read_key":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.read_key}")
        elif self.user(role) is not None:
            client.force_login(self.user(role))
        return client


def _place(owner: Any, top: Node, prefix: str) -> Place:
    base = chain(top, 3, prefix=prefix)[-1]
    subject = folder(base, "subject", labels=["a"])
    folder(subject, "inside")
    long_ago = timezone.now() - timedelta(days=400)
    run = make_run(
        base, "run", status="Running", started_at=long_ago, series={"train.loss": [3.0, 2.0, 1.0]}, tags={"t": "1"}
    )
    attach_files(run.node, {"stdout.log": LOG, "data/x.bin": b"\x00\x01" * 64})
    other_run = make_run(base, "other-run", started_at=long_ago, series={"train.loss": [2.0]})
    binned, binned_run = folder(base, "binned"), make_run(base, "binned-run").node
    for node in (binned, binned_run):
        trash.trash_node(node=node, by=owner)
    place = Place(base, subject, folder(base, "spare"), run, other_run, binned, binned_run)
    shown = display_paths([base, subject, place.spare, run.node])
    place.paths = {"base": shown[base.pk], "subject": shown[subject.pk], "spare": shown[place.spare.pk]}
    place.paths["run"] = shown[run.node.pk]
    return place


def build_world() -> World:
    users = {name: UserFactory(username=name) for name in ("owner", "editor", "viewer", "member", "stranger")}
    users["public"] = UserFactory(username="passerby")
    users["staff"] = UserFactory(username="admin", is_staff=True)
    owner = users["owner"]
    crew = account_services.create_group(name="crew", by=owner)
    account_services.add_member(group=crew, username="member", by=owner)
    team, open_folder = folder(root(owner), "team"), folder(root(owner), "open")
    for node, kind, name, level in [
        (team, "user", "editor", Level.EDIT),
        (team, "user", "viewer", Level.VIEW),
        (team, "group", "crew", Level.EDIT),
        (open_folder, "public", None, Level.VIEW),
    ]:
        sharing.share(node=node, to=sharing.principal(kind, name), level=level, by=owner)
    _, read_key = account_services.create_key(user=owner, name="read", scope="read")
    owner_key, _ = account_services.create_key(user=owner, name="write", scope="write")
    world = World(users, _place(owner, team, "t"), _place(owner, open_folder, "o"), crew, read_key, owner_key, "", "")
    world.digest = hashlib.sha256(LOG).hexdigest()
    started = world.client("owner").post(
        "/api/v1/uploads",
        {
            "kind": "Artifact",
            "parent": str(world.team.base.pk),
            "name": "pending",
            "files": [{"path": "stdout.log", "size": len(LOG), "sha256": world.digest, "mtime": None}],
        },
        format="json",
    )
    assert started.status_code == 201, started.content
    world.upload_id = started.json()["id"]
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The world, in a transaction held open for the module and rolled back after it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def snapshot() -> tuple[Any, ...]:
    """Everything a request could change: nodes, runs, grants, uploads, blobs' owners, keys, groups."""
    return (
        list(Node.objects.order_by("pk").values_list("pk", "name", "parent_id", "path", "deleted_at", "labels")),
        list(Run.objects.order_by("pk").values_list("pk", "status", "notes", "ended_at")),
        list(Tag.objects.order_by("run_id", "key").values_list("run_id", "key", "value")),
        list(MetricSeries.objects.order_by("pk").values_list("pk", "count")),
        list(NodeUserObjectPermission.objects.order_by("pk").values_list("pk", "content_object_id")),
        list(NodeGroupObjectPermission.objects.order_by("pk").values_list("pk", "content_object_id")),
        list(Upload.objects.order_by("pk").values_list("pk", "state")),
        list(BlobOwner.objects.order_by("pk").values_list("blob_id", "user_id")),
        list(ApiKey.objects.order_by("pk").values_list("pk", "revoked_at")),
        list(Group.objects.order_by("pk").values_list("pk", "name", "user")),
    )


Call = Callable[[APIClient, Place, World, str], Any]
BodyCheck = Callable[[Any, str, Place, World], None]


@dataclass(frozen=True)
class Endpoint:
    call: Call
    statuses: Expect
    body: BodyCheck | None = None


def check(endpoint: Endpoint, role: str, world: World, settings: Any) -> None:
    """Call `endpoint` as `role`: the status it must get, the error shape (and nothing changed) when it
    is refused, and the endpoint's own body check when it is allowed."""
    settings.EM_PUBLIC_ANONYMOUS = role == "anon_public"
    expected = endpoint.statuses[role]
    place = world.place(role)
    client = world.client(role)
    before = snapshot() if expected >= 400 else None

    response = endpoint.call(client, place, world, role)

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        if response.request["REQUEST_METHOD"] != "HEAD":
            error = response.json()["error"]
            assert error["code"] == ERROR_CODES[expected], error
            assert error["message"]
        assert snapshot() == before, "a refused request changed something"
    elif endpoint.body is not None:
        endpoint.body(response, role, place, world)
