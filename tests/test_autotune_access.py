"""AutoTune's outbox (a committed search is enqueued once, a lost message is sent again by the sweep, a
search that never indexes ends failed) and who may do what on its endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from em.access import Level
from em.autotune import indexing
from em.models import IndexState, Run
from em.models.autotune import AutoTune, Trial
from em.services import sharing
from em.tasks import index_committed_autotune
from tests.autotune_helpers import autotune_node, example_search
from tests.factories import folder, root

pytestmark = pytest.mark.django_db


def test_a_commit_enqueues_a_pending_search_once(alice, private_storage, django_capture_on_commit_callbacks):
    node = autotune_node(root(alice), "search", example_search())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        index_committed_autotune(sender=None, node=node)
    assert len(callbacks) == 1  # sent (eagerly here), and so indexed
    row = AutoTune.objects.get(node=node)
    assert row.index_state == IndexState.INDEXED and row.index_requested_at is not None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        index_committed_autotune(sender=None, node=node)  # a repeated commit of an indexed search
    assert callbacks == []


def test_the_sweep_resends_stale_searches_and_fails_them_after_the_limit(alice, private_storage, settings):
    node = autotune_node(root(alice), "search", example_search())
    AutoTune.objects.filter(node=node).update(index_requested_at=timezone.now() - timedelta(hours=1))
    sent: list[list[str]] = []

    def publish(ids: list[str]) -> list[str]:
        sent.append(ids)
        return ids

    assert indexing.requeue(retry_after=timedelta(minutes=5), limit=10, publish=publish) == [str(node.pk)]
    assert indexing.requeue(retry_after=timedelta(minutes=5), limit=10, publish=publish) == []  # just sent
    AutoTune.objects.filter(node=node).update(
        index_requested_at=timezone.now() - timedelta(hours=1), index_requests=settings.EM_INDEX_MAX_REQUESTS
    )
    assert indexing.requeue(retry_after=timedelta(minutes=5), limit=10, publish=publish) == []
    row = AutoTune.objects.get(node=node)
    assert row.index_state == IndexState.FAILED and "never finished" in row.index_errors[0]["message"]
    assert sent == [[str(node.pk)], [], []]


def test_a_broker_that_sends_nothing_leaves_the_search_pending(alice, private_storage):
    node = autotune_node(root(alice), "search", example_search())
    assert indexing.requeue(retry_after=timedelta(0), limit=10, publish=lambda ids: []) == []
    row = AutoTune.objects.get(node=node)
    assert (row.index_state, row.index_requests) == (IndexState.PENDING, 0)


@pytest.fixture
def world(alice, bob, make_user, private_storage) -> dict[str, Any]:
    carol, dave = make_user("carol"), make_user("dave")
    team = folder(root(alice), "team")
    search = autotune_node(team, "search", example_search())
    indexing.index_autotune(search.pk)
    sharing.share(node=team, to=sharing.principal("user", "bob"), level=Level.EDIT, by=alice)
    sharing.share(node=team, to=sharing.principal("user", "carol"), level=Level.VIEW, by=alice)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "search": search}


READS = ["", "/trials", "/trials/4", "/charts"]
# who -> the status of a read, of promoting trial 4, and of adding a trial (refused: the search is files)
EXPECTED = {
    "alice": (200, 201, 409),
    "bob": (200, 201, 409),
    "carol": (200, 403, 403),
    "dave": (404, 404, 404),
    "anonymous": (401, 401, 401),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_who_may_do_what(who, world, api):
    client = api(None if who == "anonymous" else world[who])
    url = f"/api/v1/autotune/{world['search'].pk}"
    read, promote, write = EXPECTED[who]
    for path in READS:
        assert client.get(url + path).status_code == read, (who, path)
    assert client.post(url + "/trials/4/promote", {}, format="json").status_code == promote
    assert client.post(url + "/trials", {"id": 9}, format="json").status_code == write
    assert Trial.objects.filter(autotune_id=world["search"].pk).count() == 6
    assert Run.objects.count() == (1 if promote == 201 else 0)


def test_a_read_key_reads_but_cannot_write(world, key_client):
    client = key_client(world["alice"], scope="read")
    url = f"/api/v1/autotune/{world['search'].pk}"
    assert client.get(url + "/trials").status_code == 200
    assert client.post(url + "/trials/4/promote", {}, format="json").status_code == 403
    assert (
        client.post(
            "/api/v1/autotune", {"parent_path": "/alice", "name": "x", "profile": {}}, format="json"
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page_size": "-1"},
        {"filter": "(" * 500},
        {"order_by": "params.`"},
        {"colour": "red"},
        {"filter": "\x00"},
    ],
)
def test_hostile_trial_queries_never_answer_500(world, api, params):
    answer = api(world["alice"]).get(f"/api/v1/autotune/{world['search'].pk}/trials", params)
    assert answer.status_code < 500 and answer.json()  # a page_size out of range falls back to the default
