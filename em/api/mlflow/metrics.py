"""Metric histories from EM's columnar series: get-history (whole, paged) and get-history-bulk-interval
(sampled by EM's downsampling, for charts)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rest_framework.request import Request
from rest_framework.response import Response

from em import errors
from em.models import MetricSeries
from em.runs import metrics
from em.runs import services as run_services

from . import shapes
from .base import MlflowView, integer, listed, next_token, page_offset, text
from .errors import MlflowError
from .runs import run_access

MAX_HISTORY_PAGE = 25_000  # what MLflow's client asks for per page
MAX_BULK_RUNS = 100
MAX_BULK_POINTS = 5_000


def _points(key: str, history: metrics.History, run_id: str | None = None) -> list[dict[str, Any]]:
    extra = {} if run_id is None else {"run_id": run_id}
    return [
        {
            "key": key,
            "value": shapes.number(value),
            "timestamp": int((stamp or 0) * 1000),
            "step": step,
            **extra,
        }
        for step, stamp, value in zip(history["step"], history["timestamp"], history["value"], strict=True)
    ]


class MetricHistoryView(MlflowView):
    def get(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"))
        key = text(params, "metric_key")
        size = integer(params, "max_results", default=MAX_HISTORY_PAGE) or MAX_HISTORY_PAGE
        if not 1 <= size <= MAX_HISTORY_PAGE:
            raise MlflowError(f"max_results is from 1 to {MAX_HISTORY_PAGE}.")
        offset = page_offset(text(params, "page_token", required=False))
        series = MetricSeries.objects.filter(run=proof.node.run, key=key).first()
        if series is None:
            return Response({"metrics": []})
        history = metrics.read(series)
        points = _points(key, history)
        body: dict[str, Any] = {"metrics": points[offset : offset + size]}
        token = next_token(offset, size, len(points) - offset)
        if token:
            body["next_page_token"] = token
        return Response(body)


class MetricHistoryBulkIntervalView(MlflowView):
    """Up to `max_results` points of one metric of several runs, sampled across the series (EM's
    downsampling keeps the first and last points); `start_step`/`end_step` narrow the range."""

    def get(self, request: Request) -> Response:
        params = self.params()
        try:
            run_ids = [UUID(str(run_id)) for run_id in listed(params, "run_ids")]
        except ValueError:
            raise errors.NotFound("One or more runs were not found.") from None
        if not 1 <= len(run_ids) <= MAX_BULK_RUNS:
            raise MlflowError(f"Give 1 to {MAX_BULK_RUNS} run_ids.")
        key = text(params, "metric_key")
        size = integer(params, "max_results", default=2500) or 2500
        if not 1 <= size <= MAX_BULK_POINTS:
            raise MlflowError(f"max_results is from 1 to {MAX_BULK_POINTS}.")
        start, end = integer(params, "start_step"), integer(params, "end_step")
        runs = run_services.visible_runs(request.user, run_ids, limit=MAX_BULK_RUNS)  # one 404 for any hidden
        found = {s.run_id: s for s in MetricSeries.objects.filter(run__in=runs, key=key)}
        points: list[dict[str, Any]] = []
        for run in runs:
            series = found.get(run.pk)
            if series is None:
                continue
            history = metrics.read(series, max_points=None if start is not None or end is not None else size)
            sampled = _points(key, history, str(run.pk))
            if start is not None or end is not None:
                sampled = [
                    p for p in sampled if (start is None or p["step"] >= start) and (end is None or p["step"] <= end)
                ]
                stride = max(1, -(-len(sampled) // size))
                sampled = sampled[::stride]
            points.extend(sampled)
        return Response({"metrics": points})
