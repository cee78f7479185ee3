"""Nested runs (ARCHITECTURE.md §3 Nodes): a Run may hold child Runs, which move, share and go to the
trash with it — one by one and in bulk — and the run rows say which run a run is nested in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from em import errors
from em.access import Level
from em.models import Kind, Node
from em.runs import services as runs
from em.services import nodes, sharing, trash
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def nest(alice: Any) -> dict[str, Node]:
    exp = folder(root(alice), "exp")
    parent = make_run(exp, "parent").node
    child = make_run(parent, "child").node
    grandchild = make_run(child, "grandchild").node
    return {"exp": exp, "parent": parent, "child": child, "grandchild": grandchild}


def test_a_run_holds_runs_and_nothing_else(nest, alice):
    parent = nest["parent"]
    assert nest["grandchild"].path.startswith(parent.path)
    for kind in (Kind.FOLDER, Kind.ARTIFACT, Kind.SHORTCUT, Kind.AUTOTUNE):
        with pytest.raises(errors.InvalidInput, match="is a Run, not a folder") as refused:
            nodes.create_node(parent=parent, name=f"x-{kind}", kind=kind, by=alice, target=parent)
        assert refused.value.detail == {"holds": ["Run"]}
    artifact = folder(nest["exp"], "art", kind=Kind.ARTIFACT)
    with pytest.raises(errors.InvalidInput, match="not a folder"):
        folder(artifact, "inside", kind=Kind.RUN)


def test_runs_move_into_runs_but_folders_do_not(nest, alice):
    loose = make_run(nest["exp"], "loose").node
    moved = nodes.move_node(node=loose, destination=nest["child"], by=alice)
    assert moved.parent_id == nest["child"].pk and moved.depth == nest["child"].depth + 1
    with pytest.raises(errors.InvalidInput, match="not a folder"):
        nodes.move_node(node=folder(root(alice), "f"), destination=nest["parent"], by=alice)
    with pytest.raises(errors.InvalidMove):
        nodes.move_node(node=nest["parent"], destination=nest["grandchild"], by=alice)
    nodes.move_node(node=nest["parent"], destination=root(alice), by=alice)
    nest["grandchild"].refresh_from_db()
    assert nest["grandchild"].path.startswith(root(alice).path) and nest["grandchild"].depth == 3


def test_sharing_and_trash_cover_the_runs_inside(nest, alice, bob):
    sharing.share(node=nest["parent"], to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    assert runs.get_run(bob, nest["grandchild"].pk).node_id == nest["grandchild"].pk
    trash.trash_node(node=nest["parent"], by=alice)
    with pytest.raises(errors.NotFound):
        runs.get_run(alice, nest["grandchild"].pk)
    trash.restore_node(node=Node.objects.get(pk=nest["parent"].pk), by=alice)
    assert runs.get_run(alice, nest["grandchild"].pk)


def test_bulk_delete_and_restore_take_nested_runs_with_their_parent(nest, alice):
    future = int((timezone.now() + timedelta(days=1)).timestamp() * 1000)
    assert runs.bulk_delete(by=alice, max_timestamp_millis=future, folder=nest["exp"]) == 1  # the top run
    states = dict(Node.objects.filter(kind=Kind.RUN).values_list("name", "trashed"))
    assert states == {"parent": True, "child": False, "grandchild": False}
    assert not Node.objects.filter(kind=Kind.RUN, deleted_at__isnull=True).exists()
    assert runs.bulk_restore(by=alice, min_timestamp_millis=0, folder=nest["exp"]) == 1
    assert Node.objects.filter(kind=Kind.RUN, deleted_at__isnull=True, trashed=False).count() == 3


def test_run_rows_name_the_run_they_are_nested_in(nest, alice, api, django_assert_max_num_queries):
    client = api(alice)
    rows = {row["name"]: row for row in client.get("/api/v1/runs", {"folder": str(nest["exp"].pk)}).json()["results"]}
    assert rows["parent"]["parent_run"] is None
    assert rows["child"]["parent_run"] == str(nest["parent"].pk)
    assert rows["grandchild"]["parent_run"] == str(nest["child"].pk)
    assert client.get(f"/api/v1/runs/{nest['child'].pk}").json()["parent_run"] == str(nest["parent"].pk)
    query = {"folder": str(nest["exp"].pk)}
    with django_assert_max_num_queries(14) as few:
        client.get("/api/v1/runs", query)
    for i in range(20):
        make_run(nest["parent"], f"more-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):  # one query says which parents are runs
        assert len(client.get("/api/v1/runs", query).json()["results"]) == 23
