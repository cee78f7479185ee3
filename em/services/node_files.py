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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from em import errors
from em.access import Access, Level, ensure
from em.models import ManifestEntry, Node, StorageType

from . import blobs
from .uploads import manifest_for, validate_files
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

    def add(entries: dict[str, dict[str, Any]]) -> set[str]:
        if any(other.startswith(f"{clean}/") for other in entries) or _is_file_above(clean, entries):
            raise errors.InvalidInput(f"{clean} would be both a file and a folder.", detail={"path": clean})
        entries[clean] = {"path": clean, "sha256": blob.sha256, "size": blob.size, "mtime": None}
        return {clean}

    with transaction.atomic():
        locked, _ = rewrite_files(node=node, by=by, change=add)
    node.manifest = locked.manifest
    return blobs.file_entry(locked, clean)


Entries = dict[str, dict[str, Any]]


def file_entries(node: Node) -> Entries:
    """The node's files as the upload protocol's entries (path → {path, sha256, size, mtime})."""
    return {
        path: {"path": path, "sha256": e.blob_id, "size": e.size, "mtime": e.mtime.isoformat() if e.mtime else None}
        for path, e in blobs.manifest_files(node).items()
    }


def rewrite_files(*, node: Node, by: Any, change: Callable[[Entries], set[str]]) -> tuple[Node, set[str]]:
    """Change the file set of `node` in place: `change` edits its entries and names the paths it changed.

    Run inside the caller's transaction: the node's row is locked and re-read first, so two clients
    adding files at once both land (each sees the other's manifest), and the caller can do more in the
    same transaction (T9k marks a run for re-indexing). When nothing changed no manifest is written.
    The checker has been asked by the caller (EDIT on `node`); a node trashed meanwhile is NotFound.
    """
    locked = Node.objects.select_for_update().filter(pk=node.pk, deleted_at__isnull=True).first()
    if locked is None:
        raise errors.NotFound("Node not found.")
    entries = file_entries(locked)
    changed = change(entries)
    if changed:
        checked = validate_files(list(entries.values()))
        locked.manifest = manifest_for(checked) if checked else None
        locked.editor = by
        locked.save(update_fields=["manifest", "editor", "modified_at"])
    return locked, changed


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
