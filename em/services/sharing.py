"""Sharing: grants to a user, a group or *public*, at view or edit (ARCHITECTURE.md Sharing).

Grants live where they were made; `em.access` computes them downwards. Sharing a folder therefore
covers what is created in it later, unsharing removes the principal's grants on the node and on every
node below it, and a move drops the moved subtree's grants (`em.services.nodes.relocate_subtree`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from em import access, errors, tree
from em.access import LEVEL_CODENAMES, PUBLIC_GROUP, Access, Level
from em.models import Node, NodeGroupObjectPermission, NodeQuerySet, NodeUserObjectPermission
from em.services.nodes import lock_trees

PrincipalType = Literal["user", "group", "public"]


@dataclass(frozen=True)
class Principal:
    """Who a grant is for. *public* is stored as a grant to the reserved public group."""

    type: PrincipalType
    user: Any = None
    group: Group | None = None

    @property
    def name(self) -> str | None:
        if self.type == "user":
            return str(self.user.get_username())
        if self.type == "group" and self.group is not None:
            return self.group.name
        return None

    def grants(self) -> Any:
        """This principal's grant rows (a queryset over the right guardian table)."""
        if self.type == "user":
            return NodeUserObjectPermission.objects.filter(user=self.user)
        return NodeGroupObjectPermission.objects.filter(group=self.group)


def public_group() -> Group:
    group, _ = Group.objects.get_or_create(name=PUBLIC_GROUP)
    return group


def principal(type_: str, name: str | None = None) -> Principal:
    """Look up the principal a client named; an unknown one is a clear error."""
    if type_ == "public":
        return Principal("public", group=public_group())
    if not name:
        raise errors.InvalidInput(f"Name the {type_} to share with.")
    if type_ == "user":
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise errors.InvalidInput(f"There is no user named {name!r}.", detail={"name": name})
        return Principal("user", user=user)
    if type_ == "group":
        group = Group.objects.filter(name=name).exclude(name=PUBLIC_GROUP).first()
        if group is None:
            raise errors.InvalidInput(f"There is no group named {name!r}.", detail={"name": name})
        return Principal("group", group=group)
    raise errors.InvalidInput(f"Share with a 'user', a 'group' or 'public', not {type_!r}.")


def _permissions(codenames: tuple[str, ...]) -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="em", codename__in=codenames))


def share(*, node: Node | Access, to: Principal, level: Level, by: Any) -> None:
    """Grant `to` exactly `level` on `node` (replacing a grant it had there)."""
    node = access.ensure(by, node, Level.OWNER).node
    if level not in LEVEL_CODENAMES:
        raise errors.InvalidInput("A share is at level 'view' or 'edit'.")
    if to.type == "user" and to.user.pk == node.owner_id:
        raise errors.InvalidInput("The owner already holds every right on their own tree.")
    wanted = _permissions(LEVEL_CODENAMES[level])
    with transaction.atomic():
        to.grants().filter(content_object=node).exclude(permission__in=wanted).delete()
        if to.type == "user":
            NodeUserObjectPermission.objects.bulk_create(
                [NodeUserObjectPermission(user=to.user, content_object=node, permission=p) for p in wanted],
                ignore_conflicts=True,
            )
        else:
            NodeGroupObjectPermission.objects.bulk_create(
                [NodeGroupObjectPermission(group=to.group, content_object=node, permission=p) for p in wanted],
                ignore_conflicts=True,
            )


def unshare(*, node: Node | Access, of: Principal, by: Any) -> int:
    """Remove every grant of `of` on `node` and below it; returns how many grant rows went."""
    node = access.ensure(by, node, Level.OWNER).node
    with transaction.atomic():
        lock_trees(node)  # the subtree's extent must not move under the DELETE
        low, high = tree.subtree_range(node.path)
        removed, _ = of.grants().filter(content_object__path__gte=low, content_object__path__lt=high).delete()
    return removed


@dataclass(frozen=True)
class Share:
    """One grant that reaches a node: who, at what level, and on which node it was made."""

    principal_type: PrincipalType
    principal_name: str | None
    level: Level
    granted_on: Node


def shares_of(node: Node) -> list[Share]:
    """Every grant on `node` or an ancestor, strongest per principal and place; two queries."""
    on_the_way = Q(content_object__path__in=node.ancestor_paths())
    found: dict[tuple[str, str | None, str], Share] = {}
    user_rows = NodeUserObjectPermission.objects.filter(on_the_way).select_related(
        "user", "permission", "content_object"
    )
    group_rows = NodeGroupObjectPermission.objects.filter(on_the_way).select_related(
        "group", "permission", "content_object"
    )
    rows: list[tuple[PrincipalType, str | None, Any]] = [("user", r.user.get_username(), r) for r in user_rows]
    rows += [("public", None, r) if r.group.name == PUBLIC_GROUP else ("group", r.group.name, r) for r in group_rows]
    for type_, name, row in rows:
        key = (type_, name, row.content_object.path)
        level = access.CODENAME_LEVEL[row.permission.codename]
        if key not in found or found[key].level < level:
            found[key] = Share(type_, name, level, row.content_object)
    return sorted(found.values(), key=lambda s: (-len(s.granted_on.path), s.principal_type, s.principal_name or ""))


def shared_with(user: Any) -> NodeQuerySet:
    """Live nodes granted to `user` or one of their groups directly (not via public, not their own)."""
    direct = NodeUserObjectPermission.objects.filter(content_object=OuterRef("pk"), user=user)
    via_group = NodeGroupObjectPermission.objects.filter(content_object=OuterRef("pk"), group__user=user).exclude(
        group__name=PUBLIC_GROUP
    )
    return (
        Node.objects.live()
        .filter(Exists(direct) | Exists(via_group))
        .exclude(owner=user)
        .select_related("owner", "created_by", "editor", "target")
    )


def shared_with_public() -> NodeQuerySet:
    """Live nodes shared with everyone."""
    public = NodeGroupObjectPermission.objects.filter(content_object=OuterRef("pk"), group__name=PUBLIC_GROUP)
    return Node.objects.live().filter(Exists(public)).select_related("owner", "created_by", "editor", "target")
