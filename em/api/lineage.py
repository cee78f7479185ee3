"""Lineage endpoints (docs/lineage.md): a run's edges (list, add, remove one) and the graph around any node.

Views parse, call one `em.services.lineage` service, and present. Adding or removing a run's edges needs edit on
the run (RunView: 404 to strangers, 403 to viewers) and view on the other end (a hidden other end is
the same 400 as a missing one); the graph shows only what the caller may view.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import ApiKeyScopeOrPublicRead
from em.api.base import CheckedView, RunView
from em.services import lineage
from em.services.lineage.edges import MAX_REFS
from em.services.lineage.graph import DEFAULT_DEPTH, MAX_DEPTH
from em.strict import StrictSerializer


class LineageAddSerializer(StrictSerializer):
    input = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=2_000),
        required=False,
        max_length=MAX_REFS,
        help_text="What the run read: node ids or paths, `path:ref` for a model or dataset version.",
    )
    output = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=2_000),
        required=False,
        max_length=MAX_REFS,
        help_text="What the run produced, written as `input` is.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("input") and not attrs.get("output"):
            raise serializers.ValidationError("Name at least one `input` or `output` reference.")
        return attrs


class LineageQuerySerializer(StrictSerializer):
    node = serializers.CharField(max_length=2_000, help_text="A node id or path, `path:ref` for a version.")
    depth = serializers.IntegerField(min_value=0, max_value=MAX_DEPTH, default=DEFAULT_DEPTH)


RunLineageJSON = OpenApiTypes.OBJECT
GraphJSON = inline_serializer(
    "LineageGraph",
    {
        "root": serializers.CharField(),
        "depth": serializers.IntegerField(),
        "nodes": serializers.ListField(child=serializers.DictField()),
        "edges": serializers.ListField(child=serializers.DictField()),
        "hidden": serializers.IntegerField(help_text="Neighbours left out because you may not view them."),
        "truncated": serializers.BooleanField(),
    },
)


class RunLineageView(RunView):
    permission_classes = [ApiKeyScopeOrPublicRead]  # writes still need a signed-in caller with a write key

    @extend_schema(responses=RunLineageJSON, summary="A run's inputs and outputs that you may see")
    def get(self, request: Request, run_id: UUID) -> Response:
        return Response(lineage.run_lineage(self.checker, self.node))

    @extend_schema(
        request=LineageAddSerializer, responses={201: RunLineageJSON}, summary="Add inputs and outputs to a run"
    )
    def post(self, request: Request, run_id: UUID) -> Response:
        data = LineageAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        lineage.add_edges(checker=self.checker, run=self.access, inputs=v.get("input", []), outputs=v.get("output", []))
        return Response(lineage.run_lineage(self.checker, self.node), status=status.HTTP_201_CREATED)


class RunLineageEdgeView(RunView):
    @extend_schema(responses={204: None}, summary="Remove one lineage edge of a run")
    def delete(self, request: Request, run_id: UUID, edge_id: int) -> Response:
        lineage.remove_edge(checker=self.checker, run=self.access, edge_id=edge_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LineageGraphView(CheckedView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("node", str, required=True, description="A node id or path; `path:ref` for a version."),
            OpenApiParameter("depth", int, description=f"Edges to walk each way, 0 to {MAX_DEPTH} (default 3)."),
        ],
        responses=GraphJSON,
        summary="The lineage neighbourhood of a node, in both directions, as far as you may see",
    )
    def get(self, request: Request) -> Response:
        query = LineageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        return Response(lineage.neighbourhood(self.checker, v["node"], depth=v["depth"]))
