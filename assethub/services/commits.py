"""Commits: a branch's head manifest plus its staged changes become a new, immutable version.

The expensive part (reading the head's files, checking the blobs, building the manifest) runs before
the branch moves; the move is a compare-and-swap, `UPDATE branch SET head = new WHERE head = expected`,
in the same transaction as the new version and the consumed stage. Two commits racing on one branch:
one moves it, the other finds the head gone from under it and is refused (HeadMoved, 409) with
nothing written. A client that based its work on a head it read says so with `expected_head`.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from em import errors
from em.access import Access, Level
from em.models import Node
from em.services import blobs, uploads
from em.services.uploads import BlobsMissing
from em.services.validation import InvalidPath, check_text, json_object

from ..models import MAIN, Branch, StagedChange, Version
from .assets import asset_access
from .files import Entry, entries_of
from .staging import branch_of, check_sizes

MAX_MESSAGE_LENGTH = 10_000
MAX_VERSION_METADATA_BYTES = 64 * 1024
_BATCH = 900  # SQLite's parameter limit


class HeadMoved(errors.Conflict):
    code = "head_moved"


class NothingToCommit(errors.InvalidInput):
    code = "nothing_to_commit"


def new_id() -> str:
    return secrets.token_hex(20)


def clean_message(message: Any) -> str:
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_LENGTH:
        raise errors.InvalidInput(f"A commit message is text of at most {MAX_MESSAGE_LENGTH} characters.")
    return check_text(message, "The commit message")


def clean_metadata(metadata: Any) -> dict[str, Any]:
    """Free key/value metadata of a version (row counts, evaluation metrics): a JSON object, capped."""
    return {} if metadata is None else json_object(metadata, "`metadata`", MAX_VERSION_METADATA_BYTES)


def check_expected(branch: Branch, expected_head: str | None) -> None:
    """Refuse at once when the client based its change on another head than the branch has."""
    if expected_head is None:
        return
    if (branch.head_id or "") != expected_head:
        raise HeadMoved(
            f"Branch {branch.name!r} is at {branch.head_id or 'no commit'}, not {expected_head or 'no commit'}; "
            "read it again and retry.",
            detail={"branch": branch.name, "head": branch.head_id},
        )


def record(
    *,
    branch: Branch,
    by: Any,
    entries: list[Entry],
    message: str,
    metadata: dict[str, Any],
    merged: Version | None = None,
    consumed: list[StagedChange] = (),  # type: ignore[assignment]
) -> Version:
    """Write a version on top of `branch.head` (as read) and move the branch to it, all or nothing."""
    expected = branch.head_id
    with transaction.atomic():
        manifest = uploads.manifest_for(entries)
        if merged is None and branch.head is not None and manifest.pk == branch.head.manifest_id:
            raise NothingToCommit("The staged changes leave the files as they are; nothing to commit.")
        version = Version.objects.create(
            id=new_id(),
            asset_id=branch.asset_id,
            manifest=manifest,
            parent_id=expected,
            merged=merged,
            message=message,
            author=by,
            metadata=metadata,
        )
        same_head = Q(head__isnull=True) if expected is None else Q(head_id=expected)
        if not Branch.objects.filter(same_head, pk=branch.pk).update(head=version):
            current = Branch.objects.filter(pk=branch.pk).values_list("head_id", flat=True).first()
            raise HeadMoved(
                f"Branch {branch.name!r} moved to {current or 'nowhere'} while this commit was made; "
                "read it again and retry.",
                detail={"branch": branch.name, "head": current},
            )
        if consumed:  # a path staged again after the stage was read stays staged, for the next commit
            read_at = max(change.staged_at for change in consumed)
            ids = [change.pk for change in consumed]
            for i in range(0, len(ids), _BATCH):
                StagedChange.objects.filter(pk__in=ids[i : i + _BATCH], staged_at__lte=read_at).delete()
    branch.head = version
    return version


def _check_blobs(changes: list[StagedChange]) -> None:
    """Every staged file must have been sent by whoever staged it: a digest alone grants nothing."""
    by_stager: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        if change.op == StagedChange.Op.ADD:
            by_stager[change.staged_by_id].append({"path": change.path, "sha256": change.sha256, "size": change.size})
    absent: list[str] = []
    for stager, files in by_stager.items():
        owned = blobs.owned_sizes(get_user_model()(pk=stager), [f["sha256"] for f in files])
        check_sizes(files, owned)
        absent += [d for d in dict.fromkeys(f["sha256"] for f in files) if d not in owned]
    if absent:
        more = f" and {len(absent) - 10} more" if len(absent) > 10 else ""
        raise BlobsMissing(
            f"{len(absent)} staged file(s) have not been sent yet: {', '.join(absent[:10])}{more}.",
            detail={"missing": absent[:10], "count": len(absent)},
        )


def apply(base: dict[str, Entry], changes: list[StagedChange]) -> list[Entry]:
    """`base` with `changes` applied, checked as a whole (no path both a file and a folder)."""
    files = dict(base)
    for change in changes:
        if change.op == StagedChange.Op.DELETE:
            files.pop(change.path, None)
        else:
            mtime = change.mtime.isoformat() if change.mtime else None
            files[change.path] = {"path": change.path, "sha256": change.sha256, "size": change.size, "mtime": mtime}
    _check_shape(files)
    return list(files.values())


def _check_shape(files: dict[str, Entry]) -> None:
    """Refuse a path that would be both a file and a folder. Each entry was checked when it was staged
    or committed before, so only the whole is checked here, not every path again."""
    folders = {path[:cut] for path in files for cut, ch in enumerate(path) if ch == "/"}
    clash = sorted(folders & files.keys())
    if clash:
        raise InvalidPath(f"{clash[0]} is both a file and a folder.", detail={"paths": clash[:10]})


def commit(
    *,
    asset: Node | Access,
    by: Any,
    branch: str = MAIN,
    message: Any = "",
    metadata: Any = None,
    expected_head: str | None = None,
) -> Version:
    """Commit what is staged on `branch` as a new version; the stage is consumed."""
    proof = asset_access(by, asset, Level.EDIT)
    message, metadata = clean_message(message), clean_metadata(metadata)
    target = branch_of(proof.node, branch)
    check_expected(target, expected_head)
    changes = list(target.staged.all())
    if not changes:
        raise NothingToCommit(f"Nothing is staged on {target.name!r}: stage files to add or paths to delete first.")
    _check_blobs(changes)
    base = entries_of(target.head.manifest_id) if target.head is not None else {}
    return record(
        branch=target, by=by, entries=apply(base, changes), message=message, metadata=metadata, consumed=changes
    )
