"""Celery tasks. Each takes plain values, calls a service, and is safe to retry.

Two kinds, by how a lost worker is survived (the numbers are in em/settings/base.py, CELERY_*):
`index_run` acknowledges late and is re-delivered by Redis within a minute when its worker dies; the
beat tasks may run long, so they acknowledge early and a lost one simply runs at its next beat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from em import errors
from em.autotune import indexing as autotune_indexing
from em.celery import app
from em.models import Kind, MetricSeries, Node
from em.models.autotune import AutoTune
from em.runs import indexing, metrics
from em.services import blobs
from em.services.trash import purge_expired
from em.services.uploads import node_committed

log = logging.getLogger(__name__)
BEAT_TIME_LIMIT = 60 * 60  # early-acked: no visibility timeout to stay under
REQUEUE_BATCH = 500  # runs one sweep sends at most; the next sweep, a minute later, takes the rest
_beat_task = partial(shared_task, acks_late=False, time_limit=BEAT_TIME_LIMIT, soft_time_limit=BEAT_TIME_LIMIT - 60)


@_beat_task(name="em.tasks.purge_expired_trash")
def purge_expired_trash() -> int:
    """Beat task: delete trash entries past the retention. Idempotent: a rerun finds nothing to do."""
    return purge_expired()


@_beat_task(name="em.tasks.collect_garbage")
def collect_garbage() -> dict[str, int]:
    """Beat task: free manifests and blobs nothing references any more (after a grace period, so an
    upload in flight keeps what it sent). Idempotent."""
    return blobs.collect_garbage()


@shared_task(name="em.tasks.index_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def index_run(node_id: str) -> dict[str, object]:
    """Index a run's bundle (queue `index`). Re-running it rewrites the same rows, so a re-delivery after
    a lost worker is harmless; a run deleted for good meanwhile has nothing left to index."""
    try:
        return dict(indexing.index_run(node_id))
    except errors.NotFound:
        return {"node": node_id, "state": "gone"}


@_beat_task(name="em.tasks.compact_metrics")
def compact_metrics() -> int:
    """Beat task: merge under-full metric chunks into full ones; the number of chunks rewritten."""
    rewritten = 0
    for series in MetricSeries.objects.filter(pk__in=metrics.series_to_compact()):
        rewritten += metrics.compact(series)
    return rewritten


@_beat_task(name="em.tasks.requeue_pending_runs")
def requeue_pending_runs() -> int:
    """Beat task: send again the runs still pending `EM_INDEX_RETRY_AFTER` after they were last sent (the
    broker was down at commit, or lost its data); the number sent."""
    sent = indexing.requeue(retry_after=settings.EM_INDEX_RETRY_AFTER, limit=REQUEUE_BATCH, publish=publish_index)
    return len(sent)


def publish_index(node_ids: Iterable[str], task: Any = None) -> list[str]:
    """Send `index_run` (or `task`) for each node; the ids sent. Never raises: a run whose message could not be sent
    stays pending, and the sweep sends it later. One connection attempt (refused at once; a silent host
    gives up after the 2 s socket connect timeout of the settings) and no publish retries, so a request
    that calls this never hangs on a broker outage."""
    wanted, sent = list(node_ids), []
    try:
        with app.connection_for_write() as connection:
            if not app.conf.task_always_eager:
                connection.ensure_connection(max_retries=0)  # one attempt: refused at once, else ≤ 2 s
            for node_id in wanted:
                (task or index_run).apply_async((node_id,), connection=connection, retry=False)
                sent.append(node_id)
    except Exception:  # the broker's error types vary by transport; all mean "not sent"
        log.warning("Indexing of %d node(s) not enqueued; the sweep will retry", len(wanted) - len(sent), exc_info=True)
    return sent


@receiver(node_committed, dispatch_uid="em.tasks.index_committed_run")
def index_committed_run(sender: Any, node: Node, **kwargs: Any) -> None:
    """A committed run upload — or a repeated commit of one still pending — is enqueued for indexing once
    its transaction is durable (never before: the worker must find the rows the commit wrote).

    The enqueue is recorded on the run in the same transaction, so a message that cannot be sent leaves
    a pending run the sweep finds; publishing never fails the commit.
    """
    if node.kind == Kind.RUN and indexing.requested(node.pk):
        transaction.on_commit(partial(publish_index, [str(node.pk)]))


@shared_task(name="em.tasks.index_autotune", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def index_autotune(node_id: str) -> dict[str, object]:
    """Index a search's bundle into its trials (queue `index`); idempotent like `index_run`."""
    try:
        return dict(autotune_indexing.index_autotune(node_id))
    except errors.NotFound:
        return {"node": node_id, "state": "gone"}


@_beat_task(name="em.tasks.requeue_pending_autotunes")
def requeue_pending_autotunes() -> int:
    """Beat task: send again the searches still pending `EM_INDEX_RETRY_AFTER` after they were last sent."""
    sent = autotune_indexing.requeue(
        retry_after=settings.EM_INDEX_RETRY_AFTER, limit=REQUEUE_BATCH, publish=publish_autotune_index
    )
    return len(sent)


def publish_autotune_index(node_ids: Iterable[str]) -> list[str]:
    """`publish_index` for searches: the ids sent; never raises (the sweep sends the rest later)."""
    return publish_index(node_ids, task=index_autotune)


@receiver(node_committed, dispatch_uid="em.tasks.index_committed_autotune")
def index_committed_autotune(sender: Any, node: Node, **kwargs: Any) -> None:
    """A committed AutoTune upload gets its pending row (in the commit's transaction) and is enqueued for
    indexing once that transaction is durable; a repeated commit of one still pending is enqueued again."""
    if node.kind != Kind.AUTOTUNE:
        return
    AutoTune.objects.get_or_create(node=node)
    if autotune_indexing.requested(node.pk):
        transaction.on_commit(partial(publish_autotune_index, [str(node.pk)]))
