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
from django.utils import timezone

from em import errors
from em.models import IndexState, Kind, ManifestEntry, Node, Param, Run
from em.runs.services import param_rows
from em.services import blobs, index_outbox

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
    except Exception as exc:  # SoftTimeLimitExceeded included: indexing always ends, saying why
        if not isinstance(exc, SoftTimeLimitExceeded):
            log.exception("Indexing run %s failed", node.pk)
        return _fail(node, manifest_id, [{"file": "", "message": index_outbox.failure_message(exc)}])


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
    """Record that indexing of the run is being enqueued now (em.services.index_outbox)."""
    return index_outbox.mark_requested(Run, node_id)


def requeue(*, retry_after: timedelta, limit: int, publish: Callable[[list[str]], list[str]]) -> list[str]:
    """The sweep: send again the runs still pending long after they were last sent (em.services.index_outbox)."""
    return index_outbox.requeue(Run, noun="run", retry_after=retry_after, limit=limit, publish=publish)


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
