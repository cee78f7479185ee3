"""Creating, changing, moving, deleting and restoring nodes.

Structural writes (move, rename, trash, restore) run in one transaction with the trees involved locked
(`lock_trees`): on PostgreSQL a row lock on each tree's root, then on the nodes they change and on those
nodes' parents; on SQLite the IMMEDIATE write lock the settings ask for. Creating a node locks less
(`hold_place`): only its parent must stay where it is, so it takes a shared lock on the parent and on the
parent's ancestors below the root. Creators therefore never wait for one another, not even in one folder
(each claims its position without waiting, see `_insert_child` and `_next_free`), while a move or a delete waits
for the creators below what it changes, and they for it. Every check happens before the first write, so
a refused operation changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from em import access, errors, tree
from em.access import Access, Level
from em.models import Kind, Node, NodeGroupObjectPermission, NodeUserObjectPermission
from em.models.nodes import CHILD_KINDS
from em.prepared import Rows, insert_row, planned_cursor, spelt, spelt_once

from .paths import child_path, depth_below, display_path
from .validation import validate_description, validate_extra, validate_labels, validate_name

_POSITION = ("path", "depth", "parent_id", "owner_id", "deleted_at", "trashed")
# A creator whose claimed path turned out taken picks again, at most this often, a random few positions on.
PATH_TRIES = 64
PATH_SPREAD = 64
# Positions one transaction claims at most before it stops claiming (`_next_free`, `_may_claim`).
CLAIMS_PER_TRANSACTION = 16
# Moves of a parent that land between reading it and locking its place before a create gives up (409).
PLACE_TRIES = 5


def lock_trees(*nodes: Node) -> None:
    """Serialise structural writes in the trees holding `nodes`, then re-read where the nodes are.

    Call inside `transaction.atomic()`. On PostgreSQL this row-locks each tree's root (in path order, so
    two writers cannot deadlock on them); on SQLite the IMMEDIATE transaction already holds the write
    lock. Positions read before the lock may be stale — a concurrent move may have rewritten them — so
    they are reloaded, and if a node has meanwhile moved into another tree, that tree is locked too.

    Then the nodes themselves and their parents are locked too (in path order, as creators take their
    shared locks, so neither can wait for the other in a circle): that waits for the creators working
    below them (`hold_place`) to commit, so the rewrite that follows sees their nodes, and keeps new
    ones out until this transaction ends. The parents are locked because a rename, a move in or a
    restore must check a name among children nobody is adding to.
    """
    locked: set[str] = set()
    while True:
        roots = {node.path[: tree.STEP] for node in nodes}
        if roots <= locked:
            break
        list(Node.objects.select_for_update().filter(path__in=sorted(roots - locked)).values_list("pk"))
        locked |= roots
        fresh = Node.objects.in_bulk([node.pk for node in nodes])
        for node in nodes:
            if node.pk not in fresh:
                raise errors.NotFound("Node not found.")
            for field in _POSITION:
                setattr(node, field, getattr(fresh[node.pk], field))
    if connection.vendor == "postgresql":
        held = {node.pk for node in nodes} | {node.parent_id for node in nodes if node.parent_id is not None}
        list(Node.objects.select_for_update().filter(pk__in=held).order_by("path").values_list("pk"))


def hold_place(parent: Node) -> None:
    """Keep `parent` where it is, live or not, until the transaction ends, so a child can be made in it;
    then refresh its position, which a move that committed meanwhile may have changed.

    On PostgreSQL a `FOR KEY SHARE` lock on `parent` and on its ancestors below the root (the root never
    moves), taken in path order: creators share it, while the `FOR UPDATE` of a move, rename, delete or
    restore (`lock_trees`) excludes it. The root itself is locked only when it is the parent, as the
    insert's foreign key check would lock it anyway. On SQLite the IMMEDIATE transaction already holds
    the database's one write lock.
    """
    if connection.vendor != "postgresql":
        return
    for _ in range(PLACE_TRIES):
        chain = tree.ancestor_paths(parent.path)[1:] or [parent.path]
        with planned_cursor() as cursor:
            cursor.execute(_held_sql(len(chain)), chain)
            rows = cursor.fetchall()
        fresh = dict(zip(("pk", *_POSITION), rows[-1], strict=True)) if rows else {}
        if fresh.get("pk") == parent.pk and fresh["path"] == parent.path:
            for field in _POSITION:
                setattr(parent, field, fresh[field])
            # A delete that committed while we waited marks the whole subtree, but only the node it locked
            # (the top of the subtree, in our chain) comes back fresh: a key-share lock does not conflict
            # with the plain UPDATE of `deleted_at` on the nodes below it, so PostgreSQL returns the
            # version our snapshot saw for those, the parent included. An ancestor in the trash means the
            # parent is too.
            deleted = [row[_POSITION.index("deleted_at") + 1] for row in rows]
            parent.deleted_at = next((when for when in deleted if when is not None), None)
            return
        # Moved before the lock was taken: what was locked may not be its chain any more; read it again.
        moved = Node.objects.filter(pk=parent.pk).values(*_POSITION).first()
        if moved is None:
            raise errors.NotFound("The folder was deleted.")
        for field in _POSITION:
            setattr(parent, field, moved[field])
    raise errors.Conflict("The folder kept moving while a node was being created in it; try again.")


def _held_sql(count: int) -> str:
    """`hold_place`'s lock on a chain of `count` paths: its rows in path order, locked FOR KEY SHARE."""

    def build() -> str:
        sentinels = [f"~{i}" for i in range(count)]
        query = Node.objects.filter(path__in=sentinels).order_by("path").values_list("pk", *_POSITION)
        return f"{spelt(query, sentinels)} FOR KEY SHARE"

    return spelt_once(("hold", count), build)


def _ensure_name_free(parent_id: Any, name: str, *, ignore: Node | None = None) -> None:
    clash = Node.objects.live().filter(parent_id=parent_id, name=name)
    if ignore is not None:
        clash = clash.exclude(pk=ignore.pk)
    if clash.exists():
        parent = Node.objects.get(pk=parent_id)
        raise errors.NameClash(f"{display_path(parent)}/{name} already exists.", detail={"name": name})


def _ensure_may_hold(parent: Node, kind: str) -> None:
    """Refuse a child of `kind` that `parent` may not hold (`CHILD_KINDS`: a folder holds any kind, a run
    holds child runs). An unknown kind passes here, to be refused by name."""
    if parent.may_hold(kind) or (parent.is_container and kind not in Kind.values):
        return
    holds = sorted(CHILD_KINDS.get(parent.kind, ()))
    raise errors.InvalidInput(f"{display_path(parent)} is a {parent.kind}, not a folder.", detail={"holds": holds})


def create_root(*, user: User) -> Node:
    """The root folder of a new user's tree, named after the user."""
    username = user.get_username()
    with transaction.atomic():
        last = Node.objects.filter(parent__isnull=True).order_by("-path").values_list("path", flat=True).first()
        try:
            return Node.objects.create(
                path=tree.next_segment(last),
                depth=0,
                name=username,
                kind=Kind.FOLDER,
                owner=user,
                created_by=user,
                editor=user,
            )
        except IntegrityError as exc:
            raise errors.NameClash(f"A tree named {username!r} already exists.") from exc


def root_of(user: User) -> Node:
    return Node.objects.get(parent__isnull=True, owner=user)


def create_node(
    *,
    parent: Node | Access,
    name: str,
    kind: str,
    by: Any,
    labels: list[str] | None = None,
    description: str = "",
    extra: dict[str, Any] | None = None,
    target: Node | Access | None = None,
    then: Callable[[Node], Sequence[Rows]] | None = None,
    after: Callable[[Node], object] | None = None,
) -> Node:
    """A new node in `parent`; a Shortcut needs a `target` the creator can see.

    `then` makes the rows that belong to the node (a live run's run and params, `create_live_run`): they
    are inserted with it in its transaction, on PostgreSQL in the same statement (`insert_row`), so a
    caller needs no transaction of its own around this call, nor its savepoint.

    `after` writes what needs the node stored first (a live run's first metric points, which name it by
    id), in the same transaction: still no transaction or savepoint of the caller's own.
    """
    parent = access.ensure(by, parent, Level.EDIT).node
    _ensure_may_hold(parent, kind)
    name = validate_name(name)
    if kind not in Kind.values:
        raise errors.InvalidInput(f"Unknown kind {kind!r}; one of {', '.join(Kind.values)}.")
    if kind == Kind.SHORTCUT:
        if target is None:
            raise errors.InvalidInput("A shortcut needs a target.")
        access.ensure(by, target)
    elif target is not None:
        raise errors.InvalidInput("Only a shortcut has a target.")
    if parent.depth + 1 > tree.MAX_DEPTH:
        raise errors.TreeTooDeep(f"Folders nest at most {tree.MAX_DEPTH} levels deep.")
    fields = {
        "labels": validate_labels(labels or []),
        "description": validate_description(description),
        "extra": validate_extra(extra or {}),
    }
    with transaction.atomic():
        hold_place(parent)
        if parent.deleted_at is not None:
            raise errors.NotFound("The folder was deleted.")
        node = _insert_child(
            parent,
            name=name,
            kind=kind,
            target=target.node if isinstance(target, Access) else target,
            created_by=by,
            editor=by,
            then=then,
            **fields,
        )
        if after is not None:
            after(node)
    return node


def _insert_child(parent: Node, *, then: Callable[[Node], Sequence[Rows]] | None = None, **fields: Any) -> Node:
    """Insert a child of `parent` (its place held) at the next free path.

    Creators in one folder do not wait for each other. Each claims its position as it reads where the
    last child is (`_next_free`): one that another open transaction has claimed is skipped, so many
    creating in one folder at once take consecutive positions instead of all picking the same one and
    queueing behind each other's commits. A position can still turn out taken (its creator committed
    between our reading the last path and our claim): the insert then lands nothing (`_insert_unless_taken`)
    and we pick again, a little further on (`PATH_SPREAD`). The sibling name is checked by its unique
    constraint, not by a query beforehand: an insert that landed nothing because the name is taken, now
    or meanwhile, is reported as a NameClash. The rows of `then` are made once, and land with the node.
    """
    node = Node(parent=parent, depth=parent.depth + 1, owner_id=parent.owner_id, **fields)
    if Node._meta.get_field("owner").is_cached(parent):
        node.owner = parent.owner  # already loaded: the answer names the owner without a query
    rows = then(node) if then is not None else ()
    for attempt in range(PATH_TRIES):
        node.path = _next_free(parent, spread=bool(attempt))
        if _insert_unless_taken(node, rows):
            return node
        _ensure_name_free(parent.pk, fields["name"])
    raise errors.Conflict("Too many nodes are being created in this folder at once; try again.")


def _insert_unless_taken(node: Node, then: Sequence[Rows] = ()) -> bool:
    """INSERT `node` (and `then` with it) unless its path or its name among live siblings is taken;
    whether it landed.

    `ON CONFLICT DO NOTHING` (PostgreSQL, and SQLite's upsert, which likewise covers only uniqueness):
    a taken path or name is an answer, not an error, so no savepoint is needed around the insert to go on
    in the transaction afterwards (that savepoint and its release were two round trips on every create).
    Any other failure (a folder purged meanwhile breaking the foreign key) still raises.
    """
    return insert_row(node, suffix=" ON CONFLICT DO NOTHING", then=then)


def _next_free(parent: Node, *, spread: bool) -> str:
    """A path for a new child of `parent`: after its last child's (`spread`: a random few positions on),
    or the first position from there that no other open transaction has claimed, claimed now.

    On PostgreSQL, while this transaction may claim (`_may_claim`), reading the last child's position and
    claiming are one statement (`_CLAIM_NEXT`): claims are transaction-level advisory locks, tried without
    waiting, keyed by the parent and the position, and held until the transaction ends. On SQLite the one
    writer needs none.

    A claim only steers creators apart; uniqueness stays with the path's unique constraint, so a hash of
    two parents' ids meeting, or a claim released a moment early, costs at most a retry.
    """
    if connection.vendor != "postgresql" or not _may_claim():
        path = child_path(parent)
        return _spread(path) if spread else path
    low, high = tree.subtree_range(parent.path)
    folder = int.from_bytes(parent.pk.bytes[:4], "big", signed=True)
    offset = secrets.randbelow(PATH_SPREAD) if spread else 0
    with planned_cursor() as cursor:
        cursor.execute(
            _claim_next_sql(len(parent.path)),
            [low, high, offset, tree.MAX_SEGMENT, offset, PATH_SPREAD - 1, tree.MAX_SEGMENT, folder],
        )
        first, claimed = cursor.fetchone()
    if first > tree.MAX_SEGMENT:
        raise errors.Conflict("This folder holds the most children a folder can hold.")
    return parent.path + tree.encode(claimed or first)


# The first position after the last child's (moved on by an offset unless that passes the last position
# there is, as `_spread` does), and the first position from it, up to PATH_SPREAD on, that this
# transaction could claim (NULL when every one is claimed by others). Each step is MATERIALIZED: inlined,
# the last child's lookup and its decoding were copied into every use of `n`, and planning the copies
# took ~1 ms of PostgreSQL's CPU, five times the statement's work.
_CLAIM_NEXT = """
WITH last AS MATERIALIZED ({last}),
after AS MATERIALIZED (SELECT COALESCE((SELECT {segment} FROM last), 0) + 1 AS n),
first AS MATERIALIZED (SELECT CASE WHEN n + %s > %s THEN n ELSE n + %s END AS n FROM after)
SELECT first.n, (
    SELECT s.n FROM generate_series(first.n, LEAST(first.n + %s, %s)) AS s(n)
    WHERE pg_try_advisory_xact_lock(%s::int, s.n) LIMIT 1
) FROM first
"""


def _claim_next_sql(start: int) -> str:
    """`_CLAIM_NEXT` for a parent whose path has `start` characters; its parameters begin with the range
    of the parent's subtree (`tree.subtree_range`)."""

    def build() -> str:
        sentinels = ["~low", "~high"]
        last = Node.objects.filter(path__gt=sentinels[0], path__lt=sentinels[1]).order_by("-path").values("path")[:1]
        return _CLAIM_NEXT.format(last=spelt(last, sentinels), segment=_decoded_segment(start))

    return spelt_once(("claim", start), build)


def _decoded_segment(start: int) -> str:
    """SQL for the number of the segment of `last.path` after its first `start` characters (`tree.decode`)."""
    number = "0"
    for i in range(1, tree.STEP + 1):
        digit = f"(strpos('{tree.ALPHABET}', substr(last.path, {start + i}, 1)) - 1)"
        number = f"({number} * {tree.BASE} + {digit})"
    return number


def _may_claim() -> bool:
    """Whether this transaction may claim one more position: claims are held until it ends, in the
    server's shared lock table (about 64 per connection), so a transaction creating many nodes (an import,
    a test) stops claiming after `CLAIMS_PER_TRANSACTION` and falls back to retrying on a taken path.

    A transaction is told by its outermost atomic block, a new object for each `with transaction.atomic()`.
    A function decorated with `@transaction.atomic` (none is, today) reuses one block for every call, so
    it would stop claiming after as many calls on one connection: slower under contention, never wrong."""
    outer = connection.atomic_blocks[0] if connection.atomic_blocks else None
    held = connection.__dict__.get("em_position_claims")
    if held is None or held[0] is not outer:
        held = connection.__dict__["em_position_claims"] = [outer, 0]
    held[1] += 1
    return bool(held[1] <= CLAIMS_PER_TRANSACTION)


def _spread(path: str) -> str:
    """`path` moved a random few positions on among its siblings (as it is when it would pass the last)."""
    try:
        return path[: -tree.STEP] + tree.encode(tree.decode(path[-tree.STEP :]) + secrets.randbelow(PATH_SPREAD))
    except ValueError:
        return path


def update_node(
    *,
    node: Node | Access,
    by: Any,
    name: str | None = None,
    labels: list[str] | None = None,
    description: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Node:
    """Rename, relabel, redescribe: only what is given changes."""
    node = access.ensure(by, node, Level.EDIT).node
    changes: dict[str, Any] = {}
    if name is not None and name != node.name:
        if node.is_root:
            raise errors.InvalidInput("A user's root folder is named after the user and cannot be renamed.")
        changes["name"] = validate_name(name)
    if labels is not None:
        changes["labels"] = validate_labels(labels)
    if description is not None:
        changes["description"] = validate_description(description)
    if extra is not None:
        changes["extra"] = validate_extra(extra)
    with transaction.atomic():
        if "name" in changes:
            lock_trees(node)
            _ensure_name_free(node.parent_id, changes["name"], ignore=node)
        for field, value in changes.items():
            setattr(node, field, value)
        node.editor = by
        node.save(update_fields=[*changes, "editor", "modified_at"])
    return node


def relocate_subtree(node: Node, destination: Node) -> None:
    """Re-root the subtree of `node` under `destination`, dropping every grant inside it.

    Two bulk statements whatever the size of the subtree: a DELETE of its grants (it takes exactly the
    destination's permissions) and one UPDATE rewriting path, depth and owner.
    """
    old_path = node.path
    new_path = child_path(destination)
    low, high = tree.subtree_range(old_path)
    for grants in (NodeUserObjectPermission, NodeGroupObjectPermission):
        grants.objects.filter(content_object__path__gte=low, content_object__path__lt=high).delete()
    Node.objects.subtree(old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (destination.depth + 1 - node.depth),
        owner_id=destination.owner_id,
    )
    node.path, node.depth, node.owner_id = new_path, destination.depth + 1, destination.owner_id
    node.parent = destination


def move_node(*, node: Node | Access, destination: Node | Access, by: Any, name: str | None = None) -> Node:
    """Move (and optionally rename) `node` into `destination`; it takes the destination's permissions.

    Editors move within the owner's tree; taking a node into another user's tree needs its owner (or
    staff), so an editor can never take a run away from the person who made it.
    """
    if not isinstance(node, Access) or not isinstance(destination, Access):
        checker = access.Checker(by)
        checker.levels([n for n in (node, destination) if isinstance(n, Node)])  # one query for both
        node = node if isinstance(node, Access) else checker.check(node)
        destination = destination if isinstance(destination, Access) else checker.check(destination)
    node = access.ensure(by, node, Level.EDIT)
    dest = access.ensure(by, destination, Level.EDIT).node
    moving = node.node
    if moving.is_root:
        raise errors.InvalidMove("A user's root folder cannot be moved.")
    if dest.owner_id != moving.owner_id and node.level < Level.OWNER:
        raise errors.PermissionDenied(
            "Only the owner (or staff) may move a node into another user's tree; editors move within it."
        )
    _ensure_may_hold(dest, moving.kind)
    new_name = moving.name if name is None else validate_name(name)
    with transaction.atomic():
        lock_trees(moving, dest)
        if moving.deleted_at is not None or dest.deleted_at is not None:
            raise errors.NotFound("Node not found.")
        if dest.owner_id != moving.owner_id and node.level < Level.OWNER:  # moved between trees meanwhile
            raise errors.PermissionDenied("Only the owner (or staff) may move a node into another user's tree.")
        if dest.is_within(moving):
            raise errors.InvalidMove(f"Cannot move {display_path(moving)} into itself or one of its descendants.")
        if dest.pk == moving.parent_id and new_name == moving.name:
            return moving
        if dest.depth + 1 + depth_below(moving) > tree.MAX_DEPTH:
            raise errors.TreeTooDeep(f"Folders nest at most {tree.MAX_DEPTH} levels deep; this move exceeds that.")
        _ensure_name_free(dest.pk, new_name, ignore=moving)
        if dest.pk != moving.parent_id:
            relocate_subtree(moving, dest)
        moving.name = new_name
        moving.editor = by
        moving.save(update_fields=["parent", "name", "editor", "modified_at"])
    return moving


def make_folders(*, parent: Access, names: list[str], by: Any) -> Node:
    """The folders `names` nested in `parent` (as far as they are missing), made in one transaction;
    the deepest one. A folder made meanwhile by a concurrent request is used, not duplicated."""
    for name in names:
        validate_name(name)
    node = parent.node
    with transaction.atomic():
        for name in names:
            existing = Node.objects.live().filter(parent=node, name=name).first()
            if existing is None:
                try:
                    with transaction.atomic():
                        existing = create_node(parent=Access(node, parent.level), name=name, kind=Kind.FOLDER, by=by)
                except errors.NameClash:
                    existing = Node.objects.live().get(parent=node, name=name)
            if not existing.is_container:
                raise errors.InvalidInput(f"{display_path(existing)} is a {existing.kind}, not a folder.")
            node = existing
    return node
