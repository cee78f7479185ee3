"""The one way a request names a node: by id, or by path (`/alice/a/b`), maybe creating the folders
at the end of the path. Every endpoint uses it, so none can tell a hidden node from a missing one.

Finding and checking are two steps (`find`, then `settle`) so that a request naming two nodes (a move
names the node and its destination) can have both checked with one read of the grant tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from em import access, errors
from em.access import Access, Checker, Level
from em.models import Node

from .nodes import make_folders
from .paths import along, nothing_at, split


@dataclass(frozen=True)
class Found:
    """What a reference names, unchecked: the deepest live node it reaches and the names beyond it."""

    node: Node | None
    not_found: str  # the one message for "missing" and "hidden" alike
    missing: list[str] = field(default_factory=list)


def find(ref: Node | UUID | str, *, related: tuple[str, ...] = access.PRESENTED) -> Found:
    """The node `ref` names — a node, an id, or a path — without any check (pass it to `settle`); by id,
    loaded with `related` (`access.load`)."""
    if isinstance(ref, Node):
        return Found(ref, "Node not found.")
    if isinstance(ref, UUID) or not ref.startswith("/"):
        try:
            node_id = ref if isinstance(ref, UUID) else UUID(ref)
        except ValueError:
            return Found(None, "Node not found.")
        return Found(access.load(node_id, related=related), "Node not found.")
    parts = split(ref)
    found = along(parts)
    return Found(found[-1] if found else None, nothing_at(ref), parts[len(found) :] if found else parts)


def settle(checker: Checker, found: Found, *, need: Level = Level.VIEW, make: bool = False) -> Access:
    """The node found, checked for `need` with the request's `checker`.

    With `make`, the folders missing at the end of a path are created in the caller's transaction; that
    needs edit rights on the deepest folder that exists, which may lie below folders the caller cannot
    see (an editor of `/alice/team` may create `/alice/team/new`).
    """
    if found.node is None or (found.missing and not make):
        raise errors.NotFound(found.not_found)
    if not found.missing:
        return checker.check(found.node, need, not_found=found.not_found)
    parent = checker.check(found.node, Level.EDIT, not_found=found.not_found)
    made = make_folders(parent=parent, names=found.missing, by=checker.user)
    if need > parent.level:
        raise errors.PermissionDenied("You may create folders here but not do this to them.")
    return Access(made, parent.level)


def locate(
    checker: Checker,
    ref: Node | UUID | str,
    *,
    need: Level = Level.VIEW,
    make: bool = False,
    related: tuple[str, ...] = access.PRESENTED,
) -> Access:
    """`find` and `settle` in one: the node `ref` names, checked for `need`."""
    return settle(checker, find(ref, related=related), need=need, make=make)


def resolve(user: Any, path: str, *, need: Level = Level.VIEW, checker: Checker | None = None) -> Node:
    """The live node at `path` (`/alice/a`, or `alice/a`) if `user` may see it (and reach `need`);
    NotFound, alike for hidden and missing, otherwise. Two queries plus the check."""
    return locate(checker or Checker(user), path if path.startswith("/") else f"/{path}", need=need).node
