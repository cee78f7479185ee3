from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from rest_framework import serializers

from accounts.models import ApiKey
from em.strict import StrictSerializer


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    # Django lets a user have no email address: "" then, which `format: email` would refuse.
    email = serializers.CharField(allow_blank=True, help_text="Your email address; empty when none is set.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    # DRF's metaclass pops declared fields off the class, so this does not shadow Serializer.root.
    root = serializers.DictField(help_text="Your root folder: id and path.")  # type: ignore[assignment]
    groups = serializers.ListField(child=serializers.CharField())


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=1000)
    scope = serializers.ChoiceField(choices=ApiKey.Scope.choices, default=ApiKey.Scope.WRITE)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The key itself. It is shown this once and never again.")
    uuid_key = serializers.CharField(
        help_text="The key's UUID form, for clients that accept only a UUID (the T9k SDK: docs/t9k.md). "
        "As secret as the key, shown this once, revoked with it."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "uuid_key"]
        read_only_fields = fields


class GroupSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    managers = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "members", "managers"]
        read_only_fields = fields

    def get_members(self, group: Group) -> list[str]:
        return sorted(u.username for u in group.user_set.all())

    def get_managers(self, group: Group) -> list[str]:
        managers: Any = group.managers  # reverse accessor of GroupManager
        return sorted(m.user.username for m in managers.all())


class GroupCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=1000)


class UsernameSerializer(StrictSerializer):
    username = serializers.CharField()
