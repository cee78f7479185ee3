"""Celery tasks. Each takes plain values, calls a service, and is safe to retry."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction
from django.dispatch import receiver

from em import errors
from em.models import Kind, MetricSeries, Node
from em.runs import indexing, metrics
from em.services import blobs
from em.services.trash import purge_expired
from em.services.uploads import node_committed


@shared_task(name="em.tasks.purge_expired_trash", acks_late=True)
def purge_expired_trash() -> int:
    """Beat task: delete trash entries past the retention. Idempotent: a rerun finds nothing to do."""
    return purge_expired()


@shared_task(name="em.tasks.collect_garbage", acks_late=True)
def collect_garbage() -> dict[str, int]:
    """Beat task: free manifests and blobs nothing references any more (after a grace period, so an
    upload in flight keeps what it sent). Idempotent."""
    return blobs.collect_garbage()


@shared_task(name="em.tasks.index_run", acks_late=True)
def index_run(node_id: str) -> dict[str, object]:
    """Index a run's bundle (queue `index`). Re-running it rewrites the same rows, so a retry after a
    lost worker is harmless; a run deleted for good meanwhile has nothing left to index."""
    try:
        return dict(indexing.index_run(node_id))
    except errors.NotFound:
        return {"node": node_id, "state": "gone"}


@shared_task(name="em.tasks.compact_metrics", acks_late=True)
def compact_metrics() -> int:
    """Beat task: merge under-full metric chunks into full ones; the number of chunks rewritten."""
    rewritten = 0
    for series in MetricSeries.objects.filter(pk__in=metrics.series_to_compact()):
        rewritten += metrics.compact(series)
    return rewritten


@receiver(node_committed, dispatch_uid="em.tasks.index_committed_run")
def index_committed_run(sender: Any, node: Node, **kwargs: Any) -> None:
    """A committed run upload is indexed once its transaction is durable (never before: the worker
    must find the rows the commit wrote)."""
    if node.kind == Kind.RUN:
        transaction.on_commit(partial(index_run.delay, str(node.pk)))
