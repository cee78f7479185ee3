"""Merging a model's branch into another (into `main` by default).

* the target already holds the source: nothing to do (`up_to_date`);
* the target is an ancestor of the source: the target moves to the source's head (`fast_forward`);
* otherwise a three-way merge from the merge base: a path changed on one side only takes that side;
  a path changed on both sides to different content is a conflict, and a conflict refuses the whole
  merge (MergeConflict, 409, listing every such path), writing nothing;
* histories with no common version are refused (UnrelatedHistories): there is no base to merge from.
The target branch moves by the same compare-and-swap as a commit (HeadMoved when it moved meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from em import access, errors
from em.access import Access, Level
from em.models import Kind, Node

from ..models import MAIN, Branch, Version
from . import refs
from .commits import HeadMoved, check_expected, clean_message, clean_metadata, record
from .files import Entry, entries_of
from .history import graph_of
from .staging import branch_of


class MergeConflict(errors.Conflict):
    code = "merge_conflict"


class UnrelatedHistories(errors.Conflict):
    code = "unrelated_histories"


@dataclass(frozen=True)
class Merged:
    result: str  # "up_to_date", "fast_forward" or "merge"
    branch: Branch
    version: Version


def three_way(base: dict[str, Entry], ours: dict[str, Entry], theirs: dict[str, Entry]) -> list[Entry]:
    """The merged files; MergeConflict naming every path both sides changed differently."""
    merged: list[Entry] = []
    conflicts: list[str] = []

    def content(entry: Entry | None) -> str | None:
        return entry["sha256"] if entry is not None else None

    for path in sorted(base.keys() | ours.keys() | theirs.keys()):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if content(o) == content(t):
            pick = o
        elif content(o) == content(b):
            pick = t
        elif content(t) == content(b):
            pick = o
        else:
            conflicts.append(path)
            continue
        if pick is not None:
            merged.append(pick)
    if conflicts:
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        raise MergeConflict(
            f"Both branches changed {len(conflicts)} path(s) differently: {', '.join(conflicts[:5])}{more}. "
            "Commit a resolution on one branch, then merge again.",
            detail={"paths": conflicts},
        )
    return merged


def merge(
    *,
    asset: Node | Access,
    by: Any,
    source: str,
    into: str = MAIN,
    message: Any = None,
    metadata: Any = None,
    expected_head: str | None = None,
) -> Merged:
    """Merge the version `source` names (a branch, tag or commit) into the branch `into`."""
    proof = refs.asset_access(by, asset, Level.EDIT)
    node = proof.node
    if node.kind != Kind.MODEL:
        raise errors.InvalidInput("Only models have branches to merge; a dataset has `main` alone.")
    theirs = refs.version_at(refs.locate(access.checker_for(by), source, asset=proof))
    target = branch_of(node, into)
    check_expected(target, expected_head)
    ours = target.head
    graph = graph_of(node.pk)
    if ours is not None and theirs.id in graph.ancestors(ours.id):
        return Merged("up_to_date", target, ours)
    if ours is None or ours.id in graph.ancestors(theirs.id):
        same_head = Q(head__isnull=True) if ours is None else Q(head_id=ours.id)
        if not Branch.objects.filter(same_head, pk=target.pk).update(head=theirs):
            raise HeadMoved(f"Branch {target.name!r} moved while merging; read it again and retry.")
        target.head = theirs
        return Merged("fast_forward", target, theirs)
    base = graph.merge_base(ours.id, theirs.id)
    if base is None:
        raise UnrelatedHistories(
            f"{source!r} and {into!r} share no version: there is no common base to merge from.",
            detail={"source": source, "into": into},
        )
    base_manifest = Version.objects.values_list("manifest_id", flat=True).get(pk=base)
    entries = three_way(entries_of(base_manifest), entries_of(ours.manifest_id), entries_of(theirs.manifest_id))
    text = clean_message(message if message is not None else f"Merge {source} into {into}")
    version = record(
        branch=target, by=by, entries=entries, message=text, metadata=clean_metadata(metadata), merged=theirs
    )
    return Merged("merge", target, version)
