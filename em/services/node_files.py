"""Adding one file at a time to a node's files, and listing them as folders, for clients that send files
one by one as they make them (MLflow's artifact proxy) rather than as a whole upload.

The bytes go into the one blob store (`em.services.blobs.receive`: hashed, verified, owned by the sender,
stored once); the node then gets a new immutable manifest holding its old entries plus the new one
(`em.services.uploads.manifest_for`), swapped in with the node's row locked so that two files sent at
once both land. Nothing here stores bytes or manifests another way.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from em import errors
from em.access import Access, Level, ensure
from em.models import ManifestEntry, Node, StorageType

from . import blobs
from .uploads import manifest_for
from .validation import validate_path


@dataclass(frozen=True)
class Listed:
    """One entry of a folder listing: a file (with its size) or a folder below the one listed."""

    path: str
    is_dir: bool
    size: int | None


def put_file(*, node: Node | Access, path: str, stream: blobs.Readable, length: int, by: Any) -> ManifestEntry:
    """Store `length` bytes from `stream` as the file `path` of `node` (replacing a file of that path).

    The body is spooled to the scratch directory while it is hashed, since the blob store is addressed
    by a digest the sender did not give, then received as any blob is.
    """
    node = ensure(by, node, Level.EDIT).node
    if node.storage_type != StorageType.FILES:
        raise errors.InvalidInput(f"A {node.kind} holds no files of its own.")
    clean = validate_path(path)
    if length > settings.EM_MAX_UPLOAD_BYTES:
        raise errors.InvalidInput(f"A file is at most {settings.EM_MAX_UPLOAD_BYTES} bytes (EM_MAX_UPLOAD_BYTES).")
    with tempfile.TemporaryFile(dir=blobs.scratch_dir("spool")) as spool:
        digest = hashlib.sha256()
        received = blobs.copy_stream(stream, spool, length, (digest,))
        if received < length:
            raise errors.InvalidInput(f"The body ended after {received} of {length} bytes; send the file again.")
        spool.seek(0)
        blob = blobs.receive(digest.hexdigest(), spool, by=by, length=length).blob
    if blob is None:  # receive got every byte, so it stored or found the blob
        raise errors.InvalidInput("The file could not be stored; send it again.")
    with transaction.atomic():
        locked = Node.objects.select_for_update().get(pk=node.pk)
        if locked.deleted_at is not None:
            raise errors.NotFound("Node not found.")
        entries = {
            path: {"path": path, "sha256": e.blob_id, "size": e.size, "mtime": e.mtime.isoformat() if e.mtime else None}
            for path, e in blobs.manifest_files(locked).items()
        }
        if any(other.startswith(f"{clean}/") for other in entries) or _is_file_above(clean, entries):
            raise errors.InvalidInput(f"{clean} would be both a file and a folder.", detail={"path": clean})
        entries[clean] = {"path": clean, "sha256": blob.sha256, "size": blob.size, "mtime": None}
        locked.manifest = manifest_for(list(entries.values()))
        locked.editor = by
        locked.save(update_fields=["manifest", "editor", "modified_at"])
    node.manifest = locked.manifest
    return blobs.file_entry(locked, clean)


def _is_file_above(path: str, entries: dict[str, Any]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:cut]) in entries for cut in range(1, len(parts)))


def list_folder(node: Node, folder: str = "") -> list[Listed]:
    """The files and folders directly inside `folder` ("" for the top) of `node`'s files, in path order.

    Unchecked: the caller has checked that the node may be viewed. A folder shows no size.
    """
    prefix = f"{validate_path(folder)}/" if folder else ""
    found: dict[str, Listed] = {}
    for path, entry in blobs.manifest_files(node).items():
        if not path.startswith(prefix):
            continue
        head, _, rest = path[len(prefix) :].partition("/")
        shown = f"{prefix}{head}"
        found.setdefault(shown, Listed(shown, True, None) if rest else Listed(shown, False, entry.size))
    return list(found.values())
