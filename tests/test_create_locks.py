"""What creating a node locks on PostgreSQL: its parent's place, not the tree.

A creator holds a shared lock on its parent and the parent's ancestors below the root
(`em.services.nodes.hold_place`); a move, rename, delete or restore locks the tree's root and, exclusively,
the nodes it changes and their parents (`lock_trees`). So a structural write in one folder never holds up
creators elsewhere in the tree, creators never hold up each other, and a create below a node being moved
or deleted waits for it and then lands where the node went (or not at all, if it went to the trash).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections, transaction

from em import errors
from em.models import Node
from em.services import nodes, paths
from em.services.trash import trash_node
from tests.factories import folder, root
from tests.test_concurrency import assert_is_a_tree, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 10  # seconds a blocked thread is given before the test calls it stuck


@contextmanager
def structural_write_holding(*held: Node) -> Iterator[None]:
    """A structural writer (as a move or delete would) holding its locks on `held` in another connection
    until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                nodes.lock_trees(*[Node.objects.get(pk=n.pk) for n in held])
                locked.set()
                release.wait(WAIT * 2)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert locked.wait(WAIT), "the writer never got its locks"
    try:
        yield
    finally:
        release.set()
        thread.join(WAIT)


def in_thread(job: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = job()
        except Exception as exc:  # the test reads what the job met
            out["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_a_structural_write_in_one_folder_does_not_hold_up_creators_in_another(alice):
    busy = folder(root(alice), "busy")
    elsewhere = folder(folder(root(alice), "project"), "sweep")
    with structural_write_holding(busy):
        thread, out = in_thread(lambda: folder(Node.objects.get(pk=elsewhere.pk), "run-1", by=alice))
        thread.join(WAIT)
        assert not thread.is_alive(), "creating in another folder waited for the writer's lock on the tree"
    assert "error" not in out, out
    assert paths.display_path(out["result"]) == "/alice/project/sweep/run-1"


def test_a_create_below_a_node_a_writer_holds_waits_for_it(alice):
    moving = folder(root(alice), "moving")
    inner = folder(moving, "inner")
    target = folder(root(alice), "target")
    with structural_write_holding(moving, target):
        thread, out = in_thread(lambda: folder(Node.objects.get(pk=inner.pk), "new", by=alice))
        thread.join(1)
        assert thread.is_alive(), "a create below a node being moved did not wait for the move"
    thread.join(WAIT)
    assert "error" not in out, out
    assert paths.display_path(out["result"]) == "/alice/moving/inner/new"


def test_creates_racing_a_move_of_their_grandparent_all_follow_it(alice):
    moving = folder(root(alice), "moving")
    deep = folder(folder(moving, "x"), "y")
    target = folder(root(alice), "target")

    def create(i: int) -> Node:
        return folder(Node.objects.get(pk=deep.pk), f"n{i}", by=alice)

    def move() -> Node:
        return nodes.move_node(
            node=Node.objects.get(pk=moving.pk), destination=Node.objects.get(pk=target.pk), by=alice
        )

    results = race(*[lambda i=i: create(i) for i in range(3)], move, *[lambda i=i: create(i) for i in range(3, 6)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_is_a_tree()
    assert {paths.display_path(n) for n in Node.objects.filter(name__startswith="n")} == {
        f"/alice/target/moving/x/y/n{i}" for i in range(6)
    }


def test_a_create_racing_the_delete_of_its_folder_lands_in_the_trash_or_not_at_all(alice):
    doomed = folder(root(alice), "doomed")
    inner = folder(doomed, "inner")
    results = race(
        lambda: nodes.create_node(parent=Node.objects.get(pk=inner.pk), name="late", kind="Folder", by=alice),
        lambda: trash_node(node=Node.objects.get(pk=doomed.pk), by=alice),
    )
    created, trashed = results
    assert not isinstance(trashed, Exception), trashed
    if isinstance(created, Exception):
        assert isinstance(created, errors.NotFound), created
        assert not Node.objects.filter(name="late").exists()
    else:  # it came first: the delete took it along
        assert Node.objects.get(name="late").deleted_at == Node.objects.get(pk=doomed.pk).deleted_at
    assert_is_a_tree()


def test_many_creators_in_one_folder_all_land_with_unique_paths(alice):
    sweep = folder(root(alice), "sweep")
    results = race(*[lambda i=i: folder(Node.objects.get(pk=sweep.pk), f"run-{i}", by=alice) for i in range(16)])
    assert not [r for r in results if isinstance(r, Exception)], results
    children = Node.objects.filter(parent=sweep)
    assert children.count() == 16
    assert len({n.path for n in children}) == 16
    assert_is_a_tree()


def test_a_live_run_whose_name_is_taken_is_a_name_clash_and_the_callers_transaction_goes_on(alice):
    """`create_live_run` makes its node, run and params in `create_node`'s one atomic block
    (`create_node(then=...)`): that block's savepoint lets a caller inside a transaction catch the clash
    and go on."""
    from em.runs.services import create_live_run

    parent = root(alice)
    with transaction.atomic():
        create_live_run(parent=parent, name="taken", by=alice)
        with pytest.raises(errors.NameClash, match="/alice/taken already exists"):
            create_live_run(parent=parent, name="taken", by=alice)
        again = create_live_run(parent=parent, name="free", by=alice)
    assert sorted(Node.objects.filter(parent=parent).values_list("name", flat=True)) == ["free", "taken"]
    assert again.node.path.startswith(parent.path)


def test_a_creator_does_not_wait_for_another_still_open_in_the_same_folder(alice):
    """The first creator's transaction stays open holding its position; the second claims the next one
    at once (`_claim`) instead of inserting the same path and waiting for the first to commit."""
    sweep = folder(root(alice), "sweep")
    created, release = threading.Event(), threading.Event()

    def first() -> Node:
        with transaction.atomic():
            node = folder(Node.objects.get(pk=sweep.pk), "first", by=alice)
            created.set()
            release.wait(WAIT * 2)
        return node

    holder, held = in_thread(first)
    assert created.wait(WAIT), "the first creator never created"
    try:
        thread, out = in_thread(lambda: folder(Node.objects.get(pk=sweep.pk), "second", by=alice))
        thread.join(WAIT)
        assert not thread.is_alive(), "the second creator waited for the first one's open transaction"
    finally:
        release.set()
        holder.join(WAIT)
    assert "error" not in out and "error" not in held, (out, held)
    assert out["result"].path != held["result"].path
    assert_is_a_tree()


def test_one_transaction_creating_more_nodes_than_it_may_claim_lands_them_all(alice):
    sweep = folder(root(alice), "sweep")
    count = nodes.CLAIMS_PER_TRANSACTION + 8
    with transaction.atomic():
        for i in range(count):
            folder(Node.objects.get(pk=sweep.pk), f"n{i}", by=alice)
    children = Node.objects.filter(parent=sweep)
    assert children.count() == count and len({n.path for n in children}) == count
    assert_is_a_tree()
