"""Shapes of nodes and shares on the wire.

A node's JSON carries things computed for the caller (its `/owner/a/b` path, the caller's access level,
whether a shortcut's target is reachable). `NodePresenter` computes them for a whole page at once, in a
constant number of queries, and hands them to `NodeSerializer` through the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from em import access
from em.models import Kind, Node
from em.services.paths import display_paths
from em.services.sharing import Share
from em.strict import StrictSerializer


class NodePresenter:
    """Paths, access levels and shortcut targets for a batch of nodes: two queries at most, and only
    one (the paths) when the request's `Checker` has read the grants on these nodes already."""

    def __init__(self, user: Any, nodes: Sequence[Node]) -> None:
        checker = access.checker_for(user)
        self.nodes = list(nodes)
        targets = [n.target for n in self.nodes if n.target is not None]
        levels = checker.levels([*self.nodes, *targets])
        self.visible_targets = {t.pk: t for t in targets if levels[t.pk] >= access.Level.VIEW}
        self.paths = display_paths([*self.nodes, *self.visible_targets.values()])
        self.levels = {node.pk: levels[node.pk] for node in self.nodes}

    def context(self) -> dict[str, Any]:
        return {"paths": self.paths, "levels": self.levels, "targets": self.visible_targets}


class TargetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    path = serializers.CharField()


class NodeSerializer(serializers.ModelSerializer):
    path = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField(help_text="What you may do here: view, edit or owner.")
    owner = serializers.CharField(source="owner.username", read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True)
    editor = serializers.CharField(source="editor.username", default=None, read_only=True)
    storage_type = serializers.IntegerField(read_only=True)
    # DRF's metaclass pops declared fields off the class, so this does not shadow Field.parent.
    parent = serializers.UUIDField(source="parent_id", read_only=True, allow_null=True)  # type: ignore[assignment]
    target = serializers.SerializerMethodField()

    class Meta:
        model = Node
        fields = [
            "id",
            "name",
            "kind",
            "storage_type",
            "path",
            "parent",
            "owner",
            "access",
            "labels",
            "description",
            "extra",
            "target",
            "created_at",
            "modified_at",
            "created_by",
            "editor",
            "deleted_at",
        ]
        read_only_fields = fields

    def get_path(self, node: Node) -> str:
        paths: dict[UUID, str] = self.context["paths"]
        return paths[node.pk]

    def get_access(self, node: Node) -> str:
        levels: dict[UUID, access.Level] = self.context["levels"]
        return levels[node.pk].label

    @extend_schema_field(TargetSerializer(allow_null=True))
    def get_target(self, node: Node) -> dict[str, Any] | None:
        """A shortcut's target if the caller may see it; null when dangling or out of reach alike."""
        if node.kind != Kind.SHORTCUT or node.target_id is None:
            return None
        target = self.context["targets"].get(node.target_id)
        if target is None or target.deleted_at is not None:
            return None
        return {"id": target.pk, "name": target.name, "kind": target.kind, "path": self.context["paths"][target.pk]}


def present(user: Any, nodes: Sequence[Node]) -> list[dict[str, Any]]:
    """Node JSON for `user` (or the request's `access.Checker`, whose grants are reused)."""
    presenter = NodePresenter(user, nodes)
    return list(NodeSerializer(presenter.nodes, many=True, context=presenter.context()).data)


def present_one(user: Any, node: Node) -> dict[str, Any]:
    return present(user, [node])[0]


class NodeCreateSerializer(StrictSerializer):
    parent = serializers.UUIDField(  # type: ignore[assignment]  # a declared field: see NodeSerializer
        required=False, help_text="The folder to create in (or `parent_path`)."
    )
    parent_path = serializers.CharField(required=False, help_text="e.g. `/alice/experiments`.")
    name = serializers.CharField(trim_whitespace=False, allow_blank=True, max_length=10_000)
    kind = serializers.ChoiceField(
        choices=[Kind.FOLDER, Kind.SHORTCUT],
        default=Kind.FOLDER,
        help_text="Folders and shortcuts; a run, artifact, AutoTune, model or dataset comes with its content "
        "from its own endpoint (uploads, `POST /runs`).",
    )
    labels = serializers.ListField(child=serializers.CharField(trim_whitespace=False, allow_blank=True), required=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    extra = serializers.JSONField(required=False)
    target = serializers.UUIDField(required=False, help_text="For a Shortcut: the node it points at.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("parent" in attrs) == ("parent_path" in attrs):
            raise serializers.ValidationError("Give exactly one of `parent` and `parent_path`.")
        return attrs


class NodeUpdateSerializer(StrictSerializer):
    name = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True, max_length=10_000)
    labels = serializers.ListField(child=serializers.CharField(trim_whitespace=False, allow_blank=True), required=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    extra = serializers.JSONField(required=False)


class MoveSerializer(StrictSerializer):
    destination = serializers.UUIDField(required=False, help_text="The folder to move into.")
    destination_path = serializers.CharField(required=False)
    name = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True, max_length=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("destination" in attrs) == ("destination_path" in attrs):
            raise serializers.ValidationError("Give exactly one of `destination` and `destination_path`.")
        return attrs


class ShareRequestSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=["user", "group", "public"])
    name = serializers.CharField(required=False, help_text="The user or group name; not for public.")
    level = serializers.ChoiceField(choices=["view", "edit"])


class ShareSerializer(serializers.Serializer):
    """One grant reaching the node; `inherited_from` names the folder it was made on, if not this node."""

    type = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    level = serializers.CharField()
    inherited_from = serializers.DictField(allow_null=True)


class SharesSerializer(serializers.Serializer):
    owner = serializers.CharField()
    summary = serializers.CharField(help_text="Who can see this node, in a sentence.")
    shares = ShareSerializer(many=True)


def present_shares(node: Node, shares: list[Share], paths: dict[UUID, str]) -> dict[str, Any]:
    rows = [
        {
            "type": s.principal_type,
            "name": s.principal_name,
            "level": s.level.label,
            "inherited_from": None
            if s.granted_on.pk == node.pk
            else {"id": s.granted_on.pk, "path": paths[s.granted_on.pk]},
        }
        for s in shares
    ]
    return {"owner": node.owner.username, "summary": _summary(node, shares), "shares": rows}


def _summary(node: Node, shares: list[Share]) -> str:
    owner = node.owner.username
    if any(s.principal_type == "public" for s in shares):
        return f"Every signed-in user can see this, and {owner} owns it."
    people = sorted({f"{s.principal_type} {s.principal_name}" for s in shares})
    if not people:
        return f"Only {owner} (and staff) can see this."
    return f"{owner} (the owner) and {', '.join(people)} can see this."
