"""The upload protocol (docs/runs-api.md "Blob store and uploads"): announce, send what is missing, commit.

`start_upload` checks everything it can before a byte is sent — where, under what name, the manifest's
paths and sizes, the lineage references — records an `Upload` session and answers which blobs the
server lacks (none, when the same files were uploaded before). `commit_upload` turns the session into a
node with its manifest in one transaction, then has the run indexed once that transaction is durable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils.dateparse import parse_datetime

from em import access, errors
from em.access import Level
from em.models import (
    STORAGE_TYPE_OF_KIND,
    IndexState,
    Kind,
    LineageEdge,
    Manifest,
    ManifestEntry,
    Node,
    Run,
    StorageType,
    Upload,
)
from em.services.lineage import edges as lineage_edges

from . import blobs, lookup, paths
from .identity import bundle_identity, same_bundle
from .nodes import create_node
from .trash import free_name, trash_node
from .validation import InvalidPath, check_text, json_object, validate_name, validate_path

MAX_METADATA_BYTES = 256 * 1024
MAX_LINEAGE_REFS = 1000
# Sent inside the commit's transaction, with `node`, once an upload has become a node with its files.
# What happens next belongs to the layers above (em.tasks has runs indexed), which this module must not import.
node_committed = Signal()

UPLOAD_KINDS = sorted(kind for kind, storage in STORAGE_TYPE_OF_KIND.items() if storage == StorageType.FILES)


class BlobsMissing(errors.Conflict):
    code = "blobs_missing"


@dataclass(frozen=True)
class Started:
    """A new session and the digests to send — or, with `skip`, the node that is already there."""

    upload: Upload | None
    missing: list[str]
    skipped: Node | None = None
    # digest → size of each missing blob: what a presigned transfer is planned by (em.services.transfers)
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Committed:
    node: Node
    created: bool  # False when the session was committed before, or `skip` found the name taken
    skipped: bool = False


def _mtime(value: Any, path: str) -> str | None:
    """An entry's mtime as canonical UTC ISO text (or None), so equal manifests digest equally.

    A time that is valid where it was written but outside years 1-9999 in UTC (`9999-12-31T23:59:59-23:59`)
    has no UTC form: it is refused, like text that is no date at all.
    """
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        pass
    raise errors.InvalidInput(
        f"{path}: mtime must be an ISO 8601 date-time in the years 1-9999 (UTC), or null.", detail={"path": path}
    )


def validate_files(files: Any) -> list[dict[str, Any]]:
    """The announced files as `[{path, size, sha256, mtime}]`, or a clear error about the first bad one."""
    if not isinstance(files, list):
        raise errors.InvalidInput("`files` must be a list of {path, size, sha256, mtime}.")
    cap_files, cap_bytes = settings.EM_MAX_FILES_PER_UPLOAD, settings.EM_MAX_UPLOAD_BYTES
    if len(files) > cap_files:
        raise errors.InvalidInput(f"An upload may hold at most {cap_files} files; this one lists {len(files)}.")
    out: list[dict[str, Any]] = []
    size_of: dict[str, int] = {}
    folders: set[str] = set()
    total = 0
    for i, item in enumerate(files):
        if not isinstance(item, dict):
            raise errors.InvalidInput(f"files[{i}] must be an object with path, size, sha256 and mtime.")
        path = validate_path(item.get("path"))
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise errors.InvalidInput(f"{path}: size must be a whole number of bytes.", detail={"path": path})
        try:
            sha256 = blobs.check_digest(item.get("sha256"))
        except errors.InvalidInput as exc:
            raise errors.InvalidInput(f"{path}: {exc.message}", detail={"path": path}) from exc
        if size_of.setdefault(sha256, size) != size:
            raise errors.InvalidInput(f"{path}: the same sha256 is announced with two sizes.", detail={"path": path})
        total += size
        folders.update(path[:cut] for cut, ch in enumerate(path) if ch == "/")
        out.append({"path": path, "size": size, "sha256": sha256, "mtime": _mtime(item.get("mtime"), path)})
    if total > cap_bytes:
        raise errors.InvalidInput(
            f"An upload may hold at most {cap_bytes} bytes (EM_MAX_UPLOAD_BYTES); this has {total}."
        )
    seen: set[str] = set()
    for entry in out:
        path = entry["path"]
        if path in seen or path in folders:
            why = "is listed twice" if path in seen else "is both a file and a folder"
            raise InvalidPath(f"{path} {why}.", detail={"path": path})
        seen.add(path)
    return out


def _metadata(metadata: Any) -> dict[str, Any]:
    return {} if metadata is None else json_object(metadata, "`metadata`", MAX_METADATA_BYTES)


def _lineage(lineage: Any) -> dict[str, list[str]]:
    if lineage is None:
        return {}
    if (
        not isinstance(lineage, dict)
        or not set(lineage) <= {"input", "output"}
        or not all(values is None or isinstance(values, list) for values in lineage.values())
    ):
        raise errors.InvalidInput('`lineage` must be {"input": [refs], "output": [refs]}.')
    if any(not isinstance(r, str) for values in lineage.values() for r in values or []):
        raise errors.InvalidInput("Lineage references are node ids or paths (`/alice/x`, `/alice/m:v1`).")
    refs = {direction: list(dict.fromkeys(values or [])) for direction, values in lineage.items()}
    if sum(map(len, refs.values())) > MAX_LINEAGE_REFS:
        raise errors.InvalidInput(f"An upload may name at most {MAX_LINEAGE_REFS} lineage references.")
    for values in refs.values():
        for ref in values:
            check_text(ref, "A lineage reference")
    return refs


def resolve_lineage(user: Any, lineage: dict[str, list[str]]) -> list[lineage_edges.Planned]:
    """What each reference names, checked as every lineage edge is (em.services.lineage.edges): 400 naming the
    first that names nothing the user can see, no real version, or no run, artifact or version."""
    return lineage_edges.resolve(access.Checker(user), lineage)


@dataclass(frozen=True)
class Where:
    """The folder an upload goes into, as a request names it: by id, or by path (made if asked)."""

    parent: UUID | None = None
    path: str | None = None
    make_folder: bool = False


def resolve_parent(user: Any, where: Node | Where) -> Node:
    """The folder to upload into, which `user` must be able to edit; missing folders are made on request
    (in the caller's transaction)."""
    checker = access.Checker(user)
    if isinstance(where, Node):
        return checker.check(where, Level.EDIT).node
    ref = where.parent if where.parent is not None else (where.path or "")
    # Only the owner comes along: the new child names it, and nothing else of the folder is presented.
    return lookup.locate(checker, ref, need=Level.EDIT, make=where.make_folder, related=("owner",)).node


def _live_child(parent: Node, name: str) -> Node | None:
    return Node.objects.live().filter(parent=parent, name=name).select_related("owner", "created_by", "editor").first()


def _check_sizes(entries: list[dict[str, Any]], stored: dict[str, int]) -> None:
    for entry in entries:
        if entry["sha256"] in stored and stored[entry["sha256"]] != entry["size"]:
            raise errors.InvalidInput(
                f"{entry['path']} is announced as {entry['size']} bytes, but its sha256 names "
                f"{stored[entry['sha256']]} bytes.",
                detail={"path": entry["path"]},
            )


def check_target(
    *, by: Any, parent: Node, name: str, kind: str, conflict_strategy: str, identity: str = ""
) -> Node | None:
    """Refuse an upload that cannot land: wrong kind or strategy, no edit right, or (`error`) a taken name.

    Returns the node there is no need to send again: the one an earlier upload of the same bundle
    (`identity`) made, whatever the strategy but `replace`; or, with `skip`, the node bearing the name
    when it is no other bundle's.
    """
    access.check(by, parent, Level.EDIT)
    if kind not in UPLOAD_KINDS:
        raise errors.InvalidInput(f"Upload a {' or '.join(UPLOAD_KINDS)}, not {kind!r}.")
    if conflict_strategy not in Upload.Conflict.values:
        raise errors.InvalidInput(f"conflict_strategy is one of {', '.join(Upload.Conflict.values)}.")
    same = same_bundle(parent, identity)
    if same is not None and conflict_strategy != Upload.Conflict.REPLACE:
        return same
    existing = _live_child(parent, validate_name(name))
    if existing is not None and conflict_strategy == Upload.Conflict.SKIP and not identity:
        return existing
    if existing is not None and conflict_strategy == Upload.Conflict.ERROR:
        raise errors.NameClash(f"{paths.display_path(parent)}/{name} already exists.", detail={"name": name})
    return None


def start_upload(
    *,
    by: Any,
    kind: str,
    parent: Node | Where,
    name: str,
    files: Any,
    conflict_strategy: str = Upload.Conflict.ERROR,
    metadata: Any = None,
    lineage: Any = None,
) -> Started:
    """Check an announced upload and open its session; nothing is written when anything is wrong
    (folders `make_folder` would create included)."""
    name = validate_name(name)
    clean_metadata, clean_lineage = _metadata(metadata), _lineage(lineage)
    entries = validate_files(files)
    resolve_lineage(by, clean_lineage)
    with transaction.atomic():
        folder = resolve_parent(by, parent)
        identity = bundle_identity(clean_metadata)
        skip_to = check_target(
            by=by, parent=folder, name=name, kind=kind, conflict_strategy=conflict_strategy, identity=identity
        )
        if skip_to is not None:
            return Started(None, [], skip_to)
        if identity and conflict_strategy == Upload.Conflict.SKIP:  # the name is another bundle's: keep both
            conflict_strategy = Upload.Conflict.NEW
        stored = blobs.owned_sizes(by, [e["sha256"] for e in entries])
        _check_sizes(entries, stored)
        upload = Upload.objects.create(
            user=by,
            kind=kind,
            parent=folder,
            name=name,
            conflict_strategy=conflict_strategy,
            metadata=clean_metadata,
            lineage=clean_lineage,
            files=entries,
        )
    sizes = {e["sha256"]: e["size"] for e in entries if e["sha256"] not in stored}
    return Started(upload, list(sizes), sizes=sizes)


def manifest_for(entries: list[dict[str, Any]]) -> Manifest:
    """The manifest holding exactly `entries`: an existing identical one, or a new one."""
    ordered = sorted(entries, key=lambda e: e["path"])
    canonical = json.dumps(
        [[e["path"], e["sha256"], e["size"], e["mtime"]] for e in ordered], separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    existing = Manifest.objects.filter(digest=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            manifest = Manifest.objects.create(
                digest=digest, file_count=len(ordered), total_size=sum(e["size"] for e in ordered)
            )
            _insert_entries(manifest.pk, ordered)
    except IntegrityError:  # made meanwhile by an identical commit
        return Manifest.objects.get(digest=digest)
    return manifest


_ENTRY_COLUMNS = ("manifest_id", "path", "blob_id", "size", "mtime")
_ENTRY_BATCH = 2000


def _insert_entries(manifest_id: int, ordered: list[dict[str, Any]]) -> None:
    """Insert a manifest's rows as plain values: COPY on PostgreSQL, batched executemany elsewhere.

    A version of 10,000 files is 10,000 rows; building a model instance per row (and having Django
    convert each field) cost most of a commit's time budget. The values are the validated entries'
    (mtime is canonical UTC ISO text), so the rows are those `bulk_create` would write.
    """
    table = connection.ops.quote_name(ManifestEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for e in ordered:
                    copy.write_row((manifest_id, e["path"], e["sha256"], e["size"], e["mtime"]))
            return
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            (
                manifest_id,
                e["path"],
                e["sha256"],
                e["size"],
                adapt(datetime.fromisoformat(e["mtime"])) if e["mtime"] else None,
            )
            for e in ordered
        ]
        marks = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
        for i in range(0, len(rows), _ENTRY_BATCH):
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows[i : i + _ENTRY_BATCH])  # noqa: S608 - names from the model


def commit_upload(*, upload_id: UUID | str, by: Any) -> Committed:
    """Create the node of an upload session: manifest, node, run row, lineage, in one transaction.

    Refused while blobs are missing (BlobsMissing names up to ten). Committing again returns the node
    made the first time.
    """
    upload = Upload.objects.filter(pk=upload_id, user_id=by.pk).select_related("parent", "node").first()
    if upload is None:
        raise errors.NotFound("No such upload.")
    if upload.state == Upload.State.COMMITTED:
        return _already_committed(upload)
    entries: list[dict[str, Any]] = upload.files
    stored = blobs.owned_sizes(by, [e["sha256"] for e in entries])
    absent = [d for d in dict.fromkeys(e["sha256"] for e in entries) if d not in stored]
    if absent:
        more = f" and {len(absent) - 10} more" if len(absent) > 10 else ""
        raise BlobsMissing(
            f"{len(absent)} file(s) have not been sent yet: {', '.join(absent[:10])}{more}.",
            detail={"missing": absent[:10], "count": len(absent)},
        )
    _check_sizes(entries, stored)
    with transaction.atomic():
        upload = Upload.objects.select_for_update(of=("self",)).select_related("parent", "node").get(pk=upload.pk)
        if upload.state == Upload.State.COMMITTED:  # a concurrent commit got there first
            return _already_committed(upload)
        parent, name = upload.parent, upload.name
        edges = resolve_lineage(by, upload.lineage)
        identity = bundle_identity(upload.metadata)
        if upload.conflict_strategy == Upload.Conflict.REPLACE:  # the same bundle's node, whatever its name
            earlier = same_bundle(parent, identity)
            if earlier is not None:
                trash_node(node=earlier, by=by)
        existing = _live_child(parent, name)
        if existing is not None:
            if upload.conflict_strategy == Upload.Conflict.REPLACE and identity and existing.bundle_id != identity:
                name = free_name(parent, name)  # another bundle's node: never replaced for its name
            elif upload.conflict_strategy == Upload.Conflict.SKIP:
                _mark_committed(upload, existing)
                return Committed(existing, created=False, skipped=True)
            elif upload.conflict_strategy == Upload.Conflict.ERROR:
                raise errors.NameClash(f"{paths.display_path(parent)}/{name} already exists.", detail={"name": name})
            elif upload.conflict_strategy == Upload.Conflict.NEW:
                name = free_name(parent, name)
            else:
                trash_node(node=existing, by=by)
        node = create_node(
            parent=parent,
            name=name,
            kind=upload.kind,
            by=by,
            labels=upload.metadata.get("labels"),  # YAML writes an empty list as null: create_node takes both
            description=upload.metadata.get("description") or "",
        )
        node.manifest = manifest_for(entries)
        node.bundle_id = identity
        node.save(update_fields=["manifest", "bundle_id"])
        LineageEdge.objects.bulk_create(lineage_edges.edge_rows(node, edges), ignore_conflicts=True)
        if node.kind == Kind.RUN:
            Run.objects.create(node=node, index_state=IndexState.PENDING)
        node_committed.send(sender=Node, node=node)
        _mark_committed(upload, node)
    return Committed(node, created=True)


def _already_committed(upload: Upload) -> Committed:
    if upload.node is None or upload.node.deleted_at is not None:
        raise errors.NotFound("This upload was committed, and its node has been deleted since.")
    node_committed.send(sender=Node, node=upload.node)  # a run still pending is enqueued again
    return Committed(upload.node, created=False)


def _mark_committed(upload: Upload, node: Node) -> None:
    upload.state, upload.node = Upload.State.COMMITTED, node
    upload.save(update_fields=["state", "node"])
