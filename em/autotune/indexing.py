"""Indexing a search: its bundle's files become the AutoTune row and its trials.

The same shape as run indexing (em/runs/indexing.py): the whole bundle is read and checked outside any
transaction, then the profile and every trial are written in one transaction with the AutoTune row
locked, so readers see the old trials or the new ones, never a mix. Re-indexing the same files yields
the same rows. A bundle with problems changes nothing that was indexed before; only `index_state` and
`index_errors` (one entry per file) say what is wrong. Indexing always ends: any failure, the soft time
limit included, ends `failed` with a readable reason. The AutoTune table is its own outbox: `requested`
marks each enqueue, `requeue` sends again the searches a sweep finds still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypedDict
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from em import errors
from em.models import IndexState, Kind, Node
from em.models.autotune import AutoTune
from em.services import blobs, index_outbox

from .bundle import Bundle, BundleError, load_bundle
from .services import replace_trials, write_profile

log = logging.getLogger(__name__)


class IndexOutcome(TypedDict):
    node: str
    state: str  # "indexed", "failed" or "superseded"
    trials: int
    points: int
    errors: list[dict[str, str]]


def index_autotune(node_id: UUID | str) -> IndexOutcome:
    """Index the files of the AutoTune node `node_id`; NotFound when there is no such search."""
    node = Node.objects.filter(pk=node_id, kind=Kind.AUTOTUNE).first()
    if node is None:
        raise errors.NotFound("AutoTune not found.")
    manifest_id = node.manifest_id
    try:
        return _index(node, manifest_id)
    except Exception as exc:  # SoftTimeLimitExceeded included: indexing always ends, saying why
        if not isinstance(exc, SoftTimeLimitExceeded):
            log.exception("Indexing AutoTune %s failed", node.pk)
        return _fail(node, manifest_id, [{"file": "", "message": index_outbox.failure_message(exc)}])


def _index(node: Node, manifest_id: int | None) -> IndexOutcome:
    try:
        if manifest_id is None:
            raise BundleError([{"file": "", "message": "the search holds no files to index"}])
        files = blobs.manifest_files(node)
        bundle = load_bundle({path: entry.size for path, entry in files.items()}, _reader(files))
    except BundleError as exc:
        return _fail(node, manifest_id, exc.problems)
    with transaction.atomic():
        autotune = _locked(node)
        if _manifest_changed(node, manifest_id):
            return _outcome(node, "superseded")
        _store(autotune, bundle)
    points = sum(len(trial.steps) for trial in bundle.trials)
    return _outcome(node, IndexState.INDEXED, trials=len(bundle.trials), points=points)


def _store(autotune: AutoTune, bundle: Bundle) -> None:
    write_profile(autotune, bundle.profile)
    autotune.index_state = IndexState.INDEXED
    autotune.index_errors = []
    autotune.indexed_at = timezone.now()
    autotune.save()
    replace_trials(autotune, bundle.trials)


def requested(node_id: UUID | str) -> bool:
    """Record that indexing of the search is being enqueued now (em.services.index_outbox)."""
    return index_outbox.mark_requested(AutoTune, node_id)


def requeue(*, retry_after: timedelta, limit: int, publish: Callable[[list[str]], list[str]]) -> list[str]:
    """The sweep: send again the searches still pending long after they were last sent (em.services.index_outbox)."""
    return index_outbox.requeue(
        AutoTune,
        noun="search",
        retry_after=retry_after,
        limit=limit,
        publish=publish,
        due=Q(node__manifest__isnull=False),
    )


def _reader(files: dict[str, blobs.ManifestEntry]) -> Callable[[str, int], bytes]:
    def read(path: str, limit: int) -> bytes:
        try:
            with default_storage.open(files[path].blob.storage_name, "rb") as stream:  # blob loaded with the entry
                return stream.read(limit)
        except OSError as exc:
            raise BundleError(
                [{"file": path, "message": f"the blob store could not return this file ({exc.strerror or exc})"}]
            ) from exc

    return read


def _locked(node: Node) -> AutoTune:
    AutoTune.objects.get_or_create(node=node)
    return AutoTune.objects.select_for_update().get(node=node)


def _manifest_changed(node: Node, manifest_id: int | None) -> bool:
    return Node.objects.filter(pk=node.pk).values_list("manifest_id", flat=True).first() != manifest_id


def _fail(node: Node, manifest_id: int | None, problems: list[dict[str, str]]) -> IndexOutcome:
    """Record the problems (creating the row if need be), unless newer files replaced these."""
    with transaction.atomic():
        autotune = _locked(node)
        if _manifest_changed(node, manifest_id):
            return _outcome(node, "superseded")
        autotune.index_state = IndexState.FAILED
        autotune.index_errors = problems = [
            {key: text.replace("\x00", "\\0") for key, text in problem.items()} for problem in problems
        ]
        autotune.save(update_fields=["index_state", "index_errors"])
    return _outcome(node, IndexState.FAILED, problems=problems)


def _outcome(
    node: Node, state: str, *, trials: int = 0, points: int = 0, problems: list[dict[str, str]] | None = None
) -> IndexOutcome:
    return IndexOutcome(node=str(node.pk), state=str(state), trials=trials, points=points, errors=problems or [])
