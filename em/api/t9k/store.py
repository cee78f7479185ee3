"""T9k objects onto EM's files: an object `<node path>/<key>` is the file `key` of a run, artifact or
AutoTune node, its bytes a blob of the one content-addressed store (em.services.blobs).

The T9k SDK sends a node's files one `POST objects` at a time, with no commit call. Each object received
is hashed on its way into a scratch file, adopted into the blob store (stored once, owned by the sender),
and the node gets a new manifest: its old entries with this one added or replaced (em.services.uploads'
`manifest_for`, so identical contents share one manifest). A run whose files changed may be ready to index
(`em.api.t9k.reindex`). Big files come in parts (`Multipart`): each part waits in the uploader's own scratch
folder, the same `partial/<user id>/` that `em.services.blobs` keeps and sweeps, until the complete call
joins them into one blob.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from em import errors
from em.access import Access, Checker, Level
from em.models import Blob, ManifestEntry, Node, StorageType
from em.services import blobs, lookup, node_files
from em.services.validation import validate_path

from . import reindex

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PARTS = 10_000


class ObjectNotFound(errors.NotFound):
    """A key the node does not hold (the node itself is visible: a hidden one is `node not found`)."""


@dataclass(frozen=True)
class ObjectRef:
    """An object path resolved: the node (checked), and the key inside it ("" for the node itself)."""

    access: Access
    key: str
    path: str

    @property
    def node(self) -> Node:
        return self.access.node


def node_not_found(path: str) -> errors.NotFound:
    """The one answer for a path naming nothing or something hidden; the SDK reads the bracketed path."""
    return errors.NotFound(f"node not found [{path}]")


def resolve(checker: Checker, path: str, *, need: Level = Level.VIEW) -> ObjectRef:
    """The node holding the object `path` names, checked for `need`, and the key inside it."""
    if not isinstance(path, str) or not path.strip("/"):
        raise errors.InvalidInput("path is required: /<user>/<folders>/<node>/<key>")
    ref = path if path.startswith("/") else f"/{path}"
    try:
        found = lookup.find(ref)
    except errors.InvalidInput:
        raise node_not_found(path) from None
    node = found.node
    if node is None or (found.missing and node.storage_type != StorageType.FILES):
        raise node_not_found(path)
    try:
        proof = checker.check(node, need, not_found=f"node not found [{path}]")
    except errors.NotFound:
        raise node_not_found(path) from None
    key = "/".join(found.missing)
    if key:
        validate_path(key)
    return ObjectRef(proof, key, path)


def put(ref: ObjectRef, blob: Blob, *, by: Any) -> Node:
    """Store `blob` as the file `ref.key` of its node (replacing the file there). A file whose bytes did
    not change changes nothing, so the SDK's periodic re-upload of a run's folder costs no re-indexing."""
    if not ref.key:
        raise errors.InvalidInput(f"path {ref.path!r} names a node; add the object's key: <node path>/<key>")
    if ref.access.level < Level.EDIT:
        raise errors.PermissionDenied("permission denied")

    def add(entries: node_files.Entries) -> set[str]:
        same = entries.get(ref.key)
        if same is not None and same["sha256"] == blob.sha256:
            return set()
        entries[ref.key] = {
            "path": ref.key,
            "size": blob.size,
            "sha256": blob.sha256,
            "mtime": timezone.now().isoformat(),
        }
        return {ref.key}

    with transaction.atomic():
        node, changed = node_files.rewrite_files(node=ref.node, by=by, change=add)
        reindex.files_changed(node, changed)
    return node


def remove(ref: ObjectRef, *, by: Any) -> int:
    """Remove the file `ref.key`, or every file under it when it names a directory (all of the node's
    files when the key is empty); how many went. ObjectNotFound when it names nothing."""

    def drop(entries: node_files.Entries) -> set[str]:
        gone = {path for path in entries if in_directory(path, ref.key)}
        if not gone:
            raise ObjectNotFound(f"object not found [{ref.path}]")
        for path in gone:
            del entries[path]
        return gone

    with transaction.atomic():
        node, gone = node_files.rewrite_files(node=ref.node, by=by, change=drop)
        reindex.files_changed(node, gone)
    return len(gone)


def in_directory(path: str, key: str) -> bool:
    """Whether the file `path` is `key` itself or lies under the directory `key` ("" holds everything)."""
    return not key or path == key or path.startswith(key.rstrip("/") + "/")


def listing(ref: ObjectRef) -> list[tuple[str, ManifestEntry | None]]:
    """What `ref` names, one level deep: (key, entry) for files, (key, None) for directories.

    A key naming a file lists that file; a directory (or the node) lists its files and subdirectories.
    """
    files = blobs.manifest_files(ref.node)
    if ref.key in files:
        return [(ref.key, files[ref.key])]
    prefix = ref.key.rstrip("/") + "/" if ref.key else ""
    items: dict[str, ManifestEntry | None] = {}
    for path, entry in files.items():
        if not path.startswith(prefix):
            continue
        head, _, rest = path[len(prefix) :].partition("/")
        items[prefix + head] = None if rest else entry
    if ref.key and not items:
        raise ObjectNotFound(f"object not found [{ref.path}]")
    return sorted(items.items())


def entry(ref: ObjectRef) -> ManifestEntry:
    try:
        return blobs.file_entry(ref.node, ref.key)
    except errors.NotFound:
        raise ObjectNotFound(f"object not found [{ref.path}]") from None


# --- receiving bytes -------------------------------------------------------------------------------


class _Hashing:
    """A scratch file being written, hashed (SHA-256 and MD5) on the way, capped at EM_MAX_UPLOAD_BYTES."""

    def __init__(self, by: Any) -> None:
        self.path = blobs.scratch_dir("partial", str(by.pk)) / f"t9k-object-{uuid.uuid4().hex}"
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.by = by

    def add(self, stream: Any, length: int) -> None:
        if self.size + length > settings.EM_MAX_UPLOAD_BYTES:
            self.path.unlink(missing_ok=True)
            raise errors.InvalidInput(
                f"An object may hold at most {settings.EM_MAX_UPLOAD_BYTES} bytes (EM_MAX_UPLOAD_BYTES)."
            )
        with self.path.open("ab") as target:
            got = blobs.copy_stream(stream, target, length, (self.sha256, self.md5))
        if got != length:
            self.path.unlink(missing_ok=True)
            raise errors.InvalidInput(f"The object ended after {got} of {length} bytes.")
        self.size += got

    def adopt(self) -> Blob:
        """The bytes written, as a blob of the store (this scratch file is gone afterwards)."""
        self.path.touch()
        return blobs.adopt(
            self.path, sha256=self.sha256.hexdigest(), md5=self.md5.hexdigest(), size=self.size, by=self.by
        )


def receive(stream: Any, length: int, *, by: Any) -> Blob:
    """One object's bytes into the blob store."""
    writing = _Hashing(by)
    writing.add(stream, length)
    return writing.adopt()


class Multipart:
    """A big object sent in parts: `partial/<user id>/t9k-<upload id>/` holds `path` (what it becomes)
    and one file per part. Only its starter can reach it (the folder is under their id); stale ones go
    with the blob store's scratch sweep (em.services.blobs.collect_garbage)."""

    def __init__(self, upload_id: str, *, by: Any) -> None:
        if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
            raise errors.NotFound(f"upload not found [{str(upload_id)[:40]}]")
        self.id = upload_id
        self.by = by
        self.folder = blobs.scratch_dir("partial", str(by.pk)) / f"t9k-{upload_id}"

    @classmethod
    def start(cls, ref: ObjectRef, *, by: Any) -> Multipart:
        if not ref.key:
            raise errors.InvalidInput(f"path {ref.path!r} names a node; add the object's key: <node path>/<key>")
        if ref.access.level < Level.EDIT:
            raise errors.PermissionDenied("permission denied")
        upload = cls(uuid.uuid4().hex, by=by)
        upload.folder.mkdir(parents=True)
        (upload.folder / "path").write_text(json.dumps(ref.path))
        return upload

    def check(self, path: str) -> None:
        """The upload exists and was started for `path`."""
        try:
            started_for = json.loads((self.folder / "path").read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise errors.NotFound(f"upload not found [{self.id}]") from None
        if started_for != path:
            raise errors.InvalidInput(f"upload {self.id} was started for {started_for!r}, not {path!r}")

    def _part(self, number: int) -> Path:
        if not 1 <= number <= MAX_PARTS:
            raise errors.InvalidInput(f"partNumber is a whole number from 1 to {MAX_PARTS}")
        return self.folder / f"part-{number:05d}"

    def put_part(self, number: int, stream: Any, length: int) -> str:
        """Keep part `number` (replacing an earlier send of it); its eTag, the MD5 of its bytes."""
        target = self._part(number)
        md5 = hashlib.md5(usedforsecurity=False)
        scratch = target.with_suffix(".incoming")
        with scratch.open("wb") as out:
            got = blobs.copy_stream(stream, out, length, (md5,))
        if got != length:
            scratch.unlink(missing_ok=True)
            raise errors.InvalidInput(f"part {number} ended after {got} of {length} bytes")
        scratch.replace(target)
        return md5.hexdigest()

    def complete(self, parts: list[tuple[int, str]]) -> Blob:
        """Join the parts named (in partNumber order, each eTag checked) into one blob; the upload is gone."""
        if not parts:
            raise errors.InvalidInput("parts: name at least one {etag, partNumber}")
        writing = _Hashing(self.by)
        for number, etag in sorted(parts):
            part = self._part(number)
            if not part.exists():
                raise errors.InvalidInput(f"part {number} was never sent")
            with part.open("rb") as stream:
                data_md5 = hashlib.md5(usedforsecurity=False)
                blobs.copy_stream(stream, None, part.stat().st_size, (data_md5,))
                if data_md5.hexdigest() != etag.strip('"'):
                    raise errors.InvalidInput(f"part {number}: eTag {etag!r} is not that of the bytes sent")
                stream.seek(0)
                writing.add(stream, part.stat().st_size)
        blob = writing.adopt()
        self.abort()
        return blob

    def abort(self) -> None:
        for item in self.folder.glob("*"):
            item.unlink(missing_ok=True)
        self.folder.rmdir()
