"""`/apis/v1/objects…`: a node's files as T9k objects (em.api.t9k.store does the work).

`?path=<node path>/<key>`; bytes arrive as the multipart field `content`, one object a request, or in
parts for big files (`objects/multipart`). Reads need view rights on the node, writes edit rights.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.http import FileResponse
from rest_framework.request import Request
from rest_framework.response import Response

from em import errors
from em.access import Level
from em.models import ManifestEntry
from em.services import blobs

from . import store
from .store import Multipart, ObjectRef
from .wire import T9kView, ok, page_of, paginated


def _content(request: Request) -> Any:
    upload = request.FILES.get("content")
    if upload is None:
        raise errors.InvalidInput("send the bytes as the multipart form field 'content'")
    return upload


def _object_json(path: str, size: int) -> dict[str, Any]:
    return {"path": path, "path_type": "object", "size_bytes": size}


def _listed(ref: ObjectRef, key: str, entry: ManifestEntry | None) -> dict[str, Any]:
    node_path = ref.path[: len(ref.path) - len(ref.key)].rstrip("/") if ref.key else ref.path.rstrip("/")
    path = f"{node_path}/{key}"
    if entry is None:
        return {
            "path": path,
            "path_type": "directory",
            "size_bytes": 0,
            "checksum": "",
            "mtime": "",
            "content_type": "",
        }
    return {
        "path": path,
        "path_type": "object",
        "size_bytes": entry.size,
        "checksum": entry.blob.md5,
        "mtime": entry.mtime.isoformat().replace("+00:00", "Z") if entry.mtime else "",
        "content_type": mimetypes.guess_type(key)[0] or "application/octet-stream",
    }


class ObjectsView(T9kView):
    """Send (POST), read (GET) and delete (DELETE) one object, or a directory of them."""

    def _ref(self, need: Level) -> ObjectRef:
        return store.resolve(self.checker, self.param("path"), need=need)

    def post(self, request: Request) -> Response:
        ref = self._ref(Level.EDIT)
        content = _content(request)
        blob = store.receive(content, content.size, by=request.user)
        store.put(ref, blob, by=request.user)
        return ok(_object_json(ref.path, blob.size))

    def get(self, request: Request) -> FileResponse:
        ref = self._ref(Level.VIEW)
        entry = store.entry(ref)
        filename = ref.key.rsplit("/", 1)[-1]
        return FileResponse(
            blobs.open_blob(entry.blob_id),
            as_attachment=True,
            filename=filename,
            content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        )

    def delete(self, request: Request) -> Response:
        removed = store.remove(self._ref(Level.EDIT), by=request.user)
        return ok({"removed": removed})


class ObjectListView(T9kView):
    def get(self, request: Request) -> Response:
        ref = store.resolve(self.checker, self.param("path"), need=Level.VIEW)
        page, size = page_of(request)
        items = store.listing(ref)
        shown = [_listed(ref, key, entry) for key, entry in items[(page - 1) * size : page * size]]
        return ok(paginated(shown, page=page, size=size, total=len(items)))


class MultipartStartView(T9kView):
    def post(self, request: Request) -> Response:
        ref = store.resolve(self.checker, self.param("path"), need=Level.EDIT)
        return ok({"uploadId": Multipart.start(ref, by=request.user).id})


def _part_number(view: T9kView) -> int:
    try:
        return int(view.param("partNumber"))
    except ValueError:
        raise errors.InvalidInput("partNumber is a whole number") from None


def _parts(body: dict[str, Any]) -> list[tuple[int, str]]:
    parts = body.get("parts")
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise errors.InvalidInput('send {"parts": [{"etag": ..., "partNumber": n}, ...]}')
    out = []
    for part in parts:
        number, etag = part.get("partNumber"), part.get("etag", part.get("eTag"))
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise errors.InvalidInput("each part is {etag: text, partNumber: whole number}")
        out.append((number, etag))
    if len({number for number, _ in out}) != len(out):
        raise errors.InvalidInput("a partNumber is listed twice")
    return out


class MultipartView(T9kView):
    """One multipart upload: PUT a part, POST to complete, DELETE to abort."""

    def _upload(self, upload_id: str, need: Level) -> tuple[ObjectRef, Multipart]:
        ref = store.resolve(self.checker, self.param("path"), need=need)
        upload = Multipart(upload_id, by=self.request.user)
        upload.check(ref.path)
        return ref, upload

    def put(self, request: Request, upload_id: str) -> Response:
        _, upload = self._upload(upload_id, Level.EDIT)
        content = _content(request)
        return ok({"eTag": upload.put_part(_part_number(self), content, content.size)})

    def post(self, request: Request, upload_id: str) -> Response:
        ref, upload = self._upload(upload_id, Level.EDIT)
        blob = upload.complete(_parts(self.body()))
        store.put(ref, blob, by=request.user)
        return ok(_object_json(ref.path, blob.size))

    def delete(self, request: Request, upload_id: str) -> Response:
        _, upload = self._upload(upload_id, Level.EDIT)
        upload.abort()
        return ok({})
