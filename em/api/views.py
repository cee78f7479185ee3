"""Node tree endpoints. Each view parses, calls one service, and presents the result."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.api.serializers import MeSerializer
from accounts.permissions import ApiKeyScopeOrPublicRead
from em import access, errors
from em.access import Level
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
from em.services import nodes as node_services
from em.services import paths, sharing, trash
from em.services.nodes import root_of

ORDERINGS = {
    "name": ("name", "pk"),
    "kind": ("kind", "name", "pk"),
    "modified": ("modified_at", "pk"),
    "created": ("created_at", "pk"),
}


def _folder(user: Any, node_id: UUID | None, path: str | None) -> Node:
    """The node a request names by id or by path (the serializers require exactly one)."""
    if node_id is None:
        return paths.resolve(user, path or "")
    return access.get_node(user, node_id).node


def _paginated(view: APIView, request: Request, queryset: Any) -> Response:
    paginator = PagePagination()
    page: list[Node] | None = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(present(request.user, page or []))


class NodeCreateView(APIView):
    @extend_schema(request=NodeCreateSerializer, responses={201: NodeSerializer}, summary="Create a node")
    def post(self, request: Request) -> Response:
        data = NodeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        parent = _folder(request.user, v.get("parent"), v.get("parent_path"))
        target = access.get_node(request.user, v["target"]).node if "target" in v else None
        node = node_services.create_node(
            parent=parent,
            name=v["name"],
            kind=v["kind"],
            by=request.user,
            labels=v.get("labels"),
            description=v.get("description", ""),
            extra=v.get("extra"),
            target=target,
        )
        return Response(present_one(request.user, node), status=status.HTTP_201_CREATED)


class NodeDetailView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NodeSerializer, summary="Get a node")
    def get(self, request: Request, node_id: UUID) -> Response:
        return Response(present_one(request.user, access.get_node(request.user, node_id).node))

    @extend_schema(request=NodeUpdateSerializer, responses=NodeSerializer, summary="Rename, relabel, describe")
    def patch(self, request: Request, node_id: UUID) -> Response:
        data = NodeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = access.get_node(request.user, node_id).node
        node = node_services.update_node(node=node, by=request.user, **data.validated_data)
        return Response(present_one(request.user, node))

    @extend_schema(responses={204: None}, summary="Delete to the trash (restorable for 30 days)")
    def delete(self, request: Request, node_id: UUID) -> Response:
        trash.trash_node(node=access.get_node(request.user, node_id).node, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NodeChildrenView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("ordering", str, enum=[*ORDERINGS, *(f"-{o}" for o in ORDERINGS)]),
            OpenApiParameter("kind", str, enum=Kind.values),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=NodeSerializer(many=True),
        summary="List a folder's children",
    )
    def get(self, request: Request, node_id: UUID) -> Response:
        folder = access.get_node(request.user, node_id).node
        ordering = request.query_params.get("ordering", "name")
        fields = ORDERINGS.get(ordering.removeprefix("-"))
        if fields is None:
            raise errors.InvalidInput(f"Order by one of {', '.join(ORDERINGS)} (prefix '-' to reverse).")
        if ordering.startswith("-"):
            fields = tuple(f"-{f}" for f in fields)
        children = Node.objects.live().filter(parent=folder)
        kind = request.query_params.get("kind")
        if kind:
            if kind not in Kind.values:
                raise errors.InvalidInput(f"Unknown kind {kind!r}.")
            children = children.filter(kind=kind)
        children = children.select_related("owner", "created_by", "editor", "target").order_by(*fields)
        return _paginated(self, request, children)


class NodeResolveView(APIView):
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
        return Response(present_one(request.user, paths.resolve(request.user, path)))


class NodeMoveView(APIView):
    @extend_schema(request=MoveSerializer, responses=NodeSerializer, summary="Move (and optionally rename)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        node = access.get_node(request.user, node_id).node
        destination = _folder(request.user, v.get("destination"), v.get("destination_path"))
        node = node_services.move_node(node=node, destination=destination, by=request.user, name=v.get("name"))
        return Response(present_one(request.user, node))


class NodeRestoreView(APIView):
    @extend_schema(request=None, responses=NodeSerializer, summary="Restore from the trash")
    def post(self, request: Request, node_id: UUID) -> Response:
        node = access.get_node(request.user, node_id, trashed=True).node
        node = trash.restore_node(node=node, by=request.user)
        return Response(present_one(request.user, node))


class NodeSharesView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    def _shares(self, request: Request, node: Node) -> Response:
        shares = sharing.shares_of(node)
        where = paths.display_paths([s.granted_on for s in shares])
        return Response(present_shares(node, shares, where))

    @extend_schema(responses=SharesSerializer, summary="Who can see this node, and why")
    def get(self, request: Request, node_id: UUID) -> Response:
        return self._shares(request, access.get_node(request.user, node_id).node)

    @extend_schema(request=ShareRequestSerializer, responses=SharesSerializer, summary="Share (owner only)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = ShareRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        node = access.get_node(request.user, node_id).node
        sharing.share(
            node=node,
            to=sharing.principal(v["type"], v.get("name")),
            level=Level.EDIT if v["level"] == "edit" else Level.VIEW,
            by=request.user,
        )
        return self._shares(request, node)


class NodeUnshareView(APIView):
    @extend_schema(
        responses=inline_serializer("Unshared", {"removed": serializers.IntegerField()}),
        summary="Unshare here and everywhere below (owner only)",
        operation_id="nodes_unshare",
    )
    def delete(self, request: Request, node_id: UUID, principal_type: str, name: str | None = None) -> Response:
        node = access.get_node(request.user, node_id).node
        removed = sharing.unshare(node=node, of=sharing.principal(principal_type, name), by=request.user)
        return Response({"removed": removed})


class NodeUnsharePublicView(NodeUnshareView):
    @extend_schema(
        responses=inline_serializer("UnsharedPublic", {"removed": serializers.IntegerField()}),
        summary="Stop sharing with everyone, here and below (owner only)",
        operation_id="nodes_unshare_public",
    )
    def delete(
        self, request: Request, node_id: UUID, principal_type: str = "public", name: str | None = None
    ) -> Response:
        return super().delete(request, node_id, "public")


class SharedWithMeView(APIView):
    @extend_schema(responses=NodeSerializer(many=True), summary="Nodes shared with you or your groups")
    def get(self, request: Request) -> Response:
        return _paginated(self, request, sharing.shared_with(request.user).order_by("name", "pk"))


class PublicNodesView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NodeSerializer(many=True), summary="Nodes shared with everyone")
    def get(self, request: Request) -> Response:
        return _paginated(self, request, sharing.shared_with_public().order_by("name", "pk"))


class TrashView(APIView):
    @extend_schema(responses=NodeSerializer(many=True), summary="Your trash, newest first")
    def get(self, request: Request) -> Response:
        entries = trash.trash_of(request.user).select_related("owner", "created_by", "editor", "target")
        return _paginated(self, request, entries)


class TrashEntryView(APIView):
    @extend_schema(responses={204: None}, summary="Delete a trash entry for good")
    def delete(self, request: Request, node_id: UUID) -> Response:
        node = access.get_node(request.user, node_id, trashed=True).node
        trash.delete_forever(node=node, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
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
