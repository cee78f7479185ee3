"""Artifacts through MLflow's `mlflow-artifacts` proxy, onto EM's blob store, and `artifacts/list`.

The artifact URIs this layer hands out name the node that holds the files:
`mlflow-artifacts:/<experiment>/<run>/artifacts/...` for a run and
`mlflow-artifacts:/<experiment>/models/<model>/artifacts/...` for a logged model (an Artifact node).
The client turns them into `/api/2.0/mlflow-artifacts/artifacts/<same path>`: PUT stores a file
(`em.services.node_files.put_file`: the one blob store, a new manifest), GET downloads one, and GET
without a file lists a folder. Reading needs view on the node, writing edit, as for EM's own files.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import FileResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response

from em import access, errors
from em.access import Access, Level
from em.api.uploads import AnyAccept, _body, _content_length
from em.models import Kind
from em.runs import tracking
from em.services import blobs, node_files

from . import shapes
from .base import MlflowView, is_uuid, text
from .errors import MlflowError
from .runs import run_access

NOT_FOUND = "No such artifact."


def locate(view: MlflowView, path: str, need: Level) -> tuple[Access, str]:
    """The node an artifact path names (a run, or a logged model's Artifact node) checked for `need`,
    and the file path inside it ("" for its top)."""
    parts = path.strip("/").split("/")
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        node_id, rest = parts[2], parts[4:]
    elif len(parts) >= 3 and parts[2] == "artifacts":
        node_id, rest = parts[1], parts[3:]
    else:
        raise errors.NotFound(NOT_FOUND)
    node = access.load(node_id) if is_uuid(node_id) else None
    if node is None or node.kind not in (Kind.RUN, Kind.ARTIFACT):
        raise errors.NotFound(NOT_FOUND)
    return view.checker.check(node, need, not_found=NOT_FOUND), "/".join(rest)


def listing(node: Any, folder: str, *, relative: bool) -> list[dict[str, Any]]:
    """A folder's entries: names relative to it (the proxy's answer) or to the node's top (`artifacts/list`)."""
    cut = len(folder) + 1 if folder and relative else 0
    return [
        {"path": entry.path[cut:], "is_dir": entry.is_dir, **({} if entry.is_dir else {"file_size": entry.size})}
        for entry in node_files.list_folder(node, folder)
    ]


class ProxyListView(MlflowView):
    """GET /api/2.0/mlflow-artifacts/artifacts?path=<experiment>/<run>/artifacts/<folder>"""

    def get(self, request: Request) -> Response:
        proof, folder = locate(self, text(self.params(), "path", required=False), Level.VIEW)
        if folder and folder in blobs.manifest_files(proof.node):
            return Response({"files": [{"path": folder.rsplit("/", 1)[-1], "is_dir": False}]})
        return Response({"files": listing(proof.node, folder, relative=True)})


class ProxyFileView(MlflowView):
    """GET downloads, PUT stores one file of a run or logged model."""

    parser_classes: ClassVar[list[Any]] = []  # type: ignore[misc]  # the body is bytes, read as a stream
    content_negotiation_class = AnyAccept

    def get(self, request: Request, path: str) -> HttpResponseBase:
        proof, file_path = locate(self, path, Level.VIEW)
        if not file_path:
            return Response({"files": listing(proof.node, "", relative=True)})
        entry = blobs.file_entry(proof.node, file_path)
        response = FileResponse(blobs.open_blob(entry.blob_id), content_type="application/octet-stream")
        response["Content-Length"] = str(entry.size)
        return response

    def put(self, request: Request, path: str) -> Response:
        proof, file_path = locate(self, path, Level.EDIT)
        if not file_path:
            raise MlflowError("Name the file to store below the artifacts folder.")
        node_files.put_file(
            node=proof, path=file_path, stream=_body(request), length=_content_length(request), by=request.user
        )
        return Response({})


class ArtifactListView(MlflowView):
    """GET /api/2.0/mlflow/artifacts/list?run_id=&path=: entries named from the run's artifact root."""

    def get(self, request: Request) -> Response:
        params = self.params()
        proof = run_access(self, text(params, "run_id", "run_uuid"))
        folder = text(params, "path", required=False).strip("/")
        experiment = tracking.folders_of([proof.node])[proof.node.pk]
        return Response(
            {
                "root_uri": shapes.run_artifact_uri(experiment.pk, proof.node.pk),
                "files": listing(proof.node, folder, relative=False),
            }
        )
