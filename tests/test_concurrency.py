"""Concurrent structural writes on PostgreSQL: the tree stays a tree, paths stay unique.

Each thread has its own database connection; the services serialise per tree with row locks and
re-read positions under the lock, so racing moves cannot build a cycle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from em import errors, tree
from em.models import Node
from em.services import nodes, paths
from tests.factories import folder, root

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs at once, each in its own thread and connection; their results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # the test inspects what each thread met
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_is_a_tree() -> None:
    """Every node's path extends its parent's by one segment, and depths agree."""
    by_id = {n.pk: n for n in Node.objects.all()}
    for node in by_id.values():
        if node.parent_id is None:
            assert len(node.path) == tree.STEP
        else:
            parent = by_id[node.parent_id]
            assert node.path[: -tree.STEP] == parent.path, (node.name, node.path, parent.path)
            assert node.depth == parent.depth + 1
            assert node.owner_id == parent.owner_id


def test_crossed_moves_cannot_make_a_cycle(alice):
    a = folder(root(alice), "a")
    b = folder(root(alice), "b")
    results = race(
        lambda: nodes.move_node(node=Node.objects.get(pk=a.pk), destination=Node.objects.get(pk=b.pk), by=alice),
        lambda: nodes.move_node(node=Node.objects.get(pk=b.pk), destination=Node.objects.get(pk=a.pk), by=alice),
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], errors.InvalidMove), results
    assert_is_a_tree()


def test_concurrent_creates_in_one_folder_all_land_with_unique_paths(alice):
    parent = folder(root(alice), "busy")
    results = race(*[lambda i=i: folder(Node.objects.get(pk=parent.pk), f"child-{i}", by=alice) for i in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Node.objects.filter(parent=parent).count() == 8
    assert_is_a_tree()


def test_same_name_created_twice_at_once_lands_once(alice):
    parent = folder(root(alice), "busy")
    results = race(*[lambda: folder(Node.objects.get(pk=parent.pk), "same", by=alice) for _ in range(4)])
    assert sum(isinstance(r, errors.NameClash) for r in results) == 3, results
    assert Node.objects.filter(parent=parent, name="same").count() == 1


def test_create_inside_a_folder_being_moved_follows_the_move(alice):
    moving = folder(root(alice), "moving")
    deep = folder(folder(moving, "x"), "y")
    target = folder(root(alice), "target")
    results = race(
        lambda: nodes.move_node(
            node=Node.objects.get(pk=moving.pk), destination=Node.objects.get(pk=target.pk), by=alice
        ),
        *[lambda i=i: folder(Node.objects.get(pk=deep.pk), f"new-{i}", by=alice) for i in range(4)],
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_is_a_tree()
    new = Node.objects.filter(name="new-0").get()
    assert paths.display_path(new) == "/alice/target/moving/x/y/new-0"
    assert connection.vendor == "postgresql"
