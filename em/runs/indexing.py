"""Indexing a run: its bundle's files become the Run's fields, its Params and its metric series.

`index_run` reads and checks the whole bundle first, outside any transaction (parsing a million points
takes a second or two and holds no lock), then writes everything in one transaction with the Run row
locked. It is idempotent: the same bundle always yields the same rows. When the bundle has problems,
nothing indexed before changes; only the Run's `index_state`/`index_errors` record what is wrong.
Tags and notes are the user's and are never touched. If the node's files changed while the bundle was
being read (a newer upload), the older result is dropped: the newer upload queued its own indexing.
"""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from em import errors
from em.models import IndexState, Kind, ManifestEntry, Node, Param, Run
from em.runs.services import param_rows
from em.services import blobs

from . import metrics
from .bundle import Bundle, BundleError, load_bundle


class IndexOutcome(TypedDict):
    node: str
    state: str  # "indexed", "failed" or "superseded"
    params: int
    series: int
    points: int
    errors: list[dict[str, str]]


def index_run(node_id: UUID | str) -> IndexOutcome:
    """Index the bundle of the Run node `node_id`; NotFound when there is no such run."""
    node = Node.objects.filter(pk=node_id, kind=Kind.RUN).first()
    if node is None:
        raise errors.NotFound("Run not found.")
    manifest_id = node.manifest_id
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
        run.index_errors = problems
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
