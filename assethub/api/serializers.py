"""Shapes of the Asset Hub on the wire: requests derive from em's StrictSerializer (an unknown key is a
400), answers are plain serializers so the OpenAPI schema documents exactly what is sent."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from em.api.serializers import NodeSerializer
from em.models import Kind
from em.strict import StrictSerializer

from ..models import MAIN, Branch, StagedChange, Tag, Version


class AssetCreateSerializer(StrictSerializer):
    parent = serializers.UUIDField(  # type: ignore[assignment]  # a declared field: see em's NodeSerializer
        required=False, help_text="The folder to create in (or `parent_path`); default /<you>/t9k-assethub/<kind>."
    )
    parent_path = serializers.CharField(required=False, help_text="e.g. `/alice/t9k-assethub/model/cv`.")
    make_folder = serializers.BooleanField(default=False, help_text="Create the folders of `parent_path`.")
    name = serializers.CharField(trim_whitespace=False, max_length=10_000)
    kind = serializers.ChoiceField(choices=[Kind.MODEL, Kind.DATASET])
    labels = serializers.ListField(child=serializers.CharField(trim_whitespace=False, allow_blank=True), required=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "parent" in attrs and "parent_path" in attrs:
            raise serializers.ValidationError("Give at most one of `parent` and `parent_path`.")
        return attrs


class StageRequestSerializer(StrictSerializer):
    add = serializers.JSONField(required=False, help_text='[{"path", "size", "sha256", "mtime"}], as for uploads.')
    delete = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False), required=False, help_text="Files or folders to remove."
    )


class CommitRequestSerializer(StrictSerializer):
    branch = serializers.CharField(default=MAIN)
    message = serializers.CharField(allow_blank=True, trim_whitespace=False, default="")
    metadata = serializers.JSONField(required=False, help_text="Free key/value metadata of the version (≤ 64 KiB).")
    expected_head = serializers.CharField(
        required=False, allow_blank=True, help_text='The head you based this on (`""`: no commit yet); 409 if moved.'
    )


class MergeRequestSerializer(StrictSerializer):
    source = serializers.CharField(  # type: ignore[assignment]  # a declared field, as em's NodeSerializer.parent
        help_text="The branch (or tag, or commit) to merge."
    )
    into = serializers.CharField(default=MAIN)
    message = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    metadata = serializers.JSONField(required=False)
    expected_head = serializers.CharField(required=False, allow_blank=True)


class BranchRequestSerializer(StrictSerializer):
    name = serializers.CharField()
    start = serializers.CharField(required=False, help_text="Where it starts: a ref (default: `main`).")
    orphan = serializers.BooleanField(default=False, help_text="Start empty, with no history.")


class TagRequestSerializer(StrictSerializer):
    name = serializers.CharField()
    ref = serializers.CharField(default=MAIN, help_text="The version to tag: a branch, tag or commit id.")


class VersionSerializer(serializers.ModelSerializer):
    asset = serializers.UUIDField(source="asset_id", read_only=True)
    author = serializers.CharField(source="author.username", default=None, read_only=True, allow_null=True)
    parents = serializers.SerializerMethodField()
    file_count = serializers.IntegerField(source="manifest.file_count", read_only=True)
    total_size = serializers.IntegerField(source="manifest.total_size", read_only=True)
    metadata = serializers.DictField(read_only=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Version
        fields = [
            "id",
            "asset",
            "message",
            "author",
            "created_at",
            "parents",
            "metadata",
            "file_count",
            "total_size",
            "tags",
        ]
        read_only_fields = fields

    def get_parents(self, version: Version) -> list[str]:
        return [p for p in (version.parent_id, version.merged_id) if p]

    def get_tags(self, version: Version) -> list[str]:
        tags = self.context.get("tags", {})
        return sorted(tags.get(version.pk, []))


class BranchSerializer(serializers.ModelSerializer):
    head = serializers.CharField(source="head_id", allow_null=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Branch
        fields = ["name", "head", "created_at", "created_by"]
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="version_id", read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Tag
        fields = ["name", "version", "created_at", "created_by"]
        read_only_fields = fields


class StagedChangeSerializer(serializers.ModelSerializer):
    staged_by = serializers.CharField(source="staged_by.username", read_only=True)
    sha256 = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = StagedChange
        fields = ["path", "op", "sha256", "size", "mtime", "staged_by", "staged_at"]
        read_only_fields = fields


class StagedSerializer(serializers.Serializer):
    branch = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="Digests to PUT to /api/v1/blobs/.")
    staged = serializers.IntegerField(help_text="Changes now staged on the branch.")


class RefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["branch", "tag", "commit"])
    name = serializers.CharField()
    commit = serializers.CharField(allow_null=True)


class ResolvedSerializer(serializers.Serializer):
    asset = NodeSerializer()
    ref = RefSerializer()
    version = VersionSerializer(allow_null=True)


class AssetSerializer(serializers.Serializer):
    asset = NodeSerializer()
    branches = BranchSerializer(many=True)


class FileAddedSerializer(serializers.Serializer):
    path = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class FileChangedSerializer(FileAddedSerializer):
    old_size = serializers.IntegerField()
    old_sha256 = serializers.CharField()


class DiffSummarySerializer(serializers.Serializer):
    added = serializers.IntegerField()
    changed = serializers.IntegerField()
    removed = serializers.IntegerField()
    bytes_added = serializers.IntegerField()
    bytes_removed = serializers.IntegerField()
    bytes_changed = serializers.IntegerField()


class DiffSerializer(serializers.Serializer):
    from_ = RefSerializer()
    to = RefSerializer()
    summary = DiffSummarySerializer()
    added = FileAddedSerializer(many=True)
    changed = FileChangedSerializer(many=True)
    removed = FileAddedSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MergedSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["up_to_date", "fast_forward", "merge"])
    branch = BranchSerializer()
    version = VersionSerializer()
