"""API keys and groups (`/me`, which joins the account to its tree, is served by `em.api.views`)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.contrib.auth.models import Group, User
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    GroupCreateSerializer,
    GroupSerializer,
    UsernameSerializer,
)
from accounts.models import GroupManager
from em import errors


def signed_in(request: Request) -> User:
    """The request's user; every view here requires sign-in (the default permission class)."""
    return cast(User, request.user)


class ApiKeysView(APIView):
    @extend_schema(responses=ApiKeySerializer(many=True), summary="Your API keys (not revoked)")
    def get(self, request: Request) -> Response:
        return Response(ApiKeySerializer(services.keys_of(request.user), many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer}, summary="Create an API key"
    )
    def post(self, request: Request) -> Response:
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.create_key(user=request.user, **data.validated_data)
        key.key = raw  # type: ignore[attr-defined]  # shown this once, never stored
        key.uuid_key = services.uuid_form(raw)  # type: ignore[attr-defined]  # likewise
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)


class ApiKeyView(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an API key")
    def delete(self, request: Request, key_id: UUID) -> Response:
        key = services.keys_of(request.user).filter(pk=key_id).first()
        if key is None:
            raise errors.NotFound("API key not found.")
        services.revoke_key(key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _groups(request: Request):  # type: ignore[no-untyped-def]
    return services.groups_for(request.user).prefetch_related(
        "user_set", Prefetch("managers", queryset=GroupManager.objects.select_related("user"))
    )


def _group(request: Request, group_id: int) -> Group:
    group = _groups(request).filter(pk=group_id).first()
    if group is None:
        raise errors.NotFound("Group not found.")
    return group


class GroupsView(APIView):
    @extend_schema(responses=GroupSerializer(many=True), summary="Groups you belong to or manage")
    def get(self, request: Request) -> Response:
        return Response(GroupSerializer(_groups(request), many=True).data)

    @extend_schema(request=GroupCreateSerializer, responses={201: GroupSerializer}, summary="Create a group")
    def post(self, request: Request) -> Response:
        data = GroupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.create_group(name=data.validated_data["name"], by=request.user)
        return Response(GroupSerializer(_group(request, group.pk)).data, status=status.HTTP_201_CREATED)


class GroupView(APIView):
    @extend_schema(responses=GroupSerializer, summary="A group's members and managers")
    def get(self, request: Request, group_id: int) -> Response:
        return Response(GroupSerializer(_group(request, group_id)).data)


class GroupMembersView(APIView):
    """Add (POST) a member, or a manager with `role=managers` in the URL."""

    @extend_schema(
        request=UsernameSerializer,
        responses=GroupSerializer,
        summary="Add a member or manager",
        operation_id="groups_add_member",
    )
    def post(self, request: Request, group_id: int, role: str) -> Response:
        data = UsernameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = _group(request, group_id)
        add = services.add_manager if role == "managers" else services.add_member
        add(group=group, username=data.validated_data["username"], by=request.user)
        return Response(GroupSerializer(_group(request, group_id)).data)


class GroupMemberView(APIView):
    @extend_schema(responses={204: None}, summary="Remove a member or manager", operation_id="groups_remove_member")
    def delete(self, request: Request, group_id: int, role: str, username: str) -> Response:
        group = _group(request, group_id)
        remove = services.remove_manager if role == "managers" else services.remove_member
        remove(group=group, username=username, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
