"""Upload and download endpoints (docs/runs-api.md "Blob store and uploads").

Bodies that carry file bytes (blob PUTs, archives) are read straight from the WSGI stream in chunks:
these views have no parsers, so DRF never loads a body into memory, and Content-Length bounds every read.
Downloads stream from storage; a node's files need view rights on it, like the node itself (404 otherwise).
With an S3 store, blob bytes bypass these views: uploads go to presigned URLs (`transfers` in the answer of
`POST /uploads`, or `POST /blobs/transfers`), are verified by `POST /blobs/<sha256>/complete`, and a file
download is a redirect to a presigned GET once the view has checked the caller may see the node.
"""

from __future__ import annotations

import io
import mimetypes
import re
from typing import Any
from uuid import UUID

from django.http import FileResponse, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScopeOrPublicRead
from em import errors
from em.api.base import NodeView
from em.api.errors import error_body
from em.api.serializers import NodeSerializer, present_one
from em.models import ManifestEntry, Node, Upload
from em.runs.references import references_of
from em.services import archives, blobs, s3, transfers, uploads
from em.strict import StrictSerializer, refuse_unknown

from .transfers import BLOB_STORED, TRANSFERS

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class LengthRequired(errors.InvalidInput):
    code = "length_required"
    status = 411


class AnyAccept(BaseContentNegotiation):
    """Byte endpoints answer whatever the client accepts: the body is bytes, errors are JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return (renderers[0], renderers[0].media_type)


def _content_length(request: Request) -> int:
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw.isdigit():
        raise LengthRequired("Send the body with a Content-Length header (chunked bodies are not accepted).")
    return int(raw)


def _body(request: Request) -> blobs.Readable:
    """The raw request body as a stream; DRF gives none for an empty body."""
    stream = request.stream
    return stream if stream is not None else io.BytesIO(b"")


class UploadCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=uploads.UPLOAD_KINDS)
    parent = serializers.UUIDField(  # type: ignore[assignment]  # a declared field: see NodeSerializer
        required=False, help_text="The folder to upload into (or `parent_path`)."
    )
    parent_path = serializers.CharField(required=False, help_text="e.g. `/alice/experiments`.")
    make_folder = serializers.BooleanField(default=False, help_text="Create the folders of `parent_path`.")
    name = serializers.CharField(trim_whitespace=False, max_length=10_000)
    conflict_strategy = serializers.ChoiceField(choices=Upload.Conflict.choices, default=Upload.Conflict.ERROR)
    metadata = serializers.JSONField(required=False, help_text="`labels` and `description` go on the node.")
    lineage = serializers.JSONField(required=False, help_text='{"input": [id or /path], "output": [...]}')
    files = serializers.JSONField(help_text='[{"path", "size", "sha256", "mtime": ISO 8601 or null}]')

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("parent" in attrs) == ("parent_path" in attrs):
            raise serializers.ValidationError("Give exactly one of `parent` and `parent_path`.")
        return attrs


def _where(values: dict[str, Any]) -> uploads.Where:
    return uploads.Where(
        parent=values.get("parent"), path=values.get("parent_path"), make_folder=values.get("make_folder", False)
    )


def _skipped(request: Request, node: Node) -> Response:
    return Response({"skipped": True, "node": present_one(request.user, node)}, status=status.HTTP_200_OK)


_STARTED = inline_serializer(
    "UploadStarted",
    {
        "id": serializers.UUIDField(),
        "missing": serializers.ListField(child=serializers.CharField()),
        "transfers": TRANSFERS,
    },
)
_COMMITTED = inline_serializer(
    "UploadCommitted", {"node": NodeSerializer(), "skipped": serializers.BooleanField(required=False)}
)


class UploadCreateView(APIView):
    @extend_schema(
        request=UploadCreateSerializer,
        responses={201: _STARTED, 200: _COMMITTED},
        summary="Announce an upload; answers the blobs to send",
    )
    def post(self, request: Request) -> Response:
        data = UploadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        started = uploads.start_upload(
            by=request.user,
            kind=v["kind"],
            parent=_where(v),
            name=v["name"],
            files=v["files"],
            conflict_strategy=v["conflict_strategy"],
            metadata=v.get("metadata"),
            lineage=v.get("lineage"),
        )
        if started.upload is None:
            assert started.skipped is not None  # noqa: S101  # start_upload returns one or the other
            return _skipped(request, started.skipped)
        plans = transfers.plans(request.user, started.sizes)  # with S3: presigned URLs, once the session is durable
        return Response(
            {"id": started.upload.pk, "missing": started.missing, "transfers": plans}, status=status.HTTP_201_CREATED
        )


def _committed(request: Request, committed: uploads.Committed) -> Response:
    if committed.skipped:
        return _skipped(request, committed.node)
    code = status.HTTP_201_CREATED if committed.created else status.HTTP_200_OK
    return Response({"node": present_one(request.user, committed.node)}, status=code)


class UploadCommitView(APIView):
    @extend_schema(request=None, responses={201: _COMMITTED, 200: _COMMITTED}, summary="Commit an upload")
    def post(self, request: Request, upload_id: UUID) -> Response:
        refuse_unknown(request.data, [])  # a commit takes no body: nothing in one may seem to count
        return _committed(request, uploads.commit_upload(upload_id=upload_id, by=request.user))


class UploadArchiveView(APIView):
    parser_classes: list[Any] = []
    content_negotiation_class = AnyAccept

    @extend_schema(
        parameters=[
            OpenApiParameter("parent", UUID),
            OpenApiParameter("parent_path", str),
            OpenApiParameter("make_folder", bool),
            OpenApiParameter("name", str, required=True),
            OpenApiParameter("kind", str, enum=uploads.UPLOAD_KINDS),
            OpenApiParameter("conflict_strategy", str, enum=Upload.Conflict.values),
        ],
        request={"application/octet-stream": bytes},
        responses={201: _COMMITTED, 200: _COMMITTED},
        summary="Upload a .tar, .tar.gz or .zip as one node",
    )
    def post(self, request: Request) -> Response:
        params = UploadCreateSerializer(data={**request.query_params.dict(), "files": []})
        params.is_valid(raise_exception=True)
        v = params.validated_data
        result = archives.upload_archive(
            by=request.user,
            stream=_body(request),
            length=_content_length(request),
            parent=_where(v),
            name=v["name"],
            kind=v["kind"],
            conflict_strategy=v["conflict_strategy"],
        )
        if isinstance(result, uploads.Started):
            assert result.skipped is not None  # noqa: S101  # an archive either lands or is skipped
            return _skipped(request, result.skipped)
        return _committed(request, result)


class BlobView(APIView):
    parser_classes: list[Any] = []
    content_negotiation_class = AnyAccept

    @extend_schema(
        responses={200: None, 404: None},
        summary="Have you sent this blob? (else `Upload-Offset`: how much of it you have sent)",
        description="Answers only for blobs the caller has sent: a blob stored for others is 404 to you.",
    )
    def head(self, request: Request, sha256: str) -> HttpResponse:
        blobs.check_digest(sha256)
        size = blobs.owned_sizes(request.user, [sha256]).get(sha256)
        if size is not None:
            return HttpResponse(status=status.HTTP_200_OK, headers={"Upload-Offset": str(size)})
        offset = blobs.partial_offset(sha256, by=request.user)
        return HttpResponse(status=status.HTTP_404_NOT_FOUND, headers={"Upload-Offset": str(offset)})

    @extend_schema(
        parameters=[OpenApiParameter("Content-Range", str, OpenApiParameter.HEADER, description="bytes s-e/total")],
        request={"application/octet-stream": bytes},
        responses={
            201: BLOB_STORED,
            200: BLOB_STORED,
            202: inline_serializer("BlobPartial", {"offset": serializers.IntegerField()}),
        },
        summary="Send a blob's bytes, whole or in parts",
    )
    def put(self, request: Request, sha256: str) -> Response:
        blobs.check_digest(sha256)
        length = _content_length(request)
        start, total = 0, None
        content_range = request.headers.get("Content-Range")
        if content_range:
            match = _CONTENT_RANGE.match(content_range)
            if match is None:
                raise errors.InvalidInput("Content-Range must read `bytes <start>-<end>/<total>`.")
            start, end, total = (int(g) for g in match.groups())
            if end - start + 1 != length:
                raise errors.InvalidInput(
                    f"Content-Range covers {end - start + 1} bytes, but Content-Length is {length}."
                )
        received = blobs.receive(sha256, _body(request), by=request.user, length=length, start=start, total=total)
        headers = {"Upload-Offset": str(received.offset)}
        if received.blob is None:
            return Response({"offset": received.offset}, status=status.HTTP_202_ACCEPTED, headers=headers)
        code = status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
        return Response({"sha256": sha256, "size": received.blob.size}, status=code, headers=headers)


def file_json(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "path": entry.path,
        "size": entry.size,
        "sha256": entry.blob_id,
        "md5": entry.blob.md5,
        "mtime": entry.mtime.isoformat() if entry.mtime else None,
    }


NODE_FILES = inline_serializer(
    "NodeFile",
    {
        "path": serializers.CharField(),
        "size": serializers.IntegerField(),
        "sha256": serializers.CharField(),
        "md5": serializers.CharField(),
        "mtime": serializers.DateTimeField(allow_null=True),
    },
    many=True,
)


class NodeFilesView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NODE_FILES, summary="The files a run or artifact holds")
    def get(self, request: Request, node_id: UUID) -> Response:
        return Response([file_json(e) for e in blobs.manifest_files(self.node).values()])


NODE_REFERENCES = inline_serializer(
    "NodeReferences",
    {
        "references": inline_serializer(
            "NodeReference", {"path": serializers.CharField(), "uri": serializers.CharField()}, many=True
        ),
        "problem": serializers.CharField(allow_null=True),
    },
)


class NodeReferencesView(NodeView):
    """An artifact's external references (its references.yaml): files kept elsewhere, by URI, which the
    files listing does not show as files since EM holds no bytes of theirs."""

    permission_classes = [ApiKeyScopeOrPublicRead]

    @extend_schema(responses=NODE_REFERENCES, summary="The external references of an artifact")
    def get(self, request: Request, node_id: UUID) -> Response:
        found = references_of(self.node)
        return Response({"references": found.entries, "problem": found.problem})


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single-range `Range` header; None when it asks for nothing valid."""
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def _ranged(source: Any, start: int, length: int) -> Any:
    with source:
        source.seek(start)
        left = length
        while left > 0 and (chunk := source.read(min(blobs.CHUNK_SIZE, left))):
            left -= len(chunk)
            yield chunk


class NodeFileView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    content_negotiation_class = AnyAccept

    @extend_schema(
        parameters=[OpenApiParameter("Range", str, OpenApiParameter.HEADER, description="bytes=start-end")],
        responses={(200, "*/*"): bytes, (206, "*/*"): bytes, (302, "*/*"): None},
        summary="Download one file (Range honoured)",
        description="The bytes as stored, typed by the file's extension (application/octet-stream otherwise). "
        "With an S3 store: 302 to a presigned GET of the bucket, valid EM_S3_DOWNLOAD_EXPIRY seconds "
        "(send Range there).",
    )
    def get(self, request: Request, node_id: UUID, file_path: str) -> HttpResponseBase:
        entry = blobs.file_entry(self.node, file_path)
        filename = file_path.rsplit("/", 1)[-1]
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if s3.enabled():  # the view's permission check is done: the bucket serves the bytes
            url = s3.presign_get(entry.blob.storage_name, filename=filename, content_type=content_type)
            return HttpResponseRedirect(url, headers={"Cache-Control": "private, no-store"})
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{entry.blob_id}"'}
        wanted = request.headers.get("Range")
        if not wanted:
            response = FileResponse(
                blobs.open_blob(entry.blob_id), as_attachment=True, filename=filename, content_type=content_type
            )
            response["Content-Length"] = str(entry.size)
            for name, value in headers.items():
                response[name] = value
            return response
        span = _byte_range(wanted, entry.size)
        if span is None:
            return JsonResponse(
                error_body("range_not_satisfiable", f"{wanted!r} asks for nothing in a file of {entry.size} bytes."),
                status=status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
                headers={"Content-Range": f"bytes */{entry.size}", **headers},
            )
        start, end = span
        return StreamingHttpResponse(
            _ranged(blobs.open_blob(entry.blob_id), start, end - start + 1),
            status=status.HTTP_206_PARTIAL_CONTENT,
            content_type=content_type,
            headers={
                "Content-Range": f"bytes {start}-{end}/{entry.size}",
                "Content-Length": str(end - start + 1),
                **headers,
            },
        )


class NodeArchiveView(NodeView):
    permission_classes = [ApiKeyScopeOrPublicRead]
    content_negotiation_class = AnyAccept

    @extend_schema(responses={(200, "application/zip"): bytes}, summary="All of a node's files as one zip")
    def get(self, request: Request, node_id: UUID) -> HttpResponseBase:
        node = self.node
        entries = list(blobs.manifest_files(node).values())
        return StreamingHttpResponse(
            archives.stream_zip(entries),
            content_type="application/zip",
            headers={
                "Content-Disposition": content_disposition_header(as_attachment=True, filename=f"{node.name}.zip")
            },
        )
