"""The content-addressed blob store (ARCHITECTURE.md "Files, artifacts and the Asset Hub").

Bytes live in Django's default storage (local disk in the embedded default, S3 in production) under
`blobs/<sha[:2]>/<sha[2:4]>/<sha>`; the `Blob` row is what says they are there and complete. A blob is
received into a per-digest partial file in the scratch directory, hashed (SHA-256 and MD5) on the way,
checked against its digest and only then moved into storage — so storage never holds unverified bytes.
The partial file is what makes uploads resumable: a client that lost its connection asks how much
arrived (`partial_offset`) and sends the rest with `Content-Range`. One lock per digest (`flock` on a lock
file beside the partial one) serialises concurrent senders of the same bytes; a race between two machines to create
the same row is settled by taking the winner, as Sentry's `FileBlob` does.

Knowing a digest grants nothing (docs/runs-api.md "Who owns a blob"). A blob is *owned* by each user who
sent its bytes (`BlobOwner`); to anyone else it is missing, so they must send the bytes once — received
into a partial file of their own, verified against the digest, then dropped in favour of the copy that is
stored already (one copy in storage however many owners). Partial files are per user and digest, so no
one can complete another user's upload by sending its last bytes. Node permissions are checked above
this layer: a blob's bytes are read only through a manifest on a node the caller may view.
`collect_garbage` frees what no node references any more.

With an S3 store a client may instead send a blob's bytes straight to the bucket (`em.services.transfers`);
they are verified there and recorded by the same `settle` as bytes received here.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from em import errors
from em.models import Blob, BlobOwner, Manifest, ManifestEntry, Node, Upload

from . import s3

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Blobs and manifests younger than this are never collected: they may belong to an upload in flight.
GC_GRACE = timedelta(hours=24)
UPLOAD_SESSION_TTL = timedelta(days=7)
_GC_BATCH = 500


class DigestMismatch(errors.InvalidInput):
    code = "digest_mismatch"


class OffsetMismatch(errors.Conflict):
    code = "offset_mismatch"


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class Received:
    """What a PUT left behind: the blob once complete, else how many bytes are held so far."""

    blob: Blob | None
    offset: int
    created: bool = False  # this request completed the blob (else it was stored already, or is partial)


def check_digest(sha256: Any) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise errors.InvalidInput(f"{str(sha256)[:80]!r} is not a SHA-256 digest (64 lowercase hex digits).")
    return sha256


def storage_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def scratch_dir(*parts: str) -> Path:
    """A directory under EM_UPLOAD_SCRATCH_DIR, made on first use."""
    path = Path(settings.EM_UPLOAD_SCRATCH_DIR).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _partial_path(sha256: str, by: Any) -> Path:
    return scratch_dir("partial", str(by.pk)) / sha256


def partial_offset(sha256: str, *, by: Any) -> int:
    """How many bytes of `sha256` `by` has sent so far (0 when none or when their blob is complete)."""
    try:
        return _partial_path(check_digest(sha256), by).stat().st_size
    except FileNotFoundError:
        return 0


def owns(by: Any, sha256: str) -> bool:
    return BlobOwner.objects.filter(user_id=by.pk, blob_id=sha256).exists()


def _own(by: Any, blob: Blob) -> None:
    BlobOwner.objects.get_or_create(user_id=by.pk, blob=blob)


@contextmanager
def _locked_partial(sha256: str, by: Any) -> Iterator[BinaryIO]:
    """The partial file of `sha256`, opened read-write, while holding the digest's lock.

    The lock is taken on a file of its own beside the partial one: the partial file is moved into storage
    by whoever completes it, so a lock on it would vanish with it, and a second sender would start a new
    file (and a second stored copy) before the first had recorded its blob.
    """
    path = _partial_path(sha256, by)
    with path.with_name(path.name + ".lock").open("a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as handle:
            yield handle


def check_cap(total: int) -> None:
    cap = settings.EM_MAX_UPLOAD_BYTES
    if total > cap:
        raise errors.InvalidInput(f"A file may hold at most {cap} bytes (EM_MAX_UPLOAD_BYTES); this has {total}.")


def receive(
    sha256: str, stream: Readable, *, by: Any, length: int, start: int = 0, total: int | None = None
) -> Received:
    """Take `length` bytes from `stream`, sent by `by`, as bytes `start`… of the blob `sha256`, `total` in all.

    Idempotent: a blob `by` owns already answers at once without reading anything. A blob stored for
    others only must still be sent whole: once its bytes check out, `by` owns it too and the stored copy
    serves both. A part must start where the previous one ended (or at 0, which starts over). When the
    last byte arrives the whole is checked against the digest: a mismatch discards it (DigestMismatch)
    and nothing is stored or owned.
    """
    check_digest(sha256)
    total = length if total is None else total
    if start < 0 or length < 0 or start + length > total:
        raise errors.InvalidInput(f"Bytes {start}…{start + length} do not fit in a file of {total} bytes.")
    check_cap(total)
    existing = Blob.objects.filter(pk=sha256, owners__user_id=by.pk).first()
    if existing is not None:
        return Received(existing, existing.size)
    with _locked_partial(sha256, by) as partial:
        existing = Blob.objects.filter(pk=sha256, owners__user_id=by.pk).first()
        if existing is not None:  # finished by this user's request that held the lock before us
            _partial_path(sha256, by).unlink(missing_ok=True)
            return Received(existing, existing.size)
        held = os.fstat(partial.fileno()).st_size
        if start not in (0, held):
            raise OffsetMismatch(
                f"This part starts at byte {start}, but {held} bytes have arrived: send from byte {held}.",
                detail={"offset": held},
            )
        partial.seek(start)
        partial.truncate(start)
        hashes = (hashlib.sha256(), hashlib.md5(usedforsecurity=False)) if start == 0 else None
        received = copy_stream(stream, partial, length, hashes)
        partial.flush()
        offset = start + received
        if received < length:
            raise errors.InvalidInput(
                f"The body ended after {received} of {length} bytes; {offset} bytes are kept, resume from there.",
                detail={"offset": offset},
            )
        if offset < total:
            return Received(None, offset)
        if hashes is None:
            partial.seek(0)
            hashes = (hashlib.sha256(), hashlib.md5(usedforsecurity=False))
            copy_stream(partial, None, total, hashes)
        if hashes[0].hexdigest() != sha256:
            _partial_path(sha256, by).unlink(missing_ok=True)
            raise DigestMismatch(
                f"The bytes received hash to {hashes[0].hexdigest()}, not {sha256}; nothing was stored.",
                detail={"expected": sha256, "actual": hashes[0].hexdigest()},
            )
        blob = adopt(_partial_path(sha256, by), sha256=sha256, md5=hashes[1].hexdigest(), size=total, by=by)
        return Received(blob, total, created=True)


def copy_stream(source: Readable, target: IO[bytes] | None, length: int, hashes: tuple[Any, ...] | None) -> int:
    """Copy up to `length` bytes in chunks (never all at once), feeding `hashes`; returns how many came."""
    done = 0
    while done < length:
        chunk = source.read(min(CHUNK_SIZE, length - done))
        if not chunk:
            break
        if target is not None:
            target.write(chunk)
        for h in hashes or ():
            h.update(chunk)
        done += len(chunk)
    return done


class _ScratchFile(File):
    """A finished scratch file: FileSystemStorage moves it into place (a rename) instead of copying."""

    def __init__(self, handle: IO[bytes], path: Path) -> None:
        super().__init__(handle, path.name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def adopt(path: Path, *, sha256: str, md5: str, size: int, by: Any) -> Blob:
    """Move a verified scratch file into storage, record it, and make `by` (who sent it) an owner; the
    file at `path` is gone afterwards."""

    def store(name: str) -> str:
        with path.open("rb") as handle:
            return default_storage.save(name, _ScratchFile(handle, path))

    return settle(sha256=sha256, md5=md5, size=size, by=by, store=store, drop=lambda: path.unlink(missing_ok=True))


def settle(*, sha256: str, md5: str, size: int, by: Any, store: Callable[[str], str], drop: Callable[[], None]) -> Blob:
    """Record verified bytes as the blob `sha256`, owned by `by`, whichever way they arrived.

    `store(name)` puts the bytes into storage under `name` (or a free name beside it) and answers the name
    used; `drop()` discards the verified copy once it is stored or not needed. A blob stored already (for
    other owners) is not stored twice. Never overwrites: if storage already holds a file of that name (left
    by a crash, or by a collection still in progress) ours is saved beside it, and the row names where it
    went. When another process created the row first, its blob wins and our copy is deleted.
    """
    stored = Blob.objects.filter(pk=sha256).first()
    if stored is None:
        saved = store(storage_name(sha256))
        stored, created = Blob.objects.get_or_create(
            sha256=sha256, defaults={"md5": md5, "size": size, "storage_name": saved}
        )
        if not created and stored.storage_name != saved:
            default_storage.delete(saved)
    drop()
    _own(by, stored)
    return stored


def owned_sizes(by: Any, digests: list[str]) -> dict[str, int]:
    """digest → size of each of `digests` that `by` owns (has sent); the others are missing to them, stored
    or not. One query per batch (SQLite caps parameters)."""
    wanted = list(dict.fromkeys(digests))
    batch = 900 if connection.vendor == "sqlite" else 10_000
    sizes: dict[str, int] = {}
    for i in range(0, len(wanted), batch):
        owned = BlobOwner.objects.filter(user_id=by.pk, blob_id__in=wanted[i : i + batch])
        sizes.update(owned.values_list("blob_id", "blob__size"))
    return sizes


def open_blob(sha256: str) -> IO[bytes]:
    """The stored bytes of a blob, for reading (the indexer's and the download's way in)."""
    name = Blob.objects.filter(pk=sha256).values_list("storage_name", flat=True).first()
    if name is None:
        raise errors.NotFound(f"No blob {sha256}.")
    return cast(BinaryIO, default_storage.open(name, "rb"))


def manifest_files(node: Node) -> dict[str, ManifestEntry]:
    """The files a node holds, path → entry (with its blob loaded), in path order; one query."""
    if node.manifest_id is None:
        return {}
    entries = ManifestEntry.objects.filter(manifest_id=node.manifest_id).select_related("blob").order_by("path")
    return {entry.path: entry for entry in entries}


def file_entry(node: Node, path: str) -> ManifestEntry:
    """One file of a node (with its blob), by path, in whichever Unicode form the caller spelt it (paths are
    stored NFC; older ones as sent); one indexed query."""
    spellings = {path, unicodedata.normalize("NFC", path)}
    entry = (
        ManifestEntry.objects.filter(manifest_id=node.manifest_id, path__in=spellings).select_related("blob").first()
        if node.manifest_id is not None
        else None
    )
    if entry is None:
        raise errors.NotFound(f"{path[:200]!r} is not among this node's files.")
    return entry


def _manifest_references() -> list[Any]:
    """Every relation that keeps a manifest alive: nodes, and whatever later points at manifests."""
    return [
        rel
        for rel in Manifest._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and rel.related_model is not ManifestEntry
    ]


def collect_garbage(*, grace: timedelta = GC_GRACE, now: datetime | None = None) -> dict[str, int]:
    """Free what nothing references: old upload sessions, manifests no node holds, then blobs no
    manifest holds (their stored bytes too), stale partial files, and (S3) unfinished direct transfers.
    Idempotent, safe beside uploads: nothing younger than `grace` goes, and a batch that a commit
    references meanwhile is left alone.
    """
    now = now or timezone.now()
    cutoff = now - grace
    uploads, _ = Upload.objects.filter(created_at__lt=now - UPLOAD_SESSION_TTL).delete()
    manifests = Manifest.objects.filter(created_at__lt=cutoff)
    for rel in _manifest_references():
        referencing = rel.related_model._base_manager.filter(**{f"{rel.field.name}__isnull": False})
        manifests = manifests.exclude(pk__in=referencing.values(rel.field.name))
    freed_manifests = _delete_in_batches(manifests, Manifest)
    blobs = Blob.objects.filter(created_at__lt=cutoff).exclude(pk__in=ManifestEntry.objects.values("blob_id"))
    freed_blobs = _delete_in_batches(blobs, Blob, on_deleted=_delete_stored)
    freed = {"uploads": uploads, "manifests": freed_manifests, "blobs": freed_blobs, "partials": _sweep_scratch(cutoff)}
    if s3.enabled():  # unfinished presigned transfers: multipart uploads and unverified objects
        freed["incoming"] = s3.sweep_incoming(cutoff)
    return freed


def _delete_in_batches(candidates: Any, model: Any, on_deleted: Any = None) -> int:
    """Delete `candidates` a batch at a time, each batch re-selected inside its own transaction.

    A commit that starts using a candidate meanwhile makes its batch fail (Django's PROTECT check, or
    the deferred foreign key on PostgreSQL): that batch is skipped, the rest goes on. `on_deleted` gets
    the storage names of a batch once its rows are gone for good.
    """
    freed = 0
    last: Any = None
    while True:
        page = candidates if last is None else candidates.filter(pk__gt=last)
        batch = list(page.order_by("pk").values_list("pk", flat=True)[:_GC_BATCH])
        if not batch:
            return freed
        last = batch[-1]
        try:
            with transaction.atomic():
                rows = list(candidates.filter(pk__in=batch).values_list("pk", "storage_name" if on_deleted else "pk"))
                _, counts = model.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        except (IntegrityError, ProtectedError):
            log.info("garbage collection left a batch of %s that came into use", model.__name__)
            continue
        freed += counts.get(model._meta.label, 0)
        if on_deleted:
            on_deleted([name for _, name in rows])


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _sweep_scratch(cutoff: datetime) -> int:
    """Remove partial files (`partial/<user id>/<sha256>`, with their lock files) and archive scratch
    directories untouched since `cutoff`; the count is of partial files and directories."""
    swept = 0
    root = Path(settings.EM_UPLOAD_SCRATCH_DIR)
    if not root.is_dir():
        return 0
    for entry in [*root.glob("partial/*/*"), *root.glob("archive-*")]:
        if datetime.fromtimestamp(entry.stat().st_mtime, tz=UTC) >= cutoff:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        swept += entry.suffix != ".lock"
    return swept
