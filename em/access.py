"""Who may do what to which node: the one place where sharing is resolved (ARCHITECTURE.md Sharing).

Grants are stored only where they were made (django-guardian rows on `Node`); a user's effective level
on a node is the highest grant on the node or any ancestor, to the user, to one of the user's groups or
to *public*, and the owner of a tree (and staff) hold every right in it. Because the ancestors of a node
are `path IN (prefixes)`, every answer here costs a constant number of queries whatever the depth:

* `levels(user, nodes)` — one query for any number of nodes (`Checker` remembers them for a request);
* `scope(queryset, user)` — one query for the user's grants, then a queryset of path ranges;
* `get_node(user, id, need=...)` — the node plus its level: 404 when the user may not see it,
  403 when they may see it but not do what they asked. A trashed node exists for its owner and staff only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

from django.conf import settings
from django.db.models import CharField, Q, QuerySet, Value

from accounts.models import PUBLIC_GROUP
from em import errors, tree
from em.models import Node, NodeGroupObjectPermission, NodeUserObjectPermission
from em.prepared import Prepared

if TYPE_CHECKING:
    from em.models import NodeQuerySet

__all__ = [
    "PUBLIC_GROUP",
    "Access",
    "Checker",
    "Level",
    "check",
    "checker_for",
    "ensure",
    "get_node",
    "granted_roots",
    "level",
    "levels",
    "load",
    "scope",
    "scope_below",
]


class Level(IntEnum):
    NONE = 0
    VIEW = 1
    EDIT = 2
    OWNER = 3  # the tree's owner or staff: every right, including sharing

    @property
    def label(self) -> str:
        return self.name.lower()


CODENAME_LEVEL = {"view_node": Level.VIEW, "change_node": Level.EDIT, "owner": Level.OWNER}
LEVEL_CODENAMES = {Level.VIEW: ("view_node",), Level.EDIT: ("view_node", "change_node")}


def _is_admin(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.is_staff))


def _grant_rows(user: Any, paths: list[str] | None) -> Iterable[tuple[str, str]] | None:
    """(path, codename) of every grant reaching `user`, optionally only on `paths`; one query.

    Without `paths`, the user's own root comes along as an `owner` row, so their own tree is covered.
    Anonymous visitors see public *view* grants, and only when EM_PUBLIC_ANONYMOUS is on. Every listing
    and search asks for all of a user's grants (`scope`): that query is compiled once per connection.
    """
    if not user.is_authenticated:
        if not settings.EM_PUBLIC_ANONYMOUS:
            return None
        return _PUBLIC_GRANTS.rows() if paths is None else _public_grants(paths)
    if paths is None:
        return _EVERY_GRANT.rows(user.pk, user.pk, user.pk)
    # asked about given nodes: the caller has settled ownership already
    direct, via_group = _user_grants(user.pk, user.pk, paths)
    return direct.union(via_group, all=True)


_GRANT_COLUMNS = ("content_object__path", "permission__codename")


def _on(paths: list[str] | None) -> Q:
    return Q() if paths is None else Q(content_object__path__in=paths)


def _public_grants(paths: list[str] | None) -> QuerySet[Any]:
    return NodeGroupObjectPermission.objects.filter(
        _on(paths), group__name=PUBLIC_GROUP, permission__codename="view_node"
    ).values_list(*_GRANT_COLUMNS)


def _user_grants(direct_user: Any, group_user: Any, paths: list[str] | None) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The grants made to a user, and those made to their groups or to everyone (by user id)."""
    direct = NodeUserObjectPermission.objects.filter(_on(paths), user=direct_user).values_list(*_GRANT_COLUMNS)
    via_group = NodeGroupObjectPermission.objects.filter(
        _on(paths), Q(group__user=group_user) | Q(group__name=PUBLIC_GROUP)
    ).values_list(*_GRANT_COLUMNS)
    return direct, via_group


def _every_grant(owner: Any, direct_user: Any, group_user: Any) -> QuerySet[Any]:
    """Everything reaching a user: their root (as `owner`), then their grants; the user's id three times,
    as three values, because a `Prepared` value appears once among the parameters."""
    own = (
        Node.objects.filter(parent__isnull=True, owner=owner)
        .annotate(code=Value("owner", output_field=CharField()))
        .values_list("path", "code")
    )
    return own.union(*_user_grants(direct_user, group_user, None), all=True)


_USER_ID = Node._meta.get_field("owner").target_field
_EVERY_GRANT: Prepared[Any] = Prepared(_every_grant, (_USER_ID, -1), (_USER_ID, -2), (_USER_ID, -3))
_PUBLIC_GRANTS: Prepared[Any] = Prepared(lambda: _public_grants(None))


class Owned(tree.Placed, Protocol):
    """What a rights check reads of a node: where it is and whose tree it is in."""

    @property
    def owner_id(self) -> Any: ...


class Checker:
    """One user's rights, read from the grant tables at most once per path and remembered.

    A view makes one per request (`em.api.base`), so loading a node, checking a second one and presenting
    the answer ask the grant tables once, as Wagtail caches a user's permissions per request; every
    answer is computed from the paths of the nodes' ancestors. Not for keeping beyond a request: grants
    change. A service that drops grants under a path it has just moved says so (`grants_dropped`).
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self._granted: dict[str, Level] = {}  # path -> highest grant on exactly that node
        self._known: set[str] = set()  # paths whose grants have been read

    def levels(self, nodes: Iterable[Owned]) -> dict[Any, Level]:
        """The effective level on each node (a `Node`, or a row of its values), by its `pk` as given (a
        UUID, or its text): one query for the paths not read yet, none for admins, owners or paths read
        before."""
        nodes = list(nodes)
        user = self.user
        if _is_admin(user):
            return {node.pk: Level.OWNER for node in nodes}
        result = {node.pk: Level.OWNER for node in nodes if user.is_authenticated and node.owner_id == user.pk}
        pending = [node for node in nodes if node.pk not in result]
        if not pending:
            return result
        unknown = sorted({p for node in pending for p in tree.ancestor_paths(node.path)} - self._known)
        if unknown:
            rows = _grant_rows(user, unknown)
            for path, codename in rows if rows is not None else ():
                self._granted[path] = max(self._granted.get(path, Level.NONE), CODENAME_LEVEL[codename])
            self._known.update(unknown)
        for node in pending:
            level = max((self._granted.get(p, Level.NONE) for p in tree.ancestor_paths(node.path)), default=Level.NONE)
            result[node.pk] = min(level, Level.VIEW) if not user.is_authenticated else level
        return result

    def level(self, node: Node) -> Level:
        return self.levels([node])[node.pk]

    def check(self, node: Node, need: Level = Level.VIEW, *, not_found: str = "Node not found.") -> Access:
        """The caller's access to a node already loaded; NotFound below view (or, for a trashed node, below
        owner: a trash entry exists only for its owner and staff), PermissionDenied below `need`."""
        have = self.level(node)
        if have < Level.VIEW or (node.deleted_at is not None and have < Level.OWNER):
            raise errors.NotFound(not_found)
        if have < need:
            raise errors.PermissionDenied(_denied_message(need))
        return Access(node, have)

    def grants_dropped(self, path: str) -> None:
        """The subtree at `path` holds no grants any more (it was moved: it takes its new parent's)."""
        for known in [p for p in self._known if tree.is_within(p, path)]:
            self._granted.pop(known, None)
        self._known.add(path)
        self._granted.pop(path, None)


def checker_for(who: Any) -> Checker:
    """`who` if it is a request's Checker already (its grants are reused), else a new one for the user."""
    return who if isinstance(who, Checker) else Checker(who)


def levels(user: Any, nodes: Iterable[Owned]) -> dict[UUID, Level]:
    """The effective level of `user` (or a request's Checker) on each node, in one query at most."""
    return checker_for(user).levels(nodes)


def level(user: Any, node: Node) -> Level:
    return levels(user, [node])[node.pk]


def granted_roots(user: Any, minimum: Level = Level.VIEW) -> list[str]:
    """Paths of the topmost nodes where `user` holds at least `minimum`, nested ones pruned; one query."""
    rows = _grant_rows(user, None)
    paths = sorted(
        {path for path, codename in (rows if rows is not None else ()) if CODENAME_LEVEL[codename] >= minimum}
    )
    roots: list[str] = []
    for path in paths:  # sorted, so an ancestor comes right before its descendants
        if not roots or not tree.is_within(path, roots[-1]):
            roots.append(path)
    return roots


def scope(queryset: NodeQuerySet, user: Any, *, minimum: Level = Level.VIEW) -> NodeQuerySet:
    """`queryset` narrowed to live nodes where `user` holds at least `minimum`."""
    live = queryset.live()
    if _is_admin(user):
        return live
    if not user.is_authenticated and minimum > Level.VIEW:
        return live.none()
    ranges = Q()
    for path in granted_roots(user, minimum):
        low, high = tree.subtree_range(path)
        ranges |= Q(path__gte=low, path__lt=high)
    return live.filter(ranges) if ranges else live.none()


@dataclass(frozen=True)
class Access:
    """A node together with what the requesting user may do to it: proof that a check was made.

    Services take a `Node | Access` (`ensure`): given an Access they trust it and ask nothing more, so a
    right the view proved is never checked twice.
    """

    node: Node
    level: Level

    @property
    def can_edit(self) -> bool:
        return self.level >= Level.EDIT

    @property
    def can_share(self) -> bool:
        return self.level >= Level.OWNER


def scope_below(queryset: NodeQuerySet, folder: Access) -> NodeQuerySet:
    """`queryset`'s live nodes below (and at) a folder the caller was checked to see, with no query:
    a right on a folder covers everything below it (ARCHITECTURE.md Sharing), so the caller's grants
    elsewhere cannot narrow this any further than `scope` would."""
    if folder.level < Level.VIEW:
        return queryset.none()
    return queryset.live().subtree(folder.node.path)


def check(user: Any, node: Node, need: Level = Level.VIEW) -> Access:
    """The caller's access to a node already loaded; NotFound below view, PermissionDenied below `need`."""
    return Checker(user).check(node, need)


def ensure(user: Any, node: Node | Access, need: Level = Level.VIEW) -> Access:
    """`node` checked for `need`: an Access already proven answers without a query."""
    if isinstance(node, Access):
        if node.level < need:
            raise errors.PermissionDenied(_denied_message(need))
        return node
    return check(user, node, need)


# What a node is loaded with when it will be presented: the people it names and a shortcut's target.
PRESENTED = ("owner", "created_by", "editor", "target")


_LOADS: dict[tuple[bool, tuple[str, ...]], Prepared[Node]] = {}


def load(node_id: UUID | str, *, trashed: bool = False, related: tuple[str, ...] = PRESENTED) -> Node | None:
    """A live node (or, with `trashed`, a trash entry) by id, unchecked: pass it to a check.

    `related` names what comes along in the same query: a request that only writes below the node (a
    new child, metric points) asks for less, as every joined column costs time to read. Each form of
    the query is compiled once (`em.prepared`): nearly every request makes one.
    """
    prepared = _LOADS.get((trashed, related))
    if prepared is None:
        prepared = _LOADS[trashed, related] = Prepared(
            lambda pk: Node.objects.select_related(*related).filter(pk=pk, deleted_at__isnull=not trashed)[:1],
            (Node._meta.pk, uuid4()),
        )
    node = prepared.first(node_id)
    if node is None or (trashed and not node.trashed):
        return None
    return node


def get_node(
    user: Any, node_id: UUID | str, *, need: Level = Level.VIEW, trashed: bool = False, checker: Checker | None = None
) -> Access:
    """Load a node for `user`: live nodes only, or only trash entries with `trashed=True` (the owner's)."""
    node = load(node_id, trashed=trashed)
    if node is None:
        raise errors.NotFound("Node not found.")
    return (checker or Checker(user)).check(node, need)


def _denied_message(need: Level) -> str:
    if need >= Level.OWNER:
        return "Only the owner of this tree (or staff) may do this."
    return "You can view this node but not change it."
