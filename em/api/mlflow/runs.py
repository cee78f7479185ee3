"""MLflow runs as EM runs: create, get, update, delete, restore, search, and everything logged to them."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from rest_framework.request import Request
from rest_framework.response import Response

from em import access, errors
from em.access import Access, Level
from em.models import Kind, LineageEdge, Node
from em.runs import selectors, tracking
from em.runs import services as run_services
from em.runs.metrics import NO_EPOCH, Points
from em.services import lineage, trash

from . import shapes
from .base import MlflowView, integer, is_uuid, listed, next_token, page_offset, pairs, text
from .errors import MlflowError
from .experiments import folder_by_id, folders_of, subtree_q

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_RUNS_PAGE = 50_000
RUN_NOT_FOUND = "Run not found."


def run_access(view: MlflowView, run_id: str, need: Level = Level.VIEW) -> Access:
    """The live run `run_id` checked for `need`: hidden, missing, trashed and non-runs alike 404."""
    node = access.load(run_id) if is_uuid(run_id) else None
    if node is None or node.kind != Kind.RUN:
        raise errors.NotFound(RUN_NOT_FOUND)
    proof = view.checker.check(node, need, not_found=RUN_NOT_FOUND)
    run_services.run_of(node)
    return proof


def _trash_entry(user: Any, run_id: str) -> Node:
    """A deleted run, for its owner (and staff) alone: MLflow reads and restores deleted runs by id."""
    node = access.load(run_id, trashed=True) if is_uuid(run_id) else None
    if node is None or node.kind != Kind.RUN:
        raise errors.NotFound(RUN_NOT_FOUND)
    return access.check(user, node, Level.OWNER).node


def present_runs(nodes: list[Node]) -> list[dict[str, Any]]:
    """MLflow run JSON for nodes loaded with `tracking.runs_with_data`: two more queries for a page
    (their experiments' folders, their logged-model outputs)."""
    folders = tracking.folders_of(nodes)
    outputs: dict[Any, list[Any]] = defaultdict(list)
    for run_id, model_id in LineageEdge.objects.filter(
        run_id__in=[n.pk for n in nodes],
        direction=LineageEdge.Direction.OUTPUT,
        other__extra__has_key="mlflow",
        other__deleted_at__isnull=True,
    ).values_list("run_id", "other_id"):
        outputs[run_id].append(model_id)
    return [shapes.run(node, folders[node.pk], outputs.get(node.pk, ())) for node in nodes]


def one_run(run_id: Any, *, trashed: bool = False) -> dict[str, Any]:
    found = tracking.runs_with_data([run_id], trashed=trashed)
    if not found:
        raise errors.NotFound(RUN_NOT_FOUND)
    return present_runs(found)[0]


def _time(millis: Any, name: str) -> datetime | None:
    if millis is None or millis == "":
        return None
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MlflowError(f"Invalid value {millis!r} for parameter '{name}': milliseconds since 1970.") from None


class RunCreateView(MlflowView):
    """A run in the experiment's folder, or — with the tag `mlflow.parentRunId` — inside its parent run."""

    def post(self, request: Request) -> Response:
        params = self.params()
        tags = pairs(params, "tags")
        parent_id = tags.get(shapes.PARENT_RUN_TAG, "")  # kept as a tag too, so filters on it work
        if parent_id:
            parent = run_access(self, parent_id, Level.EDIT).node
        else:
            experiment_id = text(params, "experiment_id", required=False, default="0")
            parent = folder_by_id(self.checker, experiment_id, need=Level.EDIT, make=True).node
        name = text(params, "run_name", required=False) or tags.get(shapes.RUN_NAME_TAG) or "run"
        tags.setdefault(shapes.RUN_NAME_TAG, name)
        run = tracking.start_run(
            parent=parent,
            name=name,
            by=request.user,
            started_at=_time(params.get("start_time"), "start_time"),
            tags=tags,
        )
        return Response({"run": one_run(run.pk)})


class RunGetView(MlflowView):
    def get(self, request: Request) -> Response:
        run_id = text(self.params(), "run_id", "run_uuid")
        try:
            run_access(self, run_id)
        except errors.NotFound:
            node = _trash_entry(request.user, run_id)
            return Response({"run": one_run(node.pk, trashed=True)})
        return Response({"run": one_run(run_id)})


class RunUpdateView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        status = text(params, "status", required=False)
        if status:
            if status not in shapes.STATUS_FROM_MLFLOW:
                raise MlflowError(f"Unknown run status {status!r}.")
            tracking.set_status(
                run=proof,
                status=shapes.STATUS_FROM_MLFLOW[status],
                by=request.user,
                ended_at=_time(params.get("end_time"), "end_time"),
            )
        name = text(params, "run_name", required=False)
        if name:
            tracking.set_tags(run=proof, tags={shapes.RUN_NAME_TAG: name}, by=request.user)
            tracking.rename_run(run=proof, name=name, by=request.user)
        return Response({"run_info": one_run(proof.node.pk)["info"]})


class RunDeleteView(MlflowView):
    """To the trash, with the runs nested in it (EM's delete)."""

    def post(self, request: Request) -> Response:
        proof = run_access(self, text(self.params(), "run_id", "run_uuid"), Level.EDIT)
        trash.trash_node(node=proof, by=request.user)
        return Response({})


class RunRestoreView(MlflowView):
    def post(self, request: Request) -> Response:
        node = _trash_entry(request.user, text(self.params(), "run_id", "run_uuid"))
        trash.restore_node(node=node, by=request.user)
        return Response({})


class RunSearchView(MlflowView):
    """EM's run search (MLflow's filter language and EM's extensions) below the experiments' folders."""

    def post(self, request: Request) -> Response:
        params = self.params()
        size = integer(params, "max_results", default=1000) or 1000
        if not 1 <= size <= MAX_RUNS_PAGE:
            raise MlflowError(f"max_results is from 1 to {MAX_RUNS_PAGE}.")
        if text(params, "run_view_type", required=False, default="ACTIVE_ONLY") != "ACTIVE_ONLY":
            raise MlflowError("Only active runs are searched (run_view_type ACTIVE_ONLY); the rest are in the trash.")
        offset = page_offset(text(params, "page_token", required=False))
        folders = folders_of(self.checker, listed(params, "experiment_ids"))
        if not folders:
            return Response({})
        found = selectors.search_runs(  # a bad filter is EM's InvalidInput, with the position: 400 here
            user=request.user,
            filter=text(params, "filter", required=False),
            order_by=[str(term) for term in listed(params, "order_by")],
        ).filter(subtree_q(folders))
        ids = list(found.values_list("pk", flat=True)[offset : offset + size + 1])
        body: dict[str, Any] = {"runs": present_runs(tracking.runs_with_data(ids[:size]))}
        token = next_token(offset, size, len(ids))
        if token:
            body["next_page_token"] = token
        return Response(body)


def _points(items: list[dict[str, Any]]) -> dict[str, Points]:
    """MLflow metrics (`{key, value, timestamp ms, step}`) as a Points batch per key, in the order sent."""
    grouped: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for item in items:
        if not isinstance(item, dict):
            raise MlflowError("Each metric is an object {key, value, timestamp, step}.")
        key = text(item, "key")
        try:
            value = float(item.get("value"))  # type: ignore[arg-type]  # "NaN" and "Infinity" included
            stamp = int(item.get("timestamp") or 0) / 1000
            step = int(item.get("step") or 0)
        except (TypeError, ValueError, OverflowError):
            raise MlflowError(f"Metric {key!r}: value is a number, timestamp and step whole numbers.") from None
        if not -(2**63) < step < 2**63 or not 0 <= stamp < 253_402_300_800:
            raise MlflowError(f"Metric {key!r}: step or timestamp out of range.")
        grouped[key].append((step, stamp, value))
    return {
        key: Points(
            steps=np.array([p[0] for p in points], dtype=np.int64),
            epochs=np.full(len(points), NO_EPOCH, dtype=np.int64),
            timestamps=np.array([p[1] for p in points], dtype=np.float64),
            values=np.array([p[2] for p in points], dtype=np.float64),
        )
        for key, points in grouped.items()
    }


class LogBatchView(MlflowView):
    """Params, tags and metric points of one run; each part checked before anything is written."""

    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        metrics, logged, tags = listed(params, "metrics"), pairs(params, "params"), pairs(params, "tags")
        if len(metrics) > MAX_METRICS_PER_BATCH or len(logged) > MAX_PARAMS_PER_BATCH or len(tags) > MAX_TAGS_PER_BATCH:
            raise MlflowError(
                f"A batch holds at most {MAX_METRICS_PER_BATCH} metrics, {MAX_PARAMS_PER_BATCH} params and "
                f"{MAX_TAGS_PER_BATCH} tags."
            )
        tracking.log_batch(run=proof, params=logged, tags=tags, points=_points(metrics), by=request.user)
        return Response({})


class LogMetricView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        tracking.log_points(run=proof, batch=_points([params]), by=request.user)
        return Response({})


class LogParamView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        value = params.get("value", "")
        tracking.log_params(run=proof, params={text(params, "key"): str(value)}, by=request.user)
        return Response({})


class SetTagView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        key, value = text(params, "key"), str(params.get("value", ""))
        tracking.set_tags(run=proof, tags={key: value}, by=request.user)
        if key == shapes.RUN_NAME_TAG and value:
            tracking.rename_run(run=proof, name=value, by=request.user)
        return Response({})


class DeleteTagView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        run_services.delete_tag(run=proof, key=text(params, "key"), by=request.user)
        return Response({})


class LogInputsView(MlflowView):
    """Datasets a run read, kept as tags `mlflow.input.<name>` = `<digest> <source type>` (EM's lineage
    names nodes, and these name data outside EM); model inputs become lineage inputs."""

    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        tags = {}
        for item in listed(params, "datasets"):
            dataset = item.get("dataset", {}) if isinstance(item, dict) else {}
            if isinstance(dataset, dict) and dataset.get("name"):
                tags[f"mlflow.input.{dataset['name']}"[:250]] = (
                    f"{dataset.get('digest', '')} {dataset.get('source_type', '')}".strip()
                )
        if tags:
            tracking.set_tags(run=proof, tags=tags, by=request.user)
        models = [str(m["model_id"]) for m in listed(params, "models") if isinstance(m, dict) and m.get("model_id")]
        if models:
            lineage.add_edges(checker=self.checker, run=proof, inputs=models)
        return Response({})


class LogOutputsView(MlflowView):
    """Logged models a run produced: lineage run → model."""

    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        models = [str(m["model_id"]) for m in listed(params, "models") if isinstance(m, dict) and m.get("model_id")]
        lineage.add_edges(checker=self.checker, run=proof, outputs=models)
        return Response({})


class LogModelView(MlflowView):
    """MLflow 2's model record: kept, as MLflow keeps it, in the tag `mlflow.log-model.history`."""

    def post(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"), Level.EDIT)
        record = text(params, "model_json")
        held = proof.node.run.tags.filter(key="mlflow.log-model.history").values_list("value", flat=True).first()
        history = f"{held[:-1]}, {record}]" if held else f"[{record}]"
        tracking.set_tags(run=proof, tags={"mlflow.log-model.history": history}, by=request.user)
        return Response({})
