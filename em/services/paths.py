"""Human paths (`/alice/em-examples/mnist`) to nodes and back."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from uuid import UUID

from django.db.models import Q

from em import errors, tree
from em.models import Node

# Moves that can land between reading a node and naming its ancestors before a read gives up (409).
DISPLAY_PATH_TRIES = 5


def display_paths(nodes: Iterable[tree.Placed]) -> dict[UUID, str]:
    """The `/owner/a/b` path of each node (a `Node` or a row of its values), in one query however many
    nodes and however deep.

    The nodes were read a moment ago; a folder above one of them may have moved since, leaving their
    `path` stale: its ancestors' old paths then name nothing, or other nodes. So the answer is checked
    (every ancestor found, each node still at its own path) and, where it fails, the nodes' current
    paths are read again and named again. A read shows the tree before or after a move, never a mix
    and never a 500; only a node deleted for good meanwhile is NotFound.
    """
    where = {node.pk: node.path for node in nodes}
    count = len(where)
    for _ in range(DISPLAY_PATH_TRIES):
        wanted = {p for path in where.values() for p in tree.ancestor_paths(path)}
        if not wanted:
            return {}
        found = {
            path: (pk, name)
            for path, pk, name in Node.objects.filter(path__in=wanted).values_list("path", "pk", "name")
        }
        if wanted <= found.keys() and all(found[path][0] == pk for pk, path in where.items()):
            return {pk: "/" + "/".join(found[p][1] for p in tree.ancestor_paths(path)) for pk, path in where.items()}
        where = dict(Node.objects.filter(pk__in=list(where)).values_list("pk", "path"))
        if len(where) < count:
            raise errors.NotFound("A node was deleted for good while it was being read.")
    raise errors.Conflict("Folders kept moving while this was being read; try again.")


def display_path(node: Node) -> str:
    return display_paths([node])[node.pk]


def split(path: str) -> list[str]:
    """The names along a path, NFC-normalised as names are stored; a clear error for what no name holds."""
    if not isinstance(path, str):
        raise errors.InvalidInput("A path is text, like '/alice/a/b'.")
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in path):
        raise errors.InvalidInput("A path must not contain control characters (such as NUL).")
    parts = [unicodedata.normalize("NFC", part) for part in path.strip().split("/") if part]
    if not parts:
        raise errors.InvalidInput("A path names at least a user's root folder, like '/alice'.")
    return parts


def nothing_at(path: str) -> str:
    """The one answer for a path that names nothing *or* something hidden: the two must read alike."""
    return f"Nothing found at {path[:300]!r}."


def along(parts: list[str]) -> list[Node]:
    """The live nodes along `parts` from the root, as far as they exist; two queries whatever the depth."""
    root = Node.objects.select_related("owner", "created_by", "editor", "target").filter(
        parent__isnull=True, name=parts[0]
    )
    found = list(root[:1])
    if not found or len(parts) == 1:
        return found
    on_the_way = Q()
    for depth, name in enumerate(parts[1:], start=1):
        on_the_way |= Q(depth=depth, name=name)
    candidates = (
        Node.objects.live()
        .subtree(found[0].path)
        .filter(on_the_way)
        .select_related("owner", "created_by", "editor", "target")
    )
    by_parent = {(c.parent_id, c.name): c for c in candidates}
    for name in parts[1:]:
        child = by_parent.get((found[-1].pk, name))
        if child is None:
            break
        found.append(child)
    return found


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
