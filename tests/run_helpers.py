"""Test runs made the way the server makes them: a Run node through the node service, its Run row and
params, metric series through `em.runs.metrics`, and files as real blobs in a real manifest."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Any

import numpy as np
from django.utils import timezone

from em.models import Kind, Manifest, ManifestEntry, Node, Param, Run, RunStatus, Tag
from em.runs import metrics
from em.runs import services as runs
from em.runs.metrics import Points
from em.services import blobs
from tests.factories import folder

NO_EPOCH = -(2**63)


def points(values: list[float], *, first_step: int = 0, epoch: int | None = None, start: float = 1.7e9) -> Points:
    count = len(values)
    return Points(
        steps=np.arange(first_step, first_step + count, dtype=np.int64),
        epochs=np.full(count, NO_EPOCH if epoch is None else epoch, dtype=np.int64),
        timestamps=start + np.arange(count, dtype=np.float64),
        values=np.array(values, dtype=np.float64),
    )


def make_run(
    parent: Node,
    name: str,
    *,
    status: str = RunStatus.COMPLETE,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    hparams: dict[str, Any] | None = None,
    series: dict[str, list[float]] | None = None,
    tags: dict[str, str] | None = None,
    by: Any = None,
) -> Run:
    node = folder(parent, name, by=by, kind=Kind.RUN)
    started_at = started_at or timezone.now()
    run = Run.objects.create(
        node=node,
        status=status,
        started_at=started_at,
        ended_at=ended_at if ended_at or status == RunStatus.RUNNING else started_at,
        hyperparameters=hparams or {},
    )
    Param.objects.bulk_create(runs.param_rows(run, hparams or {}))
    for key, values in (series or {}).items():
        metrics.replace(run, key, points(values))
    Tag.objects.bulk_create([Tag(run=run, key=k, value=v) for k, v in (tags or {}).items()])
    return run


def attach_files(node: Node, files: dict[str, bytes]) -> None:
    """Store `files` as blobs and give `node` a manifest holding them."""
    entries = []
    for path, data in sorted(files.items()):
        sha = hashlib.sha256(data).hexdigest()
        blob = blobs.receive(sha, io.BytesIO(data), by=node.owner, length=len(data)).blob
        assert blob is not None
        entries.append((path, blob, len(data)))
    digest = hashlib.sha256(repr([(p, b.pk) for p, b, _ in entries]).encode()).hexdigest()
    manifest, made = Manifest.objects.get_or_create(
        digest=digest, defaults={"file_count": len(entries), "total_size": sum(size for _, _, size in entries)}
    )
    if made:
        ManifestEntry.objects.bulk_create(
            [ManifestEntry(manifest=manifest, path=p, blob=b, size=size) for p, b, size in entries]
        )
    Node.objects.filter(pk=node.pk).update(manifest=manifest)
    node.manifest = manifest
