"""MLflow 3's logged models (what `mlflow.autolog` records a trained model as): an Artifact node in the
experiment's folder, its files stored through the artifact proxy, its MLflow fields (status, type,
params, tags, source run) in `extra["mlflow"]`, and a lineage edge from the run that made it."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from em import access, errors
from em.access import Access, Level
from em.models import Kind, Node
from em.services import lineage, nodes, trash
from em.services.trash import free_name

from . import shapes
from .base import MlflowView, integer, is_uuid, listed, next_token, page_offset, pairs, text
from .errors import MlflowError
from .experiments import folder_by_id, folders_of
from .runs import run_access

MODEL_NOT_FOUND = "Logged model not found."
STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


def model_access(view: MlflowView, model_id: str, need: Level = Level.VIEW) -> Access:
    node = access.load(model_id) if is_uuid(model_id) else None
    if node is None or node.kind != Kind.ARTIFACT or "mlflow" not in node.extra:
        raise errors.NotFound(MODEL_NOT_FOUND)
    return view.checker.check(node, need, not_found=MODEL_NOT_FOUND)


def present(node: Node) -> dict[str, Any]:
    folder = node.parent if node.parent is not None else node
    return shapes.logged_model(node, folder)


def _update(proof: Access, by: Any, **changes: Any) -> Node:
    fields = {**proof.node.extra.get("mlflow", {}), **changes}
    return nodes.update_node(node=proof, by=by, extra={**proof.node.extra, "mlflow": fields})


class LoggedModelCreateView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        folder = folder_by_id(self.checker, text(params, "experiment_id"), need=Level.EDIT, make=True)
        name = text(params, "name", required=False) or "model"
        source = text(params, "source_run_id", required=False)
        run = run_access(self, source, Level.EDIT) if source else None
        fields = {
            "name": name,
            "status": "LOGGED_MODEL_PENDING",
            "model_type": text(params, "model_type", required=False),
            "source_run_id": source,
            "params": pairs(params, "params"),
            "tags": pairs(params, "tags"),
        }
        node = nodes.create_node(
            parent=folder,
            name=free_name(folder.node, name),
            kind=Kind.ARTIFACT,
            by=request.user,
            extra={"mlflow": fields},
        )
        if run is not None:
            lineage.add_edges(checker=self.checker, run=run, outputs=[str(node.pk)])
        node.parent = folder.node
        return Response({"model": present(node)})


class LoggedModelView(MlflowView):
    """GET one, PATCH to finalize (its status), DELETE to the trash."""

    def get(self, request: Request, model_id: str) -> Response:
        return Response({"model": present(model_access(self, model_id).node)})

    def patch(self, request: Request, model_id: str) -> Response:
        proof = model_access(self, model_id, Level.EDIT)
        status = text(self.params(), "status")
        if status not in STATUSES:
            raise MlflowError(f"A logged model's status is one of {', '.join(STATUSES)}.")
        return Response({"model": present(_update(proof, request.user, status=status))})

    def delete(self, request: Request, model_id: str) -> Response:
        trash.trash_node(node=model_access(self, model_id, Level.EDIT), by=request.user)
        return Response({})


class LoggedModelTagsView(MlflowView):
    def patch(self, request: Request, model_id: str) -> Response:
        proof = model_access(self, model_id, Level.EDIT)
        tags = {**proof.node.extra["mlflow"].get("tags", {}), **pairs(self.params(), "tags")}
        _update(proof, request.user, tags=tags)
        return Response({})


class LoggedModelTagView(MlflowView):
    def delete(self, request: Request, model_id: str, key: str) -> Response:
        proof = model_access(self, model_id, Level.EDIT)
        tags = dict(proof.node.extra["mlflow"].get("tags", {}))
        if tags.pop(key, None) is None:
            raise errors.NotFound(f"The logged model has no tag {key!r}.")
        _update(proof, request.user, tags=tags)
        return Response({})


class LoggedModelParamsView(MlflowView):
    def post(self, request: Request, model_id: str) -> Response:
        proof = model_access(self, model_id, Level.EDIT)
        logged = {**proof.node.extra["mlflow"].get("params", {}), **pairs(self.params(), "params")}
        _update(proof, request.user, params=logged)
        return Response({})


FILTER_FIELDS = ("name", "source_run_id", "status", "model_type")
_EQUALITY = re.compile(r"^\s*(?:attributes?\.)?(\w+)\s*=\s*(['\"])(.*?)\2\s*$")


def _equalities(raw: str) -> dict[str, str]:
    """`name = 'x' AND source_run_id = 'y'` — the part of MLflow's logged-model filter that clients send
    (the runs:/ artifact repository looks a run's model up by name) — as field → value."""
    wanted: dict[str, str] = {}
    for term in filter(None, re.split(r"\s+AND\s+", raw.strip(), flags=re.IGNORECASE)):
        match = _EQUALITY.match(term)
        if match is None or match.group(1) not in FILTER_FIELDS:
            raise MlflowError(
                f"Unsupported logged-model filter {term[:200]!r}: "
                f"use {', '.join(FILTER_FIELDS)} = '...', joined by AND."
            )
        wanted[match.group(1)] = match.group(3)
    return wanted


def _matches(node: Node, wanted: dict[str, str]) -> bool:
    fields = node.extra.get("mlflow", {})
    return all(str(fields.get(field, "")) == value for field, value in wanted.items())


class LoggedModelSearchView(MlflowView):
    """The logged models in the experiments' folders, newest first, narrowed by equalities on their fields.

    The equalities are checked on the page read (MLflow fields live in the node's JSON): a page may hold
    fewer than `max_results` models while a `next_page_token` says more may follow, as MLflow allows.
    """

    def post(self, request: Request) -> Response:
        params = self.params()
        wanted = _equalities(text(params, "filter", required=False))
        size = integer(params, "max_results", default=100) or 100
        if not 1 <= size <= 1000:
            raise MlflowError("max_results is from 1 to 1000.")
        offset = page_offset(text(params, "page_token", required=False))
        folders = folders_of(self.checker, listed(params, "experiment_ids"))
        found = list(
            Node.objects.live()
            .filter(parent__in=folders, kind=Kind.ARTIFACT, extra__has_key="mlflow")
            .select_related("parent", "created_by", "owner")
            .order_by("-created_at", "pk")[offset : offset + size + 1]
        )
        body: dict[str, Any] = {"models": [present(node) for node in found[:size] if _matches(node, wanted)]}
        token = next_token(offset, size, len(found))
        if token:
            body["next_page_token"] = token
        return Response(body)
