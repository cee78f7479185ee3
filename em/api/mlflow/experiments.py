"""MLflow experiments as EM folders: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from rest_framework.request import Request
from rest_framework.response import Response

from em import access, errors, tree
from em.access import Access, Checker, Level
from em.models import Kind, Node
from em.services import lookup, nodes, trash
from em.services.paths import display_paths

from . import shapes
from .base import MlflowView, integer, is_uuid, next_token, page_offset, pairs, text
from .errors import RESOURCE_DOES_NOT_EXIST, MlflowError

MAX_EXPERIMENTS_PAGE = 50_000
NOT_FOUND = "No experiment with this id or name (or one you may see)."


def path_of_name(user: Any, name: str) -> str:
    """The folder path an experiment name means: an absolute path as it is, else below the caller's root."""
    name = name.strip()
    if not name:
        raise MlflowError("An experiment name must not be empty.")
    return name if name.startswith("/") else f"/{user.get_username()}/{name}"


def folder_by_id(checker: Checker, experiment_id: str, *, need: Level = Level.VIEW, make: bool = False) -> Access:
    """The folder an experiment id names; "0" (MLflow's default experiment) is the caller's `Default`
    folder, made on first use by a write (`make`; a read never writes, so a read-only key makes nothing).
    A run, a hidden folder and nothing at all are alike RESOURCE_DOES_NOT_EXIST."""
    if experiment_id == "0":
        found: Access | None = lookup.locate(
            checker, path_of_name(checker.user, shapes.DEFAULT_EXPERIMENT), need=need, make=make
        )
    else:
        found = lookup.locate(checker, experiment_id, need=need) if is_uuid(experiment_id) else None
    if found is None or found.node.kind != Kind.FOLDER:
        raise errors.NotFound(NOT_FOUND)
    return found


def folders_of(checker: Checker, experiment_ids: list[Any]) -> list[Node]:
    """The folders of the experiments a search names that the caller may view; MLflow finds nothing in an
    experiment that is not there, and a hidden one is the same (so neither is an error)."""
    folders = []
    for experiment_id in experiment_ids:
        try:
            folders.append(folder_by_id(checker, str(experiment_id), make=False).node)
        except errors.NotFound:
            continue
    return folders


def present(checker: Checker, folders: list[Node]) -> list[dict[str, Any]]:
    paths = display_paths(folders)
    return [shapes.experiment(folder, paths[folder.pk], checker.user) for folder in folders]


class ExperimentCreateView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        path = path_of_name(request.user, text(params, "name"))
        found = lookup.find(path)
        if found.node is not None and not found.missing and self.checker.level(found.node) >= Level.VIEW:
            raise errors.NameClash(f"Experiment '{text(params, 'name')}' already exists.")
        tags = pairs(params, "tags")
        with transaction.atomic():  # the folders and their tags, or nothing
            folder = lookup.settle(self.checker, found, need=Level.EDIT, make=True).node
            if tags:
                nodes.update_node(node=folder, by=request.user, extra={**folder.extra, "mlflow": {"tags": tags}})
        return Response({"experiment_id": str(folder.pk)})


class ExperimentGetView(MlflowView):
    def get(self, request: Request) -> Response:
        experiment_id = text(self.params(), "experiment_id")
        try:
            folder = folder_by_id(self.checker, experiment_id).node
        except errors.NotFound:
            folder = _trashed(request.user, experiment_id)
        return Response({"experiment": present(self.checker, [folder])[0]})


def _trashed(user: Any, experiment_id: str) -> Node:
    """A deleted experiment, for its owner (MLflow shows deleted experiments to whoever could see them)."""
    if not is_uuid(experiment_id):
        raise errors.NotFound(NOT_FOUND)
    node = access.get_node(user, experiment_id, need=Level.OWNER, trashed=True).node
    if node.kind != Kind.FOLDER:
        raise errors.NotFound(NOT_FOUND)
    return node


class ExperimentByNameView(MlflowView):
    def get(self, request: Request) -> Response:
        name = text(self.params(), "experiment_name")
        if name == shapes.DEFAULT_EXPERIMENT:
            folder: Node | None = folder_by_id(self.checker, "0").node
        else:
            try:
                folder = lookup.locate(self.checker, path_of_name(request.user, name)).node
            except errors.NotFound:
                folder = None
            if folder is None or folder.kind != Kind.FOLDER:
                raise MlflowError(
                    f"Could not find experiment with name '{name}'.", error_code=RESOURCE_DOES_NOT_EXIST, status=404
                )
        return Response({"experiment": present(self.checker, [folder])[0]})  # type: ignore[list-item]  # raised above


class ExperimentSearchView(MlflowView):
    """Every folder the caller may see (their roots left out), newest first, paged; `filter` may name
    `name` with =, != or LIKE (MLflow's experiment filter, for the part that means something here)."""

    def post(self, request: Request) -> Response:
        return self.search()

    def get(self, request: Request) -> Response:
        return self.search()

    def search(self) -> Response:
        params = self.params()
        size = integer(params, "max_results", default=1000) or 1000
        if not 1 <= size <= MAX_EXPERIMENTS_PAGE:
            raise MlflowError(f"max_results is from 1 to {MAX_EXPERIMENTS_PAGE}.")
        offset = page_offset(text(params, "page_token", required=False))
        view = text(params, "view_type", required=False, default="ACTIVE_ONLY")
        if view != "ACTIVE_ONLY":
            raise MlflowError("Only active experiments are listed (view_type ACTIVE_ONLY); the rest are in the trash.")
        folders = access.scope(Node.objects.filter(kind=Kind.FOLDER, parent__isnull=False), self.request.user)
        folders = folders.filter(_name_filter(self.request.user, text(params, "filter", required=False)))
        page = list(folders.order_by("-created_at", "pk")[offset : offset + size + 1])
        body: dict[str, Any] = {"experiments": present(self.checker, page[:size])}
        token = next_token(offset, size, len(page))
        if token:
            body["next_page_token"] = token
        return Response(body)


def _name_filter(user: Any, raw: str) -> Q:
    """`name = 'x'`, `name != 'x'` or `name LIKE 'x%'` (also `attribute.name`), matched on the folder's
    own name for a relative experiment name; an empty filter matches every folder."""
    raw = raw.strip()
    if not raw:
        return Q()
    for op in ("!=", "=", " LIKE ", " ILIKE "):
        left, sep, right = raw.partition(op)
        if sep and left.strip().removeprefix("attribute.").removeprefix("attributes.") == "name":
            value = right.strip()
            if len(value) < 2 or value[0] != value[-1] or value[0] not in "'\"":
                break
            value = value[1:-1]
            if op.strip() in {"LIKE", "ILIKE"}:
                name = value.rsplit("/", 1)[-1]
                lookup_name = "name__iregex" if op.strip() == "ILIKE" else "name__regex"
                pattern = "^" + "".join(".*" if ch == "%" else "." if ch == "_" else _escape(ch) for ch in name) + "$"
                return Q(**{lookup_name: pattern})
            exact = _path_q(path_of_name(user, value))
            return ~exact if op == "!=" else exact
    raise MlflowError(f"Unsupported experiment filter {raw[:200]!r}: use name = '...', != or LIKE.")


def _escape(ch: str) -> str:
    return "\\" + ch if ch in ".^$*+?{}[]\\|()" else ch


def _path_q(path: str) -> Q:
    found = lookup.find(path)
    if found.node is None or found.missing:
        return Q(pk__in=[])
    return Q(pk=found.node.pk)


class ExperimentUpdateView(MlflowView):
    def post(self, request: Request) -> Response:
        params = self.params()
        folder = folder_by_id(self.checker, text(params, "experiment_id"), need=Level.EDIT, make=False)
        new_name = text(params, "new_name", required=False)
        if new_name:
            if "/" in new_name.strip("/"):
                raise MlflowError("An experiment is renamed in place: give a name without '/'; move it in EM.")
            nodes.update_node(node=folder, by=request.user, name=new_name.strip("/"))
        return Response({})


class ExperimentDeleteView(MlflowView):
    def post(self, request: Request) -> Response:
        folder = folder_by_id(self.checker, text(self.params(), "experiment_id"), need=Level.EDIT, make=False)
        trash.trash_node(node=folder, by=request.user)
        return Response({})


class ExperimentRestoreView(MlflowView):
    def post(self, request: Request) -> Response:
        node = _trashed(request.user, text(self.params(), "experiment_id"))
        trash.restore_node(node=node, by=request.user)
        return Response({})


class ExperimentTagView(MlflowView):
    """set-experiment-tag and delete-experiment-tag: the tags live in the folder's `extra["mlflow"]`."""

    removes: bool = False

    def post(self, request: Request) -> Response:
        params = self.params()
        folder = folder_by_id(self.checker, text(params, "experiment_id"), need=Level.EDIT, make=False)
        mlflow = dict(folder.node.extra.get("mlflow", {}))
        tags = dict(mlflow.get("tags", {}))
        key = text(params, "key")
        if self.removes:
            if key not in tags:
                raise errors.NotFound(f"The experiment has no tag {key!r}.")
            tags.pop(key)
        else:
            tags[key] = text(params, "value", required=False)
        nodes.update_node(node=folder, by=request.user, extra={**folder.node.extra, "mlflow": {**mlflow, "tags": tags}})
        return Response({})


def subtree_q(folders: list[Node]) -> Q:
    """Nodes below any of `folders` (each a path range)."""
    ranges = Q(pk__in=[])
    for folder in folders:
        low, high = tree.subtree_range(folder.path)
        ranges |= Q(path__gte=low, path__lt=high)
    return ranges
