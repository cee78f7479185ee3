"""Asset Hub endpoints: each view parses, calls one service, and presents the answer (docs/assethub-api.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import ApiKeyScopeOrPublicRead
from em import errors
from em.api.base import CheckedView
from em.api.pagination import PagePagination
from em.api.serializers import present_one

from ..models import Branch, Tag, Version
from ..services import assets, branches, commits, diff, merge, refs, staging
from ..services.history import graph_of
from ..services.refs import Located
from .base import AssetView, present_ref, present_version, present_versions
from .serializers import (
    AssetCreateSerializer,
    AssetSerializer,
    BranchRequestSerializer,
    BranchSerializer,
    CommitRequestSerializer,
    DiffSerializer,
    MergedSerializer,
    MergeRequestSerializer,
    ResolvedSerializer,
    StagedChangeSerializer,
    StagedSerializer,
    StageRequestSerializer,
    TagRequestSerializer,
    TagSerializer,
    VersionSerializer,
)


def page_of(name: str, item: Any) -> Any:
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


REF = OpenApiParameter("ref", str, description="A branch, tag or commit id, or `/path:ref` (default `main`).")


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise errors.InvalidInput(f"Give `{name}` in the query string.")
    return value


def _present(view: CheckedView, asset: Any) -> dict[str, Any]:
    rows = Branch.objects.filter(asset=asset).select_related("created_by").order_by("name")
    return {"asset": present_one(view.checker, asset), "branches": BranchSerializer(rows, many=True).data}


class AssetCreateView(CheckedView):
    @extend_schema(request=AssetCreateSerializer, responses={201: AssetSerializer}, summary="Create a model or dataset")
    def post(self, request: Request) -> Response:
        data = AssetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        node = assets.create_asset(
            checker=self.checker,
            kind=v["kind"],
            name=v["name"],
            parent=v.get("parent", v.get("parent_path")),
            make_folder=v["make_folder"],
            labels=v.get("labels"),
            description=v.get("description", ""),
        )
        return Response(_present(self, node), status=status.HTTP_201_CREATED)


class AssetResolveView(CheckedView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[OpenApiParameter("ref", str, required=True, description="`/alice/t9k-assethub/model/m:v1`")],
        responses=ResolvedSerializer,
        summary="What `path:ref` names: the asset and the version",
    )
    def get(self, request: Request) -> Response:
        located = refs.locate(self.checker, _query(request, "ref"))
        body = {
            "asset": present_one(self.checker, located.asset.node),
            "ref": present_ref(located),
            "version": present_version(located.ref.version),
        }
        return Response(body)


def _diff(a: Located, b: Located) -> dict[str, Any]:
    found = diff.diff(a.ref.version, b.ref.version)
    return {
        "from": present_ref(a),
        "to": present_ref(b),
        "summary": found.summary(),
        "added": found.added,
        "changed": found.changed,
        "removed": found.removed,
    }


FROM_TO = [
    OpenApiParameter("from", str, required=True, description="The older side: a ref (or `/path:ref`)."),
    OpenApiParameter("to", str, required=True, description="The newer side: a ref (or `/path:ref`)."),
]


class AssetsDiffView(CheckedView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=FROM_TO,
        responses=DiffSerializer,
        summary="Diff two `path:ref`s (any two assets)",
        operation_id="assets_diff_refs",
    )
    def get(self, request: Request) -> Response:
        a = refs.locate(self.checker, _query(request, "from"))
        b = refs.locate(self.checker, _query(request, "to"))
        return Response(_diff(a, b))


class AssetDetailView(AssetView):
    @extend_schema(responses=AssetSerializer, summary="An asset and its branches")
    def get(self, request: Request, node_id: UUID) -> Response:
        return Response(_present(self, self.node))


class AssetDiffView(AssetView):
    @extend_schema(
        parameters=FROM_TO, responses=DiffSerializer, summary="Diff two refs of this asset", operation_id="assets_diff"
    )
    def get(self, request: Request, node_id: UUID) -> Response:
        a = refs.locate(self.checker, _query(request, "from"), asset=self.access)
        b = refs.locate(self.checker, _query(request, "to"), asset=self.access)
        return Response(_diff(a, b))


class CommitsView(AssetView):
    @extend_schema(
        parameters=[
            OpenApiParameter("ref", str, description="Only what this ref descends from (default: every version)."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=page_of("VersionPage", VersionSerializer(many=True)),
        summary="The versions, newest first",
        operation_id="assets_commits_list",
    )
    def get(self, request: Request, node_id: UUID) -> Response:
        versions = Version.objects.filter(asset=self.node)
        ref = request.query_params.get("ref")
        if ref:
            head = refs.locate(self.checker, ref, asset=self.access).ref.version
            ancestry = graph_of(self.node.pk).ancestors(head.pk) if head is not None else set()
            versions = versions.filter(pk__in=sorted(ancestry))
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            versions.select_related("manifest", "author").order_by("-created_at", "-pk"), request, view=self
        )
        return paginator.get_paginated_response(present_versions(page or []))

    @extend_schema(request=CommitRequestSerializer, responses={201: VersionSerializer}, summary="Commit what is staged")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = CommitRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = commits.commit(
            asset=self.access,
            by=request.user,
            branch=v["branch"],
            message=v["message"],
            metadata=v.get("metadata"),
            expected_head=v.get("expected_head"),
        )
        return Response(present_version(version), status=status.HTTP_201_CREATED)


class CommitView(AssetView):
    @extend_schema(responses=VersionSerializer, summary="One version, by any ref", operation_id="assets_commit")
    def get(self, request: Request, node_id: UUID, ref: str) -> Response:
        return Response(present_version(refs.version_at(refs.locate(self.checker, ref, asset=self.access))))


class BranchesView(AssetView):
    @extend_schema(responses=BranchSerializer(many=True), summary="The branches")
    def get(self, request: Request, node_id: UUID) -> Response:
        return Response(_present(self, self.node)["branches"])

    @extend_schema(request=BranchRequestSerializer, responses={201: BranchSerializer}, summary="Branch (models only)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = BranchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        branch = branches.create_branch(
            asset=self.access, by=request.user, name=v["name"], start=v.get("start"), orphan=v["orphan"]
        )
        return Response(BranchSerializer(branch).data, status=status.HTTP_201_CREATED)


class BranchView(AssetView):
    @extend_schema(responses={204: None}, summary="Delete a branch (not main) and what is staged on it")
    def delete(self, request: Request, node_id: UUID, name: str) -> Response:
        branches.delete_branch(asset=self.access, by=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StageView(AssetView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=page_of("StagedPage", StagedChangeSerializer(many=True)),
        summary="What is staged on a branch",
    )
    def get(self, request: Request, node_id: UUID, name: str) -> Response:
        _, changes = staging.staged_on(asset=self.access, by=request.user, branch=name)
        paginator = PagePagination()
        page: list[Any] | None = paginator.paginate_queryset(changes, request, view=self)
        return paginator.get_paginated_response(StagedChangeSerializer(page or [], many=True).data)

    @extend_schema(request=StageRequestSerializer, responses=StagedSerializer, summary="Stage files and deletions")
    def post(self, request: Request, node_id: UUID, name: str) -> Response:
        data = StageRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        staged = staging.stage(
            asset=self.access, by=request.user, branch=name, add=v.get("add"), delete=v.get("delete")
        )
        return Response({"branch": staged.branch.name, "missing": staged.missing, "staged": staged.count})

    @extend_schema(responses={204: None}, summary="Drop everything staged on a branch")
    def delete(self, request: Request, node_id: UUID, name: str) -> Response:
        staging.unstage(asset=self.access, by=request.user, branch=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagsView(AssetView):
    @extend_schema(responses=TagSerializer(many=True), summary="The tags")
    def get(self, request: Request, node_id: UUID) -> Response:
        rows = Tag.objects.filter(asset=self.node).select_related("created_by").order_by("name")
        return Response(TagSerializer(rows, many=True).data)

    @extend_schema(request=TagRequestSerializer, responses={201: TagSerializer}, summary="Tag a version (for good)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = TagRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tag = branches.create_tag(asset=self.access, by=request.user, name=v["name"], ref=v["ref"])
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class MergeView(AssetView):
    @extend_schema(request=MergeRequestSerializer, responses=MergedSerializer, summary="Merge a branch (models)")
    def post(self, request: Request, node_id: UUID) -> Response:
        data = MergeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        merged = merge.merge(
            asset=self.access,
            by=request.user,
            source=v["source"],
            into=v["into"],
            message=v.get("message"),
            metadata=v.get("metadata"),
            expected_head=v.get("expected_head"),
        )
        body = {
            "result": merged.result,
            "branch": BranchSerializer(merged.branch).data,
            "version": present_version(merged.version),
        }
        return Response(body)
