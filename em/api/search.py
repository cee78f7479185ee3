"""Run search, its CSV export and the keys it can name: `GET /api/v1/runs`, `.../runs/export.csv`, `.../runs/keys`.

All take the same parameters (`filter`, `folder` or `folder_path`, `order_by`, repeatable or
comma-separated) and see the same runs; the export streams every matching run (up to
`EM_EXPORT_MAX_ROWS`, 100,000 by default) instead of a page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScopeOrPublicRead
from em.access import Checker
from em.api.pagination import EXACT_COUNT, CappedCountPagination
from em.api.run_detail import search_rows
from em.api.serializers import NodeSerializer
from em.models import NodeQuerySet
from em.runs.keys import known_keys
from em.runs.selectors import export_batches, run_keys, search_runs
from em.services import lookup
from em.strict import StrictSerializer

EXPORT_BATCH = 1000  # runs per chunk of the CSV (and per query for their params and metric summaries)
CSV_COLUMNS = ["Run ID", "Name", "Source Type", "Source Name", "User", "Status"]


class SearchQuerySerializer(StrictSerializer):
    """A search's query: a misspelt parameter is refused, as it would otherwise widen the search (and
    the export) to every run the caller can see."""

    read_elsewhere = frozenset(
        {
            CappedCountPagination.page_query_param,
            CappedCountPagination.page_size_query_param,
            CappedCountPagination.exact_count_query_param,
            api_settings.URL_FORMAT_OVERRIDE,
        }
    )

    filter = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
    folder = serializers.CharField(required=False)
    folder_path = serializers.CharField(required=False)
    order_by = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "folder" in attrs and "folder_path" in attrs:
            raise serializers.ValidationError("Give at most one of `folder` and `folder_path`.")
        return attrs


class RunSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds, when the run has ended.")
    source_type = serializers.CharField()
    source_name = serializers.CharField()


class RunRowSerializer(NodeSerializer):
    """The shape of a search hit (built by `em.api.run_detail.search_rows`; this class documents it)."""

    run = RunSummarySerializer(read_only=True)
    params = serializers.DictField(child=serializers.CharField(), read_only=True, help_text="Text as written.")
    metrics = serializers.DictField(
        child=serializers.FloatField(allow_null=True), read_only=True, help_text="Latest value of each series."
    )
    tags = serializers.DictField(child=serializers.CharField(), read_only=True)
    parent_run = serializers.UUIDField(
        allow_null=True, read_only=True, help_text="The run this one is nested in (MLflow's parentRunId), else null."
    )

    class Meta(NodeSerializer.Meta):
        fields = [*NodeSerializer.Meta.fields, "run", "params", "metrics", "tags", "parent_run"]
        read_only_fields = fields


SEARCH_PARAMETERS = [
    OpenApiParameter(
        "filter",
        str,
        description="MLflow's filter language with OR, NOT and parentheses, e.g. `metrics.val.acc > 0.9 AND "
        "(params.optimizer IN ('adam', 'sgd') OR tags.`my tag` LIKE 'x%')`; also `MIN(metrics.x)`, `MAX(...)`, "
        "`attributes.status|name|start_time|end_time|duration|created_by|path|run_id|created`.",
    ),
    OpenApiParameter("folder", str, description="Only runs below this folder: its id or its path."),
    OpenApiParameter("folder_path", str, description="The same as a path in `folder`, e.g. `/alice/experiments`."),
    OpenApiParameter(
        "order_by",
        str,
        many=True,
        description="e.g. `metrics.val.acc DESC`; repeat or comma-separate. Newest first by default.",
    ),
]
INVALID_FILTER = OpenApiResponse(description="`invalid_filter` / `invalid_order_by`, with the bad token's position.")


def _search(request: Request) -> NodeQuerySet:
    """The runs the query's filter, folder and ordering select."""
    query = SearchQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    v = query.validated_data
    ref = v.get("folder", v.get("folder_path"))
    folder = None if ref is None else lookup.locate(Checker(request.user), ref)  # the check, kept as proof
    return search_runs(user=request.user, filter=v["filter"], folder=folder, order_by=v["order_by"])


class RunSearchView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    pagination_class = CappedCountPagination

    @extend_schema(
        parameters=[*SEARCH_PARAMETERS, EXACT_COUNT],
        responses={200: RunRowSerializer(many=True), 400: INVALID_FILTER},
        summary="Search runs",
        description="A page of the matching runs. `count` stops at "
        f"{CappedCountPagination.count_limit:,} (`count_exact` false) unless `exact_count` asks for all; "
        "the CSV export and the bulk operations always take every match.",
        operation_id="runs_search",
    )
    def get(self, request: Request) -> Response:
        runs = _search(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(runs.values_list("pk", flat=True), request, view=self)
        rows = search_rows(request.user, page)
        return paginator.get_paginated_response(rows)


class CSVRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; an error then arrives as a small CSV too."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        error = data.get("error", {}) if isinstance(data, dict) else {}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["code", "message"])
        writer.writerow([error.get("code", ""), error.get("message", "")])
        return buffer.getvalue().encode()


class RunExportView(APIView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR, 400: INVALID_FILTER},
        summary="Export matching runs as CSV",
        description="Columns: " + ",".join(CSV_COLUMNS) + ", then every param key, then every metric key "
        "(latest values). Past the row limit the last line says how many runs were left out.",
        operation_id="runs_export_csv",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        runs = _search(request)
        limit = settings.EM_EXPORT_MAX_ROWS
        total = runs.count()
        params, metrics = run_keys(runs)
        response = StreamingHttpResponse(
            _csv_lines(runs[:limit], params, metrics, total - limit), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="runs.csv"'
        response["X-Total-Count"] = str(total)
        if total > limit:
            response["X-EM-Truncated"] = f"{limit} of {total} runs"
        return response


def _csv_lines(runs: NodeQuerySet, params: list[str], metrics: list[str], left_out: int) -> Iterator[str]:
    """The header, then one chunk of text per batch of runs: streamed, yet written with `writerows`
    into one reused buffer, as a line per `yield` costs more than writing the line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def taken() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*CSV_COLUMNS, *(f"params.{key}" for key in params), *(f"metrics.{key}" for key in metrics)])
    yield taken()
    for rows in export_batches(runs, params=params, metrics=metrics, size=EXPORT_BATCH):
        writer.writerows(rows)
        yield taken()
    if left_out > 0:
        writer.writerow([f"# truncated: {left_out} more runs matched; narrow the filter to export them"])
        yield taken()


class RunKeysSerializer(serializers.Serializer):
    attributes = serializers.ListField(child=serializers.CharField(), help_text="`attributes.<name>` every run has.")
    params = serializers.ListField(child=serializers.CharField())
    metrics = serializers.ListField(child=serializers.CharField())
    tags = serializers.ListField(child=serializers.CharField())
    truncated = serializers.BooleanField(help_text="A kind had more keys than the list holds.")


class RunKeysView(APIView):
    """The keys a filter over the same scope can name, so the portal completes them and warns about a
    key that no run has (it would match nothing)."""

    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses={200: RunKeysSerializer, 400: INVALID_FILTER},
        summary="Param, metric and tag keys of the matching runs",
        operation_id="runs_keys",
    )
    def get(self, request: Request) -> Response:
        runs = _search(request)
        return Response(known_keys(runs))
