"""Reads while folders move (issue 9: 133 of 918 reads of a run inside a folder being moved answered
500, a KeyError in `display_paths`). A read shows the tree before or after a move, never a mix, never
a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from em.models import Kind, Node
from em.services import nodes
from em.services.paths import display_paths
from tests.factories import folder, root

MOVES = 60
READS_PER_READER = 60


@pytest.fixture
def world(alice: Any) -> dict[str, Node]:
    a = folder(root(alice), "a")
    b = folder(root(alice), "b")
    moving = folder(a, "moving")
    inner = folder(moving, "inner")
    run = folder(inner, "run", kind=Kind.RUN)
    return {"a": a, "b": b, "moving": moving, "run": run}


@pytest.mark.django_db
def test_a_node_read_before_its_folder_moved_is_named_where_it_is_now(world: dict[str, Node], alice: Any) -> None:
    """The interleaving the race produces, step by step: read the run, a move commits, then name it."""
    stale = Node.objects.get(pk=world["run"].pk)
    nodes.move_node(node=world["moving"], destination=world["b"], by=alice)

    assert display_paths([stale]) == {stale.pk: "/alice/b/moving/inner/run"}


@pytest.mark.django_db
def test_a_stale_path_now_held_by_another_node_is_not_taken_for_it(world: dict[str, Node], alice: Any) -> None:
    """After the move, a new folder may take the moved folder's old path: the old path then names
    someone else, and the run must not be shown under that folder's name."""
    stale = Node.objects.get(pk=world["run"].pk)
    nodes.move_node(node=world["moving"], destination=world["b"], by=alice)
    impostor = folder(world["a"], "impostor")
    inner = folder(impostor, "inner2")
    folder(inner, "run2", kind=Kind.RUN)

    assert display_paths([stale]) == {stale.pk: "/alice/b/moving/inner/run"}


def _in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs at once, each in its own thread and database connection; what each returned or raised."""
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
        thread.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readers_racing_a_mover_never_meet_a_500(
    world: dict[str, Node], alice: Any, key_client: Callable[..., APIClient]
) -> None:
    run_id, moving = world["run"].pk, world["moving"]
    places = [world["b"], world["a"]]
    done = threading.Event()
    clients = [key_client(alice, "read"), key_client(alice, "write")]

    def mover() -> int:
        try:
            for i in range(MOVES):
                nodes.move_node(node=Node.objects.get(pk=moving.pk), destination=places[i % 2], by=alice)
            return MOVES
        finally:
            done.set()

    def reader(client: APIClient) -> list[tuple[int, str]]:
        seen = []
        for i in range(READS_PER_READER):
            url = f"/api/v1/nodes/{run_id}" if i % 2 else f"/api/v1/runs?folder_path=/alice/{'ab'[i % 4 // 2]}"
            response = client.get(url)
            seen.append((response.status_code, response.json().get("path", "") if i % 2 else ""))
        return seen

    results = _in_threads(mover, *(lambda c=c: reader(c) for c in clients))

    assert results[0] == MOVES, results[0]
    assert done.is_set()
    assert all(isinstance(seen, list) for seen in results[1:]), [repr(seen)[:300] for seen in results[1:]]
    answers = [answer for seen in results[1:] for answer in seen]
    assert {status for status, _ in answers} == {200}, sorted({status for status, _ in answers})
    shown = {path for status, path in answers if path}
    assert shown <= {"/alice/a/moving/inner/run", "/alice/b/moving/inner/run"}, shown
