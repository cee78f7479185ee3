"""Node tree endpoints. Each view parses, calls one service, and presents the result."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services as account_services
from accounts.api.serializers import MeSerializer
from accounts.permissions import ApiKeyScopeOrPublicRead
from em import errors
from em.access import Level
from em.api.base import READS, CheckedView, NodeView
from em.api.pagination import PagePagination
from em.api.serializers import (
    MoveSerializer,
    NodeCreateSerializer,
    NodeSerializer,
    NodeUpdateSerializer,
    ShareRequestSerializer,
    SharesSerializer,
    present,
    present_one,
    present_shares,
)
from em.models import Kind, Node
from em.services import lookup, paths, sharing, trash
from em.services import nodes as node_services
from em.services.nodes import root_of

ORDERINGS = {
    "name": ("name", "pk"),
    "kind": ("kind", "name", "pk"),
    "modified": ("modified_at", "pk"),
    "created": ("created_at", "pk"),
}


NODE_PAGE = inline_serializer(
    "NodePage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": NodeSerializer(many=True),
    },
)


def _ref(node_id: UUID | None, path: str | None) -> UUID | str:
    """The node a request body names by id or by path (the serializers require exactly one)."""
    return node_id if node_id is not None else (path or "")


def _paginated(view: CheckedView, request: Request, queryset: Any) -> Response:
    paginator = PagePagination()
    page: list[Node] | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(present(view.checker, page or []))


class NodeCreateView(CheckedView):
    @extend_schema(request=NodeCreateSerializer, responses={201: NodeSerializer}, summary="Create a folder or shortcut")
    def post(self, request: Request) -> Response:
        data = NodeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        parent = lookup.find(_ref(v.get("parent"), v.get("parent_path")))
        target = lookup.find(v["target"]) if "target" in v else None
        self.checker.levels([f.node for f in (parent, target) if f is not None and f.node is not None])
        node = node_services.create_node(
            parent=lookup.settle(self.checker, parent, need=Level.EDIT),
            name=v["name"],
            kind=v["kind"],
            by=request.user,
            labels=v.get("labels"),
            description=v.get("description", ""),
            extra=v.get("extra"),
            target=lookup.settle(self.checker, target) if target is not None else None,
        )
        return Response(present_one(self.checker, node), status=status.HTTP_201_CREATED)


class NodeDetailView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NodeSerializer, summary="Get a node")
    def get(self, request: Request, node_id: UUID) -> Response:
        return Response(present_one(self.checker, self.node))

    @extend_schema(request=NodeUpdateSerializer, responses=NodeSerializer, summary="Rename, relabel, describe")
    def patch(self, request: Request, node_id: UUID) -> Response:
        data = NodeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = node_services.update_node(node=self.access, by=request.user, **data.validated_data)
        return Response(present_one(self.checker, node))

    @extend_schema(responses={204: None}, summary="Delete to the trash (restorable for 30 days)")
    def delete(self, request: Request, node_id: UUID) -> Response:
        trash.trash_node(node=self.access, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeChildrenView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("ordering", str, enum=[*ORDERINGS, *(f"-{o}" for o in ORDERINGS)]),
            OpenApiParameter("kind", str, enum=Kind.values),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=NODE_PAGE,
        summary="List a folder's children",
    )
    def get(self, request: Request, node_id: UUID) -> Response:
        ordering = request.query_params.get("ordering", "name")
        fields = ORDERINGS.get(ordering.removeprefix("-"))
        if fields is None:
            raise errors.InvalidInput(f"Order by one of {', '.join(ORDERINGS)} (prefix '-' to reverse).")
        if ordering.startswith("-"):
            fields = tuple(f"-{f}" for f in fields)
        children = Node.objects.live().filter(parent=self.node)
        kind = request.query_params.get("kind")
        if kind:
            if kind not in Kind.values:
                raise errors.InvalidInput(f"Unknown kind {kind[:40]!r}.")
            children = children.filter(kind=kind)
        children = children.select_related("owner", "created_by", "editor", "target").order_by(*fields)
        return _paginated(self, request, children)


class NodeResolveView(CheckedView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[OpenApiParameter("path", str, required=True, description="e.g. `/alice/a/b`")],
        responses=NodeSerializer,
        summary="Find a node by its path",
    )
    def get(self, request: Request) -> Response:
        path = request.query_params.get("path")
        if not path:
            raise errors.InvalidInput("Give the path to resolve as `?path=/user/folder/...`.")
        return Response(present_one(self.checker, lookup.resolve(request.user, path, checker=self.checker)))


class NodeMoveView(NodeView):
    @extend_schema(request=MoveSerializer, responses=NodeSerializer, summary="Move (and optionally rename)")
    def post(self, request: Request, node_id: UUID) -> Response:
        destination = lookup.settle(self.checker, self.destination, need=Level.EDIT)
        node = node_services.move_node(node=self.access, destination=destination, by=request.user, name=self.name)
        self.checker.grants_dropped(node.path)  # it took exactly the destination's permissions
        return Response(present_one(self.checker, node))

    def also_named(self, request: Request) -> list[Node]:
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        self.name: str | None = v.get("name")
        self.destination = lookup.find(_ref(v.get("destination"), v.get("destination_path")))
        return [self.destination.node] if self.destination.node is not None else []


class NodeRestoreView(NodeView):
    trashed = True
    bodiless = frozenset({"POST"})

    @extend_schema(request=None, responses=NodeSerializer, summary="Restore from the trash (its owner only)")
    def post(self, request: Request, node_id: UUID) -> Response:
        node = trash.restore_node(node=self.access, by=request.user)
        return Response(present_one(self.checker, node))


class NodeSharesView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    needs = {**READS, "POST": Level.OWNER}

    def _shares(self, node: Node) -> Response:
        shares = sharing.shares_of(node)
        where = paths.display_paths([s.granted_on for s in shares])
        return Response(present_shares(node, shares, where))

    @extend_schema(responses=SharesSerializer, summary="Who can see this node, and why")
    def get(self, request: Request, node_id: UUID) -> Response:
        return self._shares(self.node)

    @extend_schema(request=ShareRequestSerializer, responses=SharesSerializer, summary="Share (owner only)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = ShareRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        sharing.share(
            node=self.access,
            to=sharing.principal(v["type"], v.get("name")),
            level=Level.EDIT if v["level"] == "edit" else Level.VIEW,
            by=request.user,
        )
        return self._shares(self.node)


class NodeUnshareView(NodeView):
    needs = {**READS, "DELETE": Level.OWNER}

    @extend_schema(
        responses={204: None},
        summary="Unshare here and everywhere below (owner only)",
        operation_id="nodes_unshare",
    )
    def delete(self, request: Request, node_id: UUID, principal_type: str, name: str | None = None) -> Response:
        sharing.unshare(node=self.access, of=sharing.principal(principal_type, name), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeUnsharePublicView(NodeUnshareView):
    @extend_schema(
        responses={204: None},
        summary="Stop sharing with everyone, here and below (owner only)",
        operation_id="nodes_unshare_public",
    )
    def delete(
        self, request: Request, node_id: UUID, principal_type: str = "public", name: str | None = None
    ) -> Response:
        return super().delete(request, node_id, "public")


class SharedWithMeView(CheckedView):
    @extend_schema(responses=NODE_PAGE, summary="Nodes shared with you or your groups")
    def get(self, request: Request) -> Response:
        return _paginated(self, request, sharing.shared_with(request.user).order_by("name", "pk"))


class PublicNodesView(CheckedView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NODE_PAGE, summary="Nodes shared with everyone")
    def get(self, request: Request) -> Response:
        return _paginated(self, request, sharing.shared_with_public().order_by("name", "pk"))


class TrashView(CheckedView):
    @extend_schema(responses=NODE_PAGE, summary="Your trash, newest first")
    def get(self, request: Request) -> Response:
        entries = trash.trash_of(request.user).select_related("owner", "created_by", "editor", "target")
        return _paginated(self, request, entries)


class TrashEntryView(NodeView):
    trashed = True

    @extend_schema(responses={204: None}, summary="Delete a trash entry for good (its owner only)")
    def delete(self, request: Request, node_id: UUID) -> Response:
        trash.delete_forever(node=self.access, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(CheckedView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)  # sign-in is the default permission
        root = root_of(user)
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "is_staff": user.is_staff,
                "root": {"id": root.pk, "path": paths.display_path(root)},
                "groups": list(account_services.groups_for(user).filter(user=user).values_list("name", flat=True)),
            }
        )
