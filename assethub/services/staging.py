"""Staged changes on a branch: files added or replaced, paths deleted, waiting for the next commit.

Files are announced as an upload announces them (`em.services.uploads.validate_files`: the same path,
size and digest rules) and their bytes arrive by the same protocol (`PUT /api/v1/blobs/<sha256>`); the
answer names the digests the caller has not sent. Knowing a digest grants nothing: at commit every staged
file must have been sent by whoever staged it (`em.services.blobs.owned_sizes`).
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from em import errors
from em.access import Access, Level
from em.models import Node
from em.services import blobs, uploads
from em.services.validation import validate_path

from ..models import MAIN, Branch, StagedChange
from .assets import asset_access
from .files import entries_of


@dataclass(frozen=True)
class Staged:
    branch: Branch
    missing: list[str]  # digests the caller still has to send
    count: int  # changes staged on the branch now


def branch_of(asset: Node, name: str) -> Branch:
    """A branch of `asset` by name; `main` is made if an asset somehow lacks it."""
    if name == MAIN:
        return Branch.objects.select_related("head").get_or_create(asset=asset, name=MAIN)[0]
    branch = Branch.objects.select_related("head").filter(asset=asset, name=name).first()
    if branch is None:
        raise errors.NotFound(f"This asset has no branch {name[:100]!r}.", detail={"branch": name[:100]})
    return branch


def _deletions(paths: Any, head: dict[str, dict[str, Any]], staged: set[str]) -> set[str]:
    """The files `paths` remove: each names a file or a folder (every file below it) in the branch."""
    if not isinstance(paths, list):
        raise errors.InvalidInput("`delete` must be a list of paths.")
    known = sorted({*head, *staged})
    gone: set[str] = set()
    for raw in paths:
        path = validate_path(raw)
        below = path + "/"
        start = bisect.bisect_left(known, below)
        hit = {path} if path in head or path in staged else set()
        for candidate in itertools.islice(known, start, None):
            if not candidate.startswith(below):
                break
            hit.add(candidate)
        if not hit:
            raise errors.NotFound(f"{path!r} is neither a file nor a folder of this branch.", detail={"path": path})
        gone |= hit
    return gone


def stage(*, asset: Node | Access, by: Any, branch: str = MAIN, add: Any = None, delete: Any = None) -> Staged:
    """Stage `add` ([{path, size, sha256, mtime}]) and `delete` ([paths]) on `branch`, replacing what
    was staged for the same paths; answers the digests `by` has yet to send."""
    proof = asset_access(by, asset, Level.EDIT)
    files = uploads.validate_files(add or [])
    with transaction.atomic():
        target = branch_of(proof.node, branch)
        head = entries_of(target.head.manifest_id) if target.head is not None else {}
        staged_adds = set(target.staged.filter(op=StagedChange.Op.ADD).values_list("path", flat=True))
        gone = _deletions(delete or [], head, staged_adds) if delete else set()
        both = gone & {f["path"] for f in files}
        if both:
            raise errors.InvalidInput(f"{sorted(both)[0]!r} is both added and deleted.", detail={"paths": sorted(both)})
        rows = [
            StagedChange(
                branch=target,
                path=f["path"],
                op=StagedChange.Op.ADD,
                sha256=f["sha256"],
                size=f["size"],
                mtime=datetime.fromisoformat(f["mtime"]) if f["mtime"] else None,
                staged_by=by,
            )
            for f in files
        ]
        rows += [StagedChange(branch=target, path=p, op=StagedChange.Op.DELETE, staged_by=by) for p in sorted(gone)]
        StagedChange.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["branch", "path"],
            update_fields=["op", "sha256", "size", "mtime", "staged_by", "staged_at"],
        )
        owned = blobs.owned_sizes(by, [f["sha256"] for f in files])
        check_sizes(files, owned)
        count = target.staged.count()
    missing = [d for d in dict.fromkeys(f["sha256"] for f in files) if d not in owned]
    return Staged(target, missing, count)


def check_sizes(files: list[dict[str, Any]], owned: dict[str, int]) -> None:
    """Refuse a file announced with another size than its blob has."""
    for f in files:
        if f["sha256"] in owned and owned[f["sha256"]] != f["size"]:
            raise errors.InvalidInput(
                f"{f['path']} is announced as {f['size']} bytes, but its sha256 names {owned[f['sha256']]} bytes.",
                detail={"path": f["path"]},
            )


def staged_on(*, asset: Node | Access, by: Any, branch: str = MAIN) -> tuple[Branch, Any]:
    """The branch and its staged changes (a queryset in path order, for paging)."""
    proof = asset_access(by, asset, Level.VIEW)
    target = branch_of(proof.node, branch)
    return target, target.staged.select_related("staged_by").order_by("path")


def unstage(*, asset: Node | Access, by: Any, branch: str = MAIN) -> int:
    """Drop everything staged on `branch`; how many changes went."""
    proof = asset_access(by, asset, Level.EDIT)
    deleted, _ = branch_of(proof.node, branch).staged.all().delete()
    return deleted
