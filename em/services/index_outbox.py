"""The indexing outbox shared by runs and AutoTune searches: the row in state `pending` *is* the durable
request to index a node (a transactional outbox whose outbox is the table itself).

`mark_requested` stamps each enqueue in the commit's transaction; `requeue` is the periodic sweep that
sends again what is still pending long after it was last sent (the broker was down at commit, a message
was lost), and gives up with a reason after `EM_INDEX_MAX_REQUESTS` sends. `failure_message` is the one
wording of an indexing that broke, so every kind's run or search ends `failed` saying the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from em.models import IndexState


def mark_requested(model: Any, node_id: UUID | str) -> bool:
    """Record that indexing of the node is being enqueued now; False when its row is not pending (then
    there is nothing to do, so a repeated commit of an indexed upload enqueues nothing)."""
    rows = model.objects.filter(node_id=node_id, index_state=IndexState.PENDING)
    return bool(rows.update(index_requested_at=timezone.now()))


def requeue(
    model: Any,
    *,
    noun: str,
    retry_after: timedelta,
    limit: int,
    publish: Callable[[list[str]], list[str]],
    due: Q | None = None,
) -> list[str]:
    """Send again, through `publish` (which answers the ids it could send), the pending rows of `model`
    last enqueued more than `retry_after` ago, oldest first, at most `limit` (narrowed by `due`); the ids
    sent.

    Only a message actually sent counts as a request: a broker outage of any length costs no node its
    chances. A row re-sent `EM_INDEX_MAX_REQUESTS` times that is still pending ends `failed` with the
    reason instead. The rows stay locked until the sends are recorded, and rows another sweep holds are
    skipped, so two sweeps never send one node twice.
    """
    now = timezone.now()
    stale = Q(index_requested_at__lt=now - retry_after) | Q(index_requested_at__isnull=True)
    with transaction.atomic():
        rows = model.objects.select_for_update(skip_locked=True).filter(stale, index_state=IndexState.PENDING)
        rows = rows.filter(node__deleted_at__isnull=True)
        if due is not None:
            rows = rows.filter(due)
        ordered = rows.order_by(F("index_requested_at").asc(nulls_first=True))
        picked = list(ordered.values_list("pk", "index_requests")[:limit])
        spent = [pk for pk, requests in picked if requests >= settings.EM_INDEX_MAX_REQUESTS]
        if spent:
            message = (
                f"indexing was requested {settings.EM_INDEX_MAX_REQUESTS + 1} times and never finished "
                f"(is a worker serving the `index` queue?); upload the {noun} again to retry"
            )
            model.objects.filter(pk__in=spent).update(
                index_state=IndexState.FAILED, index_errors=[{"file": "", "message": message}]
            )
        sent = publish([str(pk) for pk, requests in picked if requests < settings.EM_INDEX_MAX_REQUESTS])
        model.objects.filter(node_id__in=sent).update(index_requested_at=now, index_requests=F("index_requests") + 1)
    return sent


def failure_message(exc: BaseException) -> str:
    """What a run or search records when its indexing broke for a reason no file explains."""
    if isinstance(exc, SoftTimeLimitExceeded):
        return "indexing took longer than its time limit and was stopped (EM_TASK_TIME_LIMIT sets it)"
    return f"indexing failed on the server ({type(exc).__name__}: {str(exc)[:500]})"
