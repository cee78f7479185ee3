"""A version's files: listed a page at a time, and served by em's own file views.

A version is presented to `em.api.uploads`' download views as the asset holding that version's
manifest, so one file (with Range and ETag) and the whole zip are served by the code that serves a
run's files, not by a copy of it.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from em.api.pagination import PagePagination
from em.api.uploads import NODE_FILES, NodeArchiveView, NodeFileView, file_json
from em.models import ManifestEntry, Node

from ..models import MAIN
from ..services import refs
from .base import AssetView
from .views import REF, page_of


class AtRef(AssetView):
    """An asset view that reads the version `?ref=` names (default `main`)."""

    version_node: Node

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not hasattr(self, "access"):
            return
        version = refs.version_at(refs.locate(self.checker, request.query_params.get("ref") or MAIN, asset=self.access))
        self.version_node = copy.copy(self.access.node)  # never saved: the asset as it stood at the version
        self.version_node.manifest_id = version.manifest_id

    @property
    def node(self) -> Node:
        return self.version_node


class FilesView(AtRef):
    @extend_schema(
        parameters=[REF, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=page_of("AssetFilePage", NODE_FILES),
        summary="The files of a version, in path order",
        operation_id="assets_files_list",
    )
    def get(self, request: Request, node_id: UUID) -> Response:
        entries = ManifestEntry.objects.filter(manifest=self.node.manifest_id or 0).select_related("blob")
        paginator = PagePagination()
        page = paginator.paginate_queryset(entries.order_by("path"), request, view=self)
        return paginator.get_paginated_response([file_json(e) for e in page or []])


class FileView(AtRef, NodeFileView):
    @extend_schema(
        parameters=[REF, OpenApiParameter("Range", str, OpenApiParameter.HEADER, description="bytes=start-end")],
        responses={(200, "*/*"): bytes, (206, "*/*"): bytes},
        summary="Download one file of a version (Range honoured)",
        operation_id="assets_file",
    )
    def get(self, request: Request, node_id: UUID, file_path: str) -> HttpResponseBase:
        return super().get(request, node_id, file_path)


class ArchiveView(AtRef, NodeArchiveView):
    @extend_schema(parameters=[REF], responses={(200, "application/zip"): bytes}, summary="A version as one zip")
    def get(self, request: Request, node_id: UUID) -> HttpResponseBase:
        return super().get(request, node_id)
