"""Delete to trash, restore, delete for good, and the purge of what expired (30 days by default).

A deleted subtree stays where it was: each node in it gets the same `deleted_at` and the node that was
deleted is marked `trashed` (the owner's trash entry). Restoring clears exactly the nodes stamped with
that time, so something deleted earlier inside the subtree stays in the trash as its own entry.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from em import access, errors
from em.access import Access, Level
from em.models import Node

from .nodes import lock_trees, relocate_subtree, root_of
from .validation import MAX_NAME_LENGTH


def trash_node(*, node: Node | Access, by: Any) -> Node:
    node = access.ensure(by, node, Level.EDIT).node
    if node.is_root:
        raise errors.InvalidInput("A user's root folder cannot be deleted.")
    now = timezone.now()
    with transaction.atomic():
        lock_trees(node)
        if node.deleted_at is not None:
            raise errors.NotFound("Node not found.")
        Node.objects.subtree(node.path).live().update(deleted_at=now)
        Node.objects.filter(pk=node.pk).update(trashed=True, editor=by, modified_at=now)
    node.deleted_at, node.trashed, node.editor = now, True, by
    return node


def free_name(parent: Node, wanted: str) -> str:
    """`wanted`, or `wanted (2)`, `wanted (3)`… — the first name not taken by a live child of `parent`."""
    stem = re.sub(r" \(\d+\)$", "", wanted)
    taken = set(Node.objects.live().filter(parent=parent, name__startswith=stem).values_list("name", flat=True))
    if wanted not in taken:
        return wanted
    number = 2
    while f"{stem} ({number})" in taken:
        number += 1
    suffix = f" ({number})"
    return stem[: MAX_NAME_LENGTH - len(suffix)] + suffix


def restore_node(*, node: Node | Access, by: Any) -> Node:
    """Bring a trash entry back to where it was, or to the owner's root if that place is gone.

    A trash entry exists only for its owner and staff: to anyone else it is NotFound, like any node
    they cannot see (ARCHITECTURE.md §3 Nodes)."""
    node = access.ensure(by, node, Level.OWNER).node
    if not node.trashed:
        raise errors.NotFound("Node not found in the trash.")
    with transaction.atomic():
        lock_trees(node)
        if not node.trashed:
            raise errors.NotFound("Node not found in the trash.")
        parent = Node.objects.filter(pk=node.parent_id).first() if node.parent_id else None
        parent = parent or root_of(node.owner)  # roots are never in the trash; this is belt and braces
        if parent.deleted_at is not None:
            parent = root_of(node.owner)
            relocate_subtree(node, parent)
        node.name = free_name(parent, node.name)
        node.editor = by
        node.trashed = False
        node.save(update_fields=["parent", "name", "editor", "trashed", "modified_at"])
        Node.objects.subtree(node.path).filter(deleted_at=node.deleted_at).update(deleted_at=None)
    node.deleted_at = None
    return node


def purge_subtree(node: Node) -> int:
    """Delete `node` and everything below it for good (grants, runs and their metrics go with them)."""
    deleted, _ = Node.objects.subtree(node.path).delete()
    return deleted


def delete_forever(*, node: Node | Access, by: Any) -> int:
    """Empty one trash entry now (its owner or staff only); returns how many rows went (nodes and grants)."""
    node = access.ensure(by, node, Level.OWNER).node
    if not node.trashed:
        raise errors.InvalidInput("Only a node in the trash can be deleted for good; delete it first.")
    with transaction.atomic():
        return purge_subtree(node)


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete every trash entry older than the retention; safe to run again (idempotent)."""
    cutoff = (now or timezone.now()) - settings.EM_TRASH_RETENTION
    purged = 0
    for node_id in Node.objects.filter(trashed=True, deleted_at__lt=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            node = Node.objects.filter(pk=node_id).first()
            if node is not None:  # gone already, with an expired ancestor entry
                purged += purge_subtree(node)
    return purged


def trash_of(user: Any) -> Any:
    """The user's trash entries, newest first."""
    return Node.objects.filter(owner=user, trashed=True).order_by("-deleted_at")
