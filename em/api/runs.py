"""Run endpoints (docs/runs-api.md "Run endpoints"): one run's detail, status, notes, tags, live
metrics, metric history, log, and compare and bulk delete/restore over many runs.

Views parse, call one service, and present. Reads that take many ids in a POST body (compare, history)
are still reads: a read-only key may call them.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import orjson
from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScopeOrPublicRead
from em import errors
from em.access import Checker
from em.api.base import RunView
from em.api.history_renderer import RENDERERS, wants_frames
from em.api.run_detail import present_run_detail, run_rows
from em.api.search import RunSearchView
from em.models import MetricSeries, Node, RunStatus
from em.runs import compare, history_wire, metrics, selectors
from em.runs import live as live_metrics
from em.runs import log as run_log
from em.runs import services as run_services
from em.services import lookup
from em.services.uploads import Where, resolve_parent
from em.services.validation import check_json
from em.strict import StrictSerializer, refuse_unknown

# 100,000 points of four arrays as JSON text stay well below this.
MAX_LIVE_BODY_BYTES = 32 * 1024 * 1024
MAX_HISTORY_SERIES = 1_000
DEFAULT_MAX_POINTS = 1_000
MAX_MAX_POINTS = 100_000


class ReadsByPost(BasePermission):
    """A read sent as POST (its ids do not fit a URL): whoever may read may call it."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated or settings.EM_PUBLIC_ANONYMOUS)


class PointsJSONParser(JSONParser):
    """JSON in which NaN and Infinity parse (as floats), so the check can name the key and index of a
    bad point rather than fail on the whole body; the size is capped before parsing.

    orjson reads a body first: arrays of numbers are most of what comes here, and it reads 10,000 points
    in 1 ms where the standard library takes 7 (a third of a live batch's time on the server). It refuses
    what the standard library reads, the NaN and Infinity tokens, a lone surrogate, nesting past 1,024
    levels; those bodies are read again by the standard library, which keeps them or names the fault.
    (An integer past 64 bits comes back from orjson as a float: `live` names it as out of range.)
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(MAX_LIVE_BODY_BYTES + 1)
        if len(raw) > MAX_LIVE_BODY_BYTES:
            mib = MAX_LIVE_BODY_BYTES // 2**20
            raise errors.InvalidInput(f"A body of metric points is at most {mib} MiB; split it.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:  # a UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from exc


class RunCreateParser(PointsJSONParser):
    """A new run's body: its `metrics` read as live points are (NaN kept; `live` checks them), the rest
    checked as every API body is (`em.api.json_codec`), so a NUL in a hyper-parameter is named alike."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        check_json({k: v for k, v in data.items() if k != "metrics"} if isinstance(data, dict) else data, "body")
        return data


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidInput(f"`{name}` is a whole number.") from None
    if not low <= value <= high:
        raise errors.InvalidInput(f"`{name}` is from {low} to {high}.")
    return value


HISTORY_RESPONSES = {
    (200, "application/json"): OpenApiTypes.OBJECT,
    (200, history_wire.MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.BINARY, description="The compact form (docs/runs-api.md), for that `Accept`."
    ),
}


RunJSON = OpenApiTypes.OBJECT


@extend_schema_field(OpenApiTypes.OBJECT)
class PointsField(serializers.Field):
    """Metric points as sent: `live.parse_batch` checks them whole and names the bad point. (A JSONField
    would encode them again only to check that it can, and refuse the NaN that is data here.)"""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class RunCreateSerializer(StrictSerializer):
    parent = serializers.UUIDField(required=False)  # type: ignore[assignment]  # a declared field
    parent_path = serializers.CharField(required=False)
    make_folder = serializers.BooleanField(required=False, default=False, help_text="Create missing folders.")
    name = serializers.CharField(trim_whitespace=False, allow_blank=True, max_length=10_000)
    hparams = serializers.JSONField(required=False)
    labels = serializers.ListField(child=serializers.CharField(trim_whitespace=False, allow_blank=True), required=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    metrics = PointsField(
        required=False,
        help_text="The run's first points, as `POST /runs/{id}/metrics` takes them: stored with the run.",
    )
    status = serializers.CharField(required=False, help_text="Running (the default), or the state it ended in.")
    started_at = serializers.DateTimeField(required=False, help_text="When it started (default: now).")
    ended_at = serializers.DateTimeField(required=False, help_text="When it ended (with an end `status`).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("parent" in attrs) == ("parent_path" in attrs):
            raise serializers.ValidationError("Give exactly one of `parent` and `parent_path`.")
        return attrs


class RunUpdateSerializer(StrictSerializer):
    notes = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    status = serializers.CharField(required=False)
    ended_at = serializers.DateTimeField(required=False)


class TagValueSerializer(StrictSerializer):
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)


class RunIdsSerializer(StrictSerializer):
    runs = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)


class HistoryRequestSerializer(RunIdsSerializer):
    keys = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    max_points = serializers.IntegerField(
        required=False, default=DEFAULT_MAX_POINTS, min_value=2, max_value=MAX_MAX_POINTS
    )
    x = serializers.CharField(required=False, default="step")


class BulkSerializer(StrictSerializer):
    """Where a bulk call works: below one folder, or across the caller's own tree only when it says so.

    Never by default: a scope left out (or misspelt) must not widen to every run the caller has.
    """

    folder = serializers.CharField(
        required=False, help_text="Work below this folder (recursively): its id or its path, e.g. `/alice/sweep`."
    )
    everywhere = serializers.BooleanField(
        required=False, default=False, help_text="Work across your whole tree instead; the call must say so."
    )
    max_runs = serializers.IntegerField(required=False, help_text="At most this many (≤ 10,000).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("folder" in attrs) == attrs["everywhere"]:
            raise serializers.ValidationError(
                'Name a `folder` (its id or its path), or send `"everywhere": true` to work across your whole '
                "tree; one of the two."
            )
        return attrs


class BulkDeleteSerializer(BulkSerializer):
    max_timestamp_millis = serializers.IntegerField(help_text="Runs started at or before this time.")


class BulkRestoreSerializer(BulkSerializer):
    min_timestamp_millis = serializers.IntegerField(help_text="Runs deleted at or after this time.")


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class RunCreateView(APIView):
    parser_classes = [RunCreateParser]  # the first points may hold NaN: data, kept as such

    @extend_schema(
        request=RunCreateSerializer,
        responses={201: RunJSON},
        summary="Start a live run",
        description="With `metrics`, the run starts with those points (an import, a run logged after the "
        "fact): one call and one transaction instead of two.",
    )
    def post(self, request: Request) -> Response:
        v = _valid(RunCreateSerializer, request.data)
        # Checked whole before anything is written: a bad point leaves no run behind.
        first = v.get("metrics") not in (None, {})
        points = live_metrics.parse_batch(v, now=timezone.now().timestamp()) if first else None
        where = Where(parent=v.get("parent"), path=v.get("parent_path"), make_folder=v["make_folder"])
        parent = resolve_parent(request.user, where)
        run = run_services.create_live_run(
            parent=parent,
            name=v["name"],
            by=request.user,
            hparams=v.get("hparams"),
            labels=v.get("labels"),
            description=v.get("description", ""),
            points=points,
            status=v.get("status", RunStatus.RUNNING),
            started_at=v.get("started_at"),
            ended_at=v.get("ended_at"),
        )
        return Response(present_run_detail(request.user, run, new=True), status=status.HTTP_201_CREATED)


class RunsView(RunSearchView):
    """`/api/v1/runs`: GET searches (em.api.search), POST starts a live run — one route, as the API has it.

    Anonymous visitors may only read (and only with EM_PUBLIC_ANONYMOUS); a read-only key cannot POST.
    """

    parser_classes = RunCreateView.parser_classes
    post = RunCreateView.post


class RunDetailView(RunView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=RunJSON, summary="A run: its row, parameters, metric summaries, lineage")
    def get(self, request: Request, run_id: UUID) -> Response:
        return Response(present_run_detail(self.checker, self.run))

    @extend_schema(request=RunUpdateSerializer, responses=RunJSON, summary="Change notes, or end a running run")
    def patch(self, request: Request, run_id: UUID) -> Response:
        v = _valid(RunUpdateSerializer, request.data)
        run = run_services.update_run(run=self.access, by=request.user, **v)
        return Response(present_run_detail(self.checker, run))


class RunTagView(RunView):
    @extend_schema(
        request=TagValueSerializer,
        responses=inline_serializer("RunTag", {"key": serializers.CharField(), "value": serializers.CharField()}),
        summary="Set a tag",
    )
    def put(self, request: Request, run_id: UUID, key: str) -> Response:
        v = _valid(TagValueSerializer, request.data)
        tag = run_services.set_tag(run=self.access, key=key, value=v["value"], by=request.user)
        return Response({"key": tag.key, "value": tag.value})

    @extend_schema(responses={204: None}, summary="Remove a tag")
    def delete(self, request: Request, run_id: UUID, key: str) -> Response:
        run_services.delete_tag(run=self.access, key=key, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunMetricsView(RunView):
    parser_classes = [PointsJSONParser]
    related = ("run",)  # the answer is a count: nothing of the node is presented

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=inline_serializer("Appended", {"appended": serializers.IntegerField()}),
        summary="Log metric points to a running run",
        description='`{"metrics": {"train.loss": {"step": [...], "epoch": [...]|null, "timestamp": [...], '
        '"value": [...]}}}`; at most 100,000 points a call.',
    )
    def post(self, request: Request, run_id: UUID) -> Response:
        refuse_unknown(request.data, ["metrics"])
        batch = live_metrics.parse_batch(request.data, now=timezone.now().timestamp())
        appended = live_metrics.append_batch(run=self.access, batch=batch, by=request.user)
        return Response({"appended": appended})


class RunMetricHistoryView(RunView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    renderer_classes = RENDERERS
    related = ("run",)  # the answer is the series: nothing of the node is presented

    @extend_schema(
        parameters=[
            OpenApiParameter("max_points", int, description=f"Default {DEFAULT_MAX_POINTS}."),
            OpenApiParameter("x", str, enum=list(metrics.X_AXES)),
        ],
        responses=HISTORY_RESPONSES,
        summary="A metric's history, downsampled to at most max_points",
    )
    def get(self, request: Request, run_id: UUID, key: str) -> Response:
        run = self.run
        max_points = _int_param(request, "max_points", DEFAULT_MAX_POINTS, 2, MAX_MAX_POINTS)
        series = metrics.series_named(run.pk, live_metrics.metric_key(key))
        if series is None:
            raise errors.NotFound(f"The run has no metric {key!r}.")
        read = metrics.read_arrays(series, max_points=max_points, x=request.query_params.get("x", "step"))
        return Response(history_wire.Frames([(None, read)]) if wants_frames(request) else metrics.as_history(read))


class MetricsHistoryView(APIView):
    permission_classes = [ReadsByPost]
    renderer_classes = RENDERERS

    @extend_schema(
        request=HistoryRequestSerializer,
        responses={
            (200, "application/json"): inline_serializer(
                "Histories", {"series": serializers.ListField(child=serializers.DictField())}
            ),
            (200, history_wire.MEDIA_TYPE): HISTORY_RESPONSES[(200, history_wire.MEDIA_TYPE)],
        },
        summary="Histories of several metrics of several runs, for overlaid charts",
    )
    def post(self, request: Request) -> Response:
        v = _valid(HistoryRequestSerializer, request.data)
        keys = list(dict.fromkeys(live_metrics.metric_key(key) for key in v["keys"]))
        if len(v["runs"]) * len(keys) > MAX_HISTORY_SERIES:
            raise errors.InvalidInput(f"Ask for at most {MAX_HISTORY_SERIES} (run, key) pairs at a time.")
        runs = run_services.visible_runs(request.user, v["runs"], limit=compare.MAX_RUNS)
        found = {(s.run_id, s.key): s for s in MetricSeries.objects.filter(run__in=runs, key__in=keys)}
        reads = [
            (run.pk, metrics.read_arrays(found[(run.pk, key)], max_points=v["max_points"], x=v["x"]))
            for run in runs
            for key in keys
            if (run.pk, key) in found
        ]
        if wants_frames(request):
            return Response(history_wire.Frames(list(reads)))
        return Response({"series": [{"run": run_id, **metrics.as_history(read)} for run_id, read in reads]})


class RunLogView(RunView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", int),
            OpenApiParameter("limit", int, description=f"At most {run_log.MAX_LIMIT}."),
            OpenApiParameter("q", str, description="Only lines holding this text (any case)."),
        ],
        responses=inline_serializer(
            "RunLog",
            {
                "lines": serializers.ListField(child=serializers.ListField()),
                "total": serializers.IntegerField(),
                "next_offset": serializers.IntegerField(allow_null=True),
            },
        ),
        summary="The run's console log, a page of lines at a time",
    )
    def get(self, request: Request, run_id: UUID) -> Response:
        page = run_log.read_log(
            self.node,
            offset=_int_param(request, "offset", 0, 0, 2**62),
            limit=_int_param(request, "limit", 1000, 1, run_log.MAX_LIMIT),
            q=request.query_params.get("q") or None,
        )
        return Response({"lines": page.lines, "total": page.total, "next_offset": page.next_offset})


class RunCompareView(APIView):
    permission_classes = [ReadsByPost]

    @extend_schema(request=RunIdsSerializer, responses=OpenApiTypes.OBJECT, summary="Compare 2 to 100 runs")
    def post(self, request: Request) -> Response:
        v = _valid(RunIdsSerializer, request.data)
        runs = run_services.visible_runs(
            request.user, v["runs"], limit=compare.MAX_RUNS, prefetch=selectors.ROW_PREFETCH
        )
        if len(runs) < compare.MIN_RUNS:
            raise errors.InvalidInput(f"Compare at least {compare.MIN_RUNS} different runs.")
        rows = run_rows(user=request.user, runs=[run.node for run in runs])
        return Response({"runs": rows, **compare.compare(runs)})


def _bulk_folder(request: Request, v: dict[str, Any]) -> Node | None:
    """The folder named by id or path (404 alike for hidden and missing), or None for `everywhere`."""
    return None if v["everywhere"] else lookup.locate(Checker(request.user), v["folder"]).node


class RunBulkDeleteView(APIView):
    @extend_schema(
        request=BulkDeleteSerializer,
        responses=inline_serializer("BulkDeleted", {"deleted": serializers.IntegerField()}),
        summary="Move runs started before a time to the trash (≤ 10,000 a call)",
    )
    def post(self, request: Request) -> Response:
        v = _valid(BulkDeleteSerializer, request.data)
        deleted = run_services.bulk_delete(
            by=request.user,
            max_timestamp_millis=v["max_timestamp_millis"],
            folder=_bulk_folder(request, v),
            max_runs=v.get("max_runs"),
        )
        return Response({"deleted": deleted})


class RunBulkRestoreView(APIView):
    @extend_schema(
        request=BulkRestoreSerializer,
        responses=inline_serializer("BulkRestored", {"restored": serializers.IntegerField()}),
        summary="Restore runs deleted after a time (≤ 10,000 a call)",
    )
    def post(self, request: Request) -> Response:
        v = _valid(BulkRestoreSerializer, request.data)
        restored = run_services.bulk_restore(
            by=request.user,
            min_timestamp_millis=v["min_timestamp_millis"],
            folder=_bulk_folder(request, v),
            max_runs=v.get("max_runs"),
        )
        return Response({"restored": restored})
