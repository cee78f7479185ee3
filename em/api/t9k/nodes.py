"""`/apis/v1/nodes…` and `/oauth2/userinfo`: the T9k view of EM's node tree, over em.services.nodes.

A node is named by path (`/alice/a/b`) or id everywhere (em.services.lookup). The T9k SDK makes a run's
node first (`POST nodes`, type `Run`, its bundle folder name in `extra.alternativeName`), then sends its
files (em.api.t9k.objects); the node keeps that name as its bundle identity (`Node.bundle_id`), so EM's
own uploads of the same bundle find it, and the run shows it once indexed (`alternative_name`).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from rest_framework.request import Request
from rest_framework.response import Response

from em import errors
from em.access import Access, Level
from em.models import Kind, Node
from em.runs.services import create_live_run
from em.services import lookup, nodes, sharing, trash
from em.services.identity import bundle_identity
from em.services.validation import validate_extra

from .store import node_not_found
from .wire import T9kView, node_json, ok, page_of, paginated

# Kinds this API creates: models and datasets are made through EM's Asset Hub, which gives them versions.
CREATABLE = (Kind.FOLDER, Kind.RUN, Kind.ARTIFACT, Kind.AUTOTUNE)
NODE_FIELDS = {"parent", "name", "labels", "description", "type", "storageType", "extra"}
UPDATE_FIELDS = {"node", "name", "labels", "description", "extra"}


def find(view: T9kView, ref: Any, *, need: Level = Level.VIEW) -> Access:
    """The node `ref` (path or id) names, checked; `node not found [<ref>]` alike for hidden and missing."""
    if not isinstance(ref, str) or not ref:
        raise errors.InvalidInput("name the node by its path or id")
    try:
        return lookup.locate(view.checker, ref, need=need)
    except errors.NotFound:
        raise node_not_found(ref) from None
    except errors.InvalidInput:
        raise node_not_found(ref) from None


def _extra(value: Any) -> dict[str, Any] | None:
    """`extra` as sent: a JSON string (what the SDK sends) or an object; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise errors.InvalidInput("extra must be a JSON object (as a string)") from None
    return validate_extra(value)


def _refuse_unknown(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise errors.InvalidInput(f"unknown field(s): {', '.join(unknown)}")


class UserInfoView(T9kView):
    def get(self, request: Request) -> Response:
        return ok({"preferred_username": request.user.get_username()})


def _page(view: T9kView, queryset: Any) -> Response:
    """One page of `queryset` in the T9k shape: a count and a slice, whatever the number of rows."""
    page, size = page_of(view.request)
    total = queryset.count()
    rows = list(queryset.select_related("editor")[(page - 1) * size : page * size])
    return ok(paginated(node_json(view.checker, rows), page=page, size=size, total=total))


class NodesView(T9kView):
    """List a folder's children, create, update and delete nodes."""

    def get(self, request: Request) -> Response:
        parent_ref = self.param("parent", required=False) or f"/{request.user.get_username()}"
        parent = find(self, parent_ref)
        children = Node.objects.live().filter(parent=parent.node)
        kind = self.param("type", required=False)
        if kind:
            children = children.filter(kind=kind)
        label = self.param("label", required=False)
        if label:
            children = children.filter(_has_label(label))
        return _page(self, children.order_by("name", "pk"))

    def post(self, request: Request) -> Response:
        body = self.body()
        _refuse_unknown(body, NODE_FIELDS)
        kind = body.get("type") or Kind.FOLDER
        if kind not in CREATABLE:
            raise errors.InvalidInput(
                f"type is one of {', '.join(CREATABLE)} here (models and datasets: EM's Asset Hub)"
            )
        parent = find(self, body.get("parent"), need=Level.EDIT)
        extra = _extra(body.get("extra")) or {}
        labels, description = body.get("labels") or [], body.get("description") or ""
        with transaction.atomic():
            if kind == Kind.RUN:  # a run with no files yet, as a live run starts (em.runs.services)
                node = create_live_run(
                    parent=parent.node,
                    name=body.get("name", ""),
                    by=request.user,
                    labels=labels,
                    description=description,
                ).node
            else:
                node = nodes.create_node(
                    parent=parent,
                    name=body.get("name", ""),
                    kind=kind,
                    by=request.user,
                    labels=labels,
                    description=description,
                )
            node.extra, node.bundle_id = extra, bundle_identity(extra)
            node.save(update_fields=["extra", "bundle_id"])
        return ok({"id": str(node.pk)})

    def put(self, request: Request) -> Response:
        body = self.body()
        _refuse_unknown(body, UPDATE_FIELDS)
        target = find(self, body.get("node"), need=Level.EDIT)
        node = nodes.update_node(
            node=target,
            by=request.user,
            name=body.get("name") or None,
            labels=body.get("labels"),
            description=body.get("description"),
            extra=_extra(body.get("extra")),
        )
        return ok(node_json(self.checker, [node])[0])

    def delete(self, request: Request) -> Response:
        body = self.body()
        _refuse_unknown(body, {"node"})
        trash.trash_node(node=find(self, body.get("node"), need=Level.EDIT), by=request.user)
        return ok({})


def _has_label(label: str) -> Q:
    """Nodes bearing `label`: JSON containment on PostgreSQL; SQLite has none, so there the label is
    looked for as a quoted string in the list's JSON text."""
    if connection.vendor == "postgresql":
        return Q(labels__contains=[label])
    return Q(labels__icontains=json.dumps(label))


class NodeInfoView(T9kView):
    def get(self, request: Request) -> Response:
        return ok(node_json(self.checker, [find(self, self.param("node")).node])[0])


class SharedNodesView(T9kView):
    """Nodes shared with the caller or their groups directly."""

    def get(self, request: Request) -> Response:
        return _page(self, sharing.shared_with(request.user).order_by("name", "pk"))


class PublicNodesView(T9kView):
    """Nodes shared with everyone."""

    def get(self, request: Request) -> Response:
        return _page(self, sharing.shared_with_public().order_by("name", "pk"))
