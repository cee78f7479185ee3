"""Indexing a run: its bundle's files become the Run's fields, its Params and its metric series.

`index_run` reads and checks the whole bundle first, outside any transaction (parsing a million points
takes a second or two and holds no lock), then writes everything in one transaction with the Run row
locked. It is idempotent: the same bundle always yields the same rows. When the bundle has problems,
nothing indexed before changes; only the Run's `index_state`/`index_errors` record what is wrong.
Tags and notes are the user's and are never touched. If the node's files changed while the bundle was
being read (a newer upload), the older result is dropped: the newer upload queued its own indexing.

Indexing always ends: whatever goes wrong — a malformed file, a database refusal, a bug, the task's
soft time limit — the run ends `failed` with a readable error, never `pending` for good. A run whose
indexing message was lost (the broker down at commit, a worker killed) stays `pending` in the database,
which is the durable record: `requested` marks each enqueue, and `requeue` sends again the runs a
periodic sweep finds still pending (a transactional outbox whose outbox is the Run table).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypedDict
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from em import errors
from em.models import IndexState, Kind, ManifestEntry, Node, Param, Run
from em.runs.services import param_rows
from em.services import blobs

from . import metrics
from .bundle import NUL, Bundle, BundleError, load_bundle

log = logging.getLogger(__name__)
GATE_TIMEOUT = 120.0  # seconds a test gate may hold an index before giving up


class IndexOutcome(TypedDict):
    node: str
    state: str  # "indexed", "failed" or "superseded"
    params: int
    series: int
    points: int
    errors: list[dict[str, str]]


def index_run(node_id: UUID | str) -> IndexOutcome:
    """Index the bundle of the Run node `node_id`; NotFound when there is no such run.

    Any failure is recorded on the run (see the module doc); only a failure to record it propagates.
    """
    node = Node.objects.filter(pk=node_id, kind=Kind.RUN).first()
    if node is None:
        raise errors.NotFound("Run not found.")
    manifest_id = node.manifest_id
    try:
        return _index(node, manifest_id)
    except SoftTimeLimitExceeded:
        message = "indexing took longer than its time limit and was stopped (EM_TASK_TIME_LIMIT sets it)"
    except Exception as exc:
        log.exception("Indexing run %s failed", node.pk)
        message = f"indexing failed on the server ({type(exc).__name__}: {str(exc)[:500]})"
    return _fail(node, manifest_id, [{"file": "", "message": message}])


def _index(node: Node, manifest_id: int | None) -> IndexOutcome:
    _wait_at_test_gate()
    try:
        if manifest_id is None:
            raise BundleError([{"file": "", "message": "the run holds no files to index"}])
        files = blobs.manifest_files(node)
        bundle = load_bundle({path: entry.size for path, entry in files.items()}, _reader(files))
    except BundleError as exc:
        return _fail(node, manifest_id, exc.problems)
    with transaction.atomic():
        run = _locked_run(node)
        if Node.objects.filter(pk=node.pk).values_list("manifest_id", flat=True).first() != manifest_id:
            return _outcome(node, "superseded")
        params = _store(run, bundle)
    return _outcome(
        node,
        IndexState.INDEXED,
        params=params,
        series=len(bundle.metrics),
        points=sum(len(points) for points in bundle.metrics.values()),
    )


def _wait_at_test_gate() -> None:
    """Tests only (EM_TEST_INDEX_GATE unset in production): say the index started by creating
    `<gate>.started`, then wait while the file `<gate>` exists, so a test can kill a worker mid-index."""
    gate = settings.EM_TEST_INDEX_GATE
    if not gate:
        return
    Path(f"{gate}.started").touch()
    deadline = time.monotonic() + GATE_TIMEOUT
    while Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def requested(node_id: UUID | str) -> bool:
    """Record that indexing of the run is being enqueued now; False when the run is not pending (there is
    nothing to do, so a repeated commit of an indexed upload enqueues nothing)."""
    runs = Run.objects.filter(node_id=node_id, index_state=IndexState.PENDING)
    return bool(runs.update(index_requested_at=timezone.now()))


def requeue(*, retry_after: timedelta, limit: int, publish: Callable[[list[str]], list[str]]) -> list[str]:
    """Enqueue again, through `publish` (which answers the ids it could send), the pending runs last
    enqueued more than `retry_after` ago, oldest first, at most `limit`; the ids sent.

    Only a message actually sent counts as a request: a broker outage of any length costs no run its
    chances. A run re-sent `EM_INDEX_MAX_REQUESTS` times that is still pending ends `failed` with the
    reason instead. The rows stay locked until the sends are recorded, and rows another sweep holds are
    skipped, so two sweeps never send one run twice.
    """
    now = timezone.now()
    stale = Q(index_requested_at__lt=now - retry_after) | Q(index_requested_at__isnull=True)
    with transaction.atomic():
        due = Run.objects.select_for_update(skip_locked=True).filter(stale, index_state=IndexState.PENDING)
        due = due.filter(node__deleted_at__isnull=True).order_by(F("index_requested_at").asc(nulls_first=True))
        picked = list(due.values_list("pk", "index_requests")[:limit])
        spent = [pk for pk, requests in picked if requests >= settings.EM_INDEX_MAX_REQUESTS]
        if spent:
            message = (
                f"indexing was requested {settings.EM_INDEX_MAX_REQUESTS + 1} times and never finished "
                "(is a worker serving the `index` queue?); upload the run again to retry"
            )
            Run.objects.filter(pk__in=spent).update(
                index_state=IndexState.FAILED, index_errors=[{"file": "", "message": message}]
            )
        sent = publish([str(pk) for pk, requests in picked if requests < settings.EM_INDEX_MAX_REQUESTS])
        Run.objects.filter(node_id__in=sent).update(index_requested_at=now, index_requests=F("index_requests") + 1)
    return sent


def _reader(files: dict[str, ManifestEntry]) -> Any:
    def read(path: str, limit: int) -> bytes:
        # A blob the store cannot give back is recorded on the run like any unreadable file, so the run
        # does not wait in "pending" for ever; the cause (storage misconfigured, bytes lost) is in the text.
        try:
            with blobs.open_blob(files[path].blob_id) as stream:
                return stream.read(limit)
        except OSError as exc:
            raise errors.EMError(f"the blob store could not return this file ({exc.strerror or exc})") from exc

    return read


def _locked_run(node: Node) -> Run:
    Run.objects.get_or_create(node=node)
    return Run.objects.select_for_update().get(node=node)


def _store(run: Run, bundle: Bundle) -> int:
    """Write the bundle over the run's indexed fields, params and series; the number of params."""
    run.status = bundle.status
    run.started_at = bundle.started_at
    run.ended_at = bundle.ended_at
    run.alternative_name = bundle.alternative_name
    run.source_type = bundle.source_type
    run.source_name = bundle.source_name
    run.command = bundle.command
    run.hyperparameters = bundle.hyperparameters
    run.platform = bundle.platform
    run.git = bundle.git
    run.index_state = IndexState.INDEXED
    run.index_errors = []
    run.indexed_at = timezone.now()
    run.save()
    Param.objects.filter(run=run).delete()
    params = Param.objects.bulk_create(param_rows(run, bundle.hyperparameters))
    metrics.replace_all(run, bundle.metrics)
    return len(params)


def _fail(node: Node, manifest_id: int | None, problems: list[dict[str, str]]) -> IndexOutcome:
    """Record the problems on the run (creating its row if need be), unless newer files replaced these."""
    with transaction.atomic():
        run = _locked_run(node)
        if Node.objects.filter(pk=node.pk).values_list("manifest_id", flat=True).first() != manifest_id:
            return _outcome(node, "superseded")
        run.index_state = IndexState.FAILED
        run.index_errors = problems = [
            {key: text.replace(NUL, "\\0") for key, text in problem.items()} for problem in problems
        ]
        run.save(update_fields=["index_state", "index_errors"])
    return _outcome(node, IndexState.FAILED, problems=problems)


def _outcome(
    node: Node,
    state: str,
    *,
    params: int = 0,
    series: int = 0,
    points: int = 0,
    problems: list[dict[str, str]] | None = None,
) -> IndexOutcome:
    return IndexOutcome(
        node=str(node.pk), state=str(state), params=params, series=series, points=points, errors=problems or []
    )
