"""AutoTune endpoints (docs/autotune.md): a search's summary (profile, progress, best trial), its trials
(filtered and sorted with the run filter language, paged), one trial with its intermediate values, the
data of its charts, promotion of a trial to a run, and the live API the SDK records a running search with.

Views parse, call one service or selector, and present; `AutoTuneView` has loaded and checked the node at
the level the method needs before a handler runs.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScopeOrPublicRead
from em.access import Level
from em.api.base import READS, NodeView
from em.api.pagination import PagePagination
from em.autotune import selectors, services
from em.models.autotune import AutoTune
from em.services.uploads import Where, resolve_parent
from em.strict import StrictSerializer

AutoTuneJSON = OpenApiTypes.OBJECT


class CreateSerializer(StrictSerializer):
    parent = serializers.UUIDField(required=False)  # type: ignore[assignment]  # a declared field
    parent_path = serializers.CharField(required=False)
    make_folder = serializers.BooleanField(required=False, default=False)
    name = serializers.CharField(trim_whitespace=False, max_length=10_000)
    profile = serializers.JSONField(help_text="profile.json's content (docs/autotune.md).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("parent" in attrs) == ("parent_path" in attrs):
            raise serializers.ValidationError("Give exactly one of `parent` and `parent_path`.")
        return attrs


class ProfileSerializer(StrictSerializer):
    profile = serializers.JSONField()


class TrialCreateSerializer(StrictSerializer):
    """A trial's `metadata.json` fields, and optionally its `metrics.yaml` ones."""

    id = serializers.IntegerField(min_value=0)
    parameters = serializers.JSONField(required=False)
    status = serializers.CharField(required=False)
    start = serializers.CharField(required=False, allow_null=True)
    end = serializers.CharField(required=False, allow_null=True)
    final = serializers.FloatField(required=False, allow_null=True)
    intermediate = serializers.ListField(child=serializers.JSONField(), required=False, max_length=100_000)


class TrialUpdateSerializer(StrictSerializer):
    status = serializers.CharField(required=False)
    end = serializers.CharField(required=False, allow_null=True)
    final = serializers.FloatField(required=False, allow_null=True)
    intermediate = serializers.ListField(
        child=serializers.JSONField(), required=False, max_length=100_000, help_text="Values to append."
    )


class TrialQuerySerializer(StrictSerializer):
    read_elsewhere = frozenset({"page", "page_size"})
    filter = serializers.CharField(required=False, default="", allow_blank=True, max_length=10_000)
    order_by = serializers.CharField(required=False, default="", allow_blank=True, max_length=10_000)


class PromoteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, trim_whitespace=False, max_length=10_000)


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class AutoTuneView(NodeView):
    """A view of one search, named by the URL's `autotune_id`: a node view that also loads its row."""

    node_kwarg = "autotune_id"
    not_found = "AutoTune not found."
    permission_classes = [ApiKeyScopeOrPublicRead]
    autotune: AutoTune

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if hasattr(self, "access"):
            self.autotune = services.autotune_of(self.node)


class AutoTuneCreateView(APIView):
    @extend_schema(request=CreateSerializer, responses={201: AutoTuneJSON}, summary="Start a live search")
    def post(self, request: Request) -> Response:
        v = _valid(CreateSerializer, request.data)
        where = Where(parent=v.get("parent"), path=v.get("parent_path"), make_folder=v["make_folder"])
        with transaction.atomic():
            parent = resolve_parent(request.user, where)
            autotune = services.create_live(parent=parent, name=v["name"], profile=v["profile"], by=request.user)
        return Response(selectors.summary(autotune), status=status.HTTP_201_CREATED)


class AutoTuneDetailView(AutoTuneView):
    @extend_schema(responses=AutoTuneJSON, summary="A search: profile, progress, best trial, indexing state")
    def get(self, request: Request, autotune_id: UUID) -> Response:
        return Response(selectors.summary(self.autotune))

    @extend_schema(request=ProfileSerializer, responses=AutoTuneJSON, summary="Replace a live search's profile")
    def patch(self, request: Request, autotune_id: UUID) -> Response:
        v = _valid(ProfileSerializer, request.data)
        autotune = services.update_live(autotune=self.access, by=request.user, profile=v["profile"])
        return Response(selectors.summary(autotune))


class TrialsView(AutoTuneView):
    @extend_schema(
        parameters=[
            OpenApiParameter("filter", str, description="The run filter language over trials (docs/autotune.md)."),
            OpenApiParameter("order_by", str, description="e.g. `metrics.accuracy DESC, params.lr`."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=AutoTuneJSON,
        summary="A search's trials, filtered, sorted and paged",
        operation_id="autotune_trials_list",
    )
    def get(self, request: Request, autotune_id: UUID) -> Response:
        v = _valid(TrialQuerySerializer, request.query_params.dict())
        rows = selectors.trials(self.autotune, filter=v["filter"], order_by=v["order_by"])
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response([selectors.present(trial) for trial in page])

    @extend_schema(request=TrialCreateSerializer, responses={201: AutoTuneJSON}, summary="Add a trial (live)")
    def post(self, request: Request, autotune_id: UUID) -> Response:
        v = _valid(TrialCreateSerializer, request.data)
        metadata = {key: v[key] for key in ("id", "parameters", "status", "start", "end") if key in v}
        metrics = {key: v[key] for key in ("final", "intermediate") if key in v}
        trial = services.add_trial(autotune=self.access, by=request.user, metadata=metadata, metrics_document=metrics)
        return Response(selectors.present(trial), status=status.HTTP_201_CREATED)


class TrialDetailView(AutoTuneView):
    @extend_schema(
        responses=AutoTuneJSON, summary="One trial with its intermediate values", operation_id="autotune_trial_retrieve"
    )
    def get(self, request: Request, autotune_id: UUID, number: int) -> Response:
        return Response(selectors.intermediate(selectors.trial(self.autotune, number)))

    @extend_schema(request=TrialUpdateSerializer, responses=AutoTuneJSON, summary="Report on a trial (live)")
    def patch(self, request: Request, autotune_id: UUID, number: int) -> Response:
        v = _valid(TrialUpdateSerializer, request.data)
        trial = services.update_trial(autotune=self.access, number=number, by=request.user, **v)
        return Response(selectors.present(trial))


class TrialPromoteView(AutoTuneView):
    # Promoting reads the search; the run is made where the caller may edit (create_node checks it).
    needs: ClassVar[dict[str, Level]] = {**READS, "POST": Level.VIEW}

    @extend_schema(request=PromoteSerializer, responses={201: AutoTuneJSON}, summary="Promote a trial to a run")
    def post(self, request: Request, autotune_id: UUID, number: int) -> Response:
        v = _valid(PromoteSerializer, request.data)
        run = services.promote_trial(autotune=self.access, number=number, by=request.user, name=v.get("name"))
        return Response({"id": run.node_id, "name": run.node.name}, status=status.HTTP_201_CREATED)


class ChartsView(AutoTuneView):
    @extend_schema(responses=AutoTuneJSON, summary="Chart data: final values with best-so-far, parallel, durations")
    def get(self, request: Request, autotune_id: UUID) -> Response:
        return Response(selectors.charts(self.autotune))
