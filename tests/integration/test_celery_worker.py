"""Tasks through a real broker and worker: Redis carries them to a `celery worker` subprocess that works on
the test database, and the result comes back through Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.utils import timezone

from em.access import Level
from em.celery import app
from em.models import Node
from em.services import sharing, trash
from em.tasks import purge_expired_trash
from tests.factories import folder, root

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_worker_purges_expired_trash_and_a_rerun_finds_nothing(em_worker, make_user):
    alice = make_user("alice")
    make_user("bob")
    expired = folder(root(alice), "expired")
    child = folder(expired, "child")
    grandchild = folder(child, "grandchild")
    sharing.share(node=expired, to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    fresh = folder(root(alice), "fresh")
    kept_child = folder(fresh, "kept")
    live = folder(root(alice), "live")
    trash.trash_node(node=expired, by=alice)
    trash.trash_node(node=fresh, by=alice)
    long_ago = timezone.now() - settings.EM_TRASH_RETENTION - timedelta(days=1)
    Node.objects.subtree(expired.path).update(deleted_at=long_ago)
    fresh_deleted_at = Node.objects.get(pk=fresh.pk).deleted_at
    grants = expired.user_grants.count()
    assert grants == 1

    assert app.conf.task_always_eager is False
    result = purge_expired_trash.delay()
    assert isinstance(result, AsyncResult)
    assert type(result.backend).__name__ == "RedisBackend"
    purged = result.get(timeout=60)

    assert purged == 3 + grants  # three nodes and bob's grant on the expired folder
    assert result.status == "SUCCESS"
    output = em_worker.wait_for_output(f"{result.id}] succeeded")
    assert f"em.tasks.purge_expired_trash[{result.id}] succeeded" in output, output

    assert not Node.objects.filter(pk__in=[expired.pk, child.pk, grandchild.pk]).exists()
    kept = Node.objects.get(pk=fresh.pk)
    assert (kept.trashed, kept.deleted_at) == (True, fresh_deleted_at)
    assert Node.objects.get(pk=kept_child.pk).deleted_at == fresh_deleted_at
    assert Node.objects.get(pk=live.pk).deleted_at is None
    assert list(trash.trash_of(alice)) == [kept]

    again = purge_expired_trash.delay()
    assert again.get(timeout=60) == 0
    assert again.id != result.id
    assert Node.objects.filter(pk__in=[fresh.pk, kept_child.pk, live.pk, root(alice).pk]).count() == 4


def test_worker_answers_on_both_queues(em_worker):
    """The worker consumes `default` and `index`, the queues ARCHITECTURE.md scales out."""
    queues = app.control.inspect(destination=[em_worker.hostname], timeout=5).active_queues()
    assert queues is not None, em_worker.output()
    assert sorted(q["name"] for q in queues[em_worker.hostname]) == ["default", "index"]
