"""Human paths (`/alice/em-examples/mnist`) to nodes and back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Q

from em import access, errors, tree
from em.models import Node


def display_paths(nodes: Iterable[Node]) -> dict[UUID, str]:
    """The `/owner/a/b` path of each node, in one query however many nodes and however deep."""
    nodes = list(nodes)
    wanted = {p for node in nodes for p in node.ancestor_paths()}
    if not wanted:
        return {}
    names = dict(Node.objects.filter(path__in=wanted).values_list("path", "name"))
    return {node.pk: "/" + "/".join(names[p] for p in node.ancestor_paths()) for node in nodes}


def display_path(node: Node) -> str:
    return display_paths([node])[node.pk]


def split(path: str) -> list[str]:
    parts = [part for part in path.strip().split("/") if part]
    if not parts:
        raise errors.InvalidInput("A path names at least a user's root folder, like '/alice'.")
    return parts


def resolve(user: Any, path: str) -> Node:
    """The live node at `path` if `user` may see it (NotFound otherwise); two queries plus the check."""
    parts = split(path)
    root = Node.objects.filter(parent__isnull=True, name=parts[0]).first()
    if root is None:
        raise errors.NotFound(f"Nothing found at {path!r}.")
    node = root
    if len(parts) > 1:
        on_the_way = Q()
        for depth, name in enumerate(parts[1:], start=1):
            on_the_way |= Q(depth=depth, name=name)
        candidates = (
            Node.objects.live()
            .subtree(root.path)
            .filter(on_the_way)
            .select_related("owner", "created_by", "editor", "target")
        )
        by_parent = {(c.parent_id, c.name): c for c in candidates}
        for name in parts[1:]:
            found = by_parent.get((node.pk, name))
            if found is None:
                raise errors.NotFound(f"Nothing found at {path!r}.")
            node = found
    access.check(user, node)
    return node


def depth_below(node: Node) -> int:
    """How many levels the subtree of `node` reaches below it."""
    deepest = Node.objects.subtree(node.path).order_by("-depth").values_list("depth", flat=True).first()
    return (deepest or node.depth) - node.depth


def child_path(parent: Node) -> str:
    """A fresh path for a new child of `parent` (call with the tree locked).

    The greatest path below `parent` belongs to its last child or to one of that child's descendants,
    which all start with the last child's path: one backward step on the path index finds it.
    """
    low, high = tree.subtree_range(parent.path)
    deepest_last = Node.objects.filter(path__gt=low, path__lt=high).order_by("-path").values_list("path", flat=True)
    last = deepest_last.first()
    try:
        return parent.path + tree.next_segment(last[: len(parent.path) + tree.STEP] if last else None)
    except ValueError as exc:
        raise errors.Conflict("This folder holds the most children a folder can hold.") from exc
