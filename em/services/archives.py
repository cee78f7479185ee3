"""Archives in and out: safe extraction of uploaded `.tar`/`.tar.gz`/`.zip`, streamed zips of a node.

An uploaded archive is hostile until proven otherwise. Members are checked before their bytes are
read — no absolute paths, no `..`, no links, devices or pipes, no duplicates, no more files or declared
bytes than the caps allow — and while they are read: a member may not yield more bytes than it declared
(the zip-bomb lie), and the total is capped again on what actually came out. Members are extracted into
a private scratch directory, hashed on the way; only when the whole archive has passed are the blobs
moved into storage and the node committed, so a refused archive creates nothing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from em import errors
from em.models import ManifestEntry, Node, Upload

from . import blobs, uploads
from .validation import validate_path

_ZIP64_LIMIT = 0x7FFFFFFF
_DRIVE = re.compile(r"^[A-Za-z]:[/\\]")


class UnsafeArchive(errors.InvalidInput):
    code = "unsafe_archive"


@dataclass(frozen=True)
class Member:
    """One regular file taken out of an archive, waiting in scratch space."""

    path: str
    size: int
    sha256: str
    md5: str
    mtime: datetime | None
    scratch: Path


def _refuse(member: str, why: str) -> UnsafeArchive:
    shown = member[:200]
    return UnsafeArchive(f"Archive member {shown!r} {why}; nothing was created.", detail={"member": shown})


class _Budget:
    """Counts files and bytes across an archive and refuses what the caps do not allow."""

    def __init__(self) -> None:
        self.files = 0
        self.declared = 0
        self.seen: set[str] = set()

    def admit(self, raw_name: str, size: int) -> str:
        name = raw_name.removeprefix("./")
        if name.startswith("/") or _DRIVE.match(name):
            raise _refuse(raw_name, "has an absolute path")
        if ".." in name.replace("\\", "/").split("/"):
            raise _refuse(raw_name, "climbs out of the archive with '..'")
        try:
            path = validate_path(name)
        except errors.InvalidInput as exc:
            raise _refuse(raw_name, f"has a path that is not allowed ({exc.message})") from exc
        if path in self.seen:
            raise _refuse(raw_name, "appears twice")
        self.seen.add(path)
        self.files += 1
        if self.files > settings.EM_MAX_FILES_PER_UPLOAD:
            raise _refuse(raw_name, f"is past the limit of {settings.EM_MAX_FILES_PER_UPLOAD} files per upload")
        self.declared += size
        if self.declared > settings.EM_MAX_UPLOAD_BYTES:
            raise _refuse(raw_name, f"takes the archive past {settings.EM_MAX_UPLOAD_BYTES} bytes")
        return path


def _take(source: IO[bytes], member: str, declared: int, into: Path, number: int) -> tuple[Path, str, str]:
    """Copy one member to scratch, hashing it; more bytes than declared is a lie and refused."""
    target = into / f"{number:07d}"
    hashes = (hashlib.sha256(), hashlib.md5(usedforsecurity=False))
    with target.open("wb") as out:
        got = blobs.copy_stream(source, out, declared + 1, hashes)
    if got != declared:
        raise _refuse(member, f"holds {'more' if got > declared else 'fewer'} bytes than the {declared} it declares")
    return target, hashes[0].hexdigest(), hashes[1].hexdigest()


def _extract_tar(body: Path, into: Path) -> list[Member]:
    budget = _Budget()
    members: list[Member] = []
    with tarfile.open(body, mode="r|*") as tar:  # one streaming pass, also through gzip
        for info in tar:
            if info.isdir():
                continue
            if info.issym() or info.islnk():
                raise _refuse(info.name, "is a link (links are not allowed)")
            if info.ischr() or info.isblk() or info.isfifo() or not info.isreg():
                raise _refuse(info.name, "is a device, pipe or other special file")
            path = budget.admit(info.name, info.size)
            source = tar.extractfile(info)
            if source is None:
                raise _refuse(info.name, "cannot be read")
            scratch, sha256, md5 = _take(source, info.name, info.size, into, len(members))
            members.append(Member(path, info.size, sha256, md5, _from_timestamp(info.mtime), scratch))
    return members


def _from_timestamp(value: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _extract_zip(body: Path, into: Path) -> list[Member]:
    budget = _Budget()
    members: list[Member] = []
    with zipfile.ZipFile(body) as archive:
        admitted = []
        for info in archive.infolist():  # every header passes before any byte is extracted
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse(info.filename, "is a link (links are not allowed)")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise _refuse(info.filename, "is a device, pipe or other special file")
            if info.flag_bits & 0x1:
                raise _refuse(info.filename, "is encrypted")
            admitted.append((budget.admit(info.filename, info.file_size), info))
        for path, info in admitted:
            try:
                with archive.open(info) as source:
                    scratch, sha256, md5 = _take(source, info.filename, info.file_size, into, len(members))
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise _refuse(info.filename, f"does not match its declared size or checksum ({exc})") from exc
            mtime = datetime(*info.date_time, tzinfo=UTC) if info.date_time[0] >= 1980 else None
            members.append(Member(path, info.file_size, sha256, md5, mtime, scratch))
    return members


def extract(body: Path, into: Path) -> list[Member]:
    """The regular files of the archive at `body` (tar, tar.gz or zip), extracted and hashed into `into`."""
    with body.open("rb") as handle:
        magic = handle.read(4)
    try:
        if magic[:2] == b"PK":
            return _extract_zip(body, into)
        return _extract_tar(body, into)
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise UnsafeArchive(f"Not a readable .tar, .tar.gz or .zip archive ({exc}); nothing was created.") from exc


def upload_archive(
    *,
    by: Any,
    stream: blobs.Readable,
    length: int,
    parent: Node | uploads.Where,
    name: str,
    kind: str,
    conflict_strategy: str = Upload.Conflict.ERROR,
) -> uploads.Started | uploads.Committed:
    """Upload and commit a whole archive in one call (docs/runs-api.md §4).

    What can be checked before the body is read is (unless the folder is yet to be made); the body is
    spooled to scratch, never held in memory, and extracted there. Folders, blobs and the node are
    created only once the whole archive has passed.
    """
    try:
        folder: Node | None = uploads.resolve_parent(by, parent if isinstance(parent, Node) else _existing(parent))
    except errors.NotFound:
        if not (isinstance(parent, uploads.Where) and parent.make_folder):
            raise
        folder = None
    if folder is not None:
        skip_to = uploads.check_target(by=by, parent=folder, name=name, kind=kind, conflict_strategy=conflict_strategy)
        if skip_to is not None:
            return uploads.Started(None, [], skip_to)
    if length > settings.EM_MAX_UPLOAD_BYTES:
        raise errors.InvalidInput(f"An archive may hold at most {settings.EM_MAX_UPLOAD_BYTES} bytes.")
    scratch = Path(tempfile.mkdtemp(prefix="archive-", dir=blobs.scratch_dir()))
    try:
        body = scratch / "body"
        with body.open("wb") as out:
            got = blobs.copy_stream(stream, out, length, None)
        if got != length:
            raise errors.InvalidInput(f"The body ended after {got} of {length} bytes.")
        members = extract(body, scratch)
        body.unlink()
        files = [
            {"path": m.path, "size": m.size, "sha256": m.sha256, "mtime": m.mtime.isoformat() if m.mtime else None}
            for m in members
        ]
        started = uploads.start_upload(
            by=by, kind=kind, parent=folder or parent, name=name, files=files, conflict_strategy=conflict_strategy
        )
        if started.upload is None:
            return started
        missing = set(started.missing)
        for m in members:
            if m.sha256 in missing:
                blobs.adopt(m.scratch, sha256=m.sha256, md5=m.md5, size=m.size, by=by)
                missing.discard(m.sha256)
        try:
            return uploads.commit_upload(upload_id=started.upload.pk, by=by)
        except errors.EMError:
            started.upload.delete()
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _existing(where: uploads.Where) -> uploads.Where:
    """`where` without making folders: they are made only once the archive has passed."""
    return uploads.Where(parent=where.parent, path=where.path, make_folder=False)


class _Pipe:
    """A write-only file whose writes are collected for a generator to hand out (no seeking)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> Iterator[bytes]:
        """What was written since the last drain, as one piece (none when nothing was)."""
        if self.parts:
            data, self.parts = b"".join(self.parts), []
            yield data


def stream_zip(entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """A zip of `entries` produced piece by piece as it is read, never whole in memory or on disk.

    Members are stored, not deflated: most run files (weights, checkpoints) do not compress, and the
    server's CPU is better spent elsewhere. Sizes past 2 GiB switch the member to ZIP64.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.path, _zip_time(entry.mtime))
            info.file_size = entry.size
            info.external_attr = 0o644 << 16
            with (
                blobs.open_blob(entry.blob_id) as source,
                archive.open(info, mode="w", force_zip64=entry.size > _ZIP64_LIMIT) as target,
            ):
                while chunk := source.read(blobs.CHUNK_SIZE):
                    target.write(chunk)
                    yield from pipe.drain()
            yield from pipe.drain()
    yield from pipe.drain()


def _zip_time(mtime: datetime | None) -> tuple[int, int, int, int, int, int]:
    when = mtime.astimezone(UTC) if mtime else datetime(1980, 1, 1, tzinfo=UTC)
    when = max(when, datetime(1980, 1, 1, tzinfo=UTC))
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)
