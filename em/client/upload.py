"""Uploading bundles (docs/runs-api.md "Blob store and uploads"): manifest → missing → blobs → commit.

Only the blobs the server lacks are sent, so re-uploading an unchanged folder costs one manifest.
Artifacts a run marked as input or output (`localDir` in its associations) are uploaded first, once
per `Uploader` however many runs share them, and the run's upload names them in its `lineage`. After
a successful upload the bundle's `metadata.yaml` records where it went (`remote`), and a later upload
of the same bundle into the same folder is skipped unless the strategy is `replace`.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from em.client import api, render
from em.client.errors import ClientError, TooLarge, Unreachable
from em.client.http import Client
from em.client.sdk import bundle

HASH_CHUNK = 1 << 20
PUT_ATTEMPTS = 3  # a dropped connection resumes from what the server already has


@dataclass
class Outcome:
    """What happened to one folder: uploaded (node), skipped (node or previous remote), or failed."""

    folder: Path
    kind: str
    node: dict[str, Any] | None = None
    skipped: bool = False
    files: int = 0
    sent_files: int = 0
    sent_bytes: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def find_bundles(paths: Iterable[str | Path]) -> list[Path]:
    """Bundle folders among `paths`: each is one bundle (holds metadata.yaml) or a parent of several."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            raise ValueError(f"{path} is not a folder.")
        if (path / bundle.METADATA).is_file():
            found.append(path)
            continue
        children = sorted(child for child in path.iterdir() if (child / bundle.METADATA).is_file())
        if not children:
            raise ValueError(f"{path} holds no bundle: expected {bundle.METADATA} in it or in its subfolders.")
        found.extend(children)
    return found


def manifest(folder: Path) -> tuple[list[api.FileEntry], dict[str, Path]]:
    """Every regular file under `folder` (symlinks not followed), and where each digest's bytes are."""
    entries: list[api.FileEntry] = []
    sources: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file() or (name.startswith(".") and name.endswith(".tmp")):
                continue
            digest = hashlib.sha256()
            with path.open("rb") as stream:
                while chunk := stream.read(HASH_CHUNK):
                    digest.update(chunk)
            stat = path.stat()
            sha = digest.hexdigest()
            entries.append(
                {
                    "path": path.relative_to(folder).as_posix(),
                    "size": stat.st_size,
                    "sha256": sha,
                    "mtime": datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat(),
                }
            )
            sources.setdefault(sha, path)
    return entries, sources


def folder_path(client: Client, folder: str | None) -> str:
    """The absolute EM path of a destination folder; relative ones (and None) start at your root."""
    if folder and folder.startswith("/"):
        return api.absolute(folder, "/")
    return api.absolute(folder or "", api.me(client)["root"]["path"])


class _Reader:
    """A file body for `requests` that reports progress and starts at an offset (for resuming)."""

    def __init__(self, path: Path, start: int, advance: Callable[[int], None]) -> None:
        self._file = path.open("rb")
        self._file.seek(start)
        self._length = path.stat().st_size - start
        self._advance = advance

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._advance(len(chunk))
        return chunk

    def close(self) -> None:
        self._file.close()


class Uploader:
    """Uploads bundles into one destination folder with one conflict strategy, showing progress."""

    def __init__(
        self,
        client: Client,
        *,
        folder: str | None = None,
        make_folder: bool = False,
        conflict_strategy: str = "new",
        console: Console | None = None,
    ) -> None:
        if conflict_strategy not in api.CONFLICT_STRATEGIES:
            raise ValueError(f"conflict_strategy must be one of {', '.join(api.CONFLICT_STRATEGIES)}.")
        self.client = client
        self.parent_path = folder_path(client, folder)
        self.make_folder = make_folder
        self.strategy = conflict_strategy
        self.console = console or Console(stderr=True)
        self._artifacts: dict[Path, Outcome] = {}

    def upload(self, folder: Path, *, strategy: str | None = None) -> Outcome:
        """Upload one bundle (and first the artifacts it references); failures land in `Outcome.error`."""
        strategy = strategy or self.strategy
        outcome = Outcome(folder, "Run")
        try:
            metadata = _metadata(folder)
            outcome.kind = str(metadata.get("kind") or "Run")
            previous = self._previous(metadata)
            if previous is not None and strategy != "replace":
                outcome.skipped = True
                outcome.notes.append(f"already uploaded as {previous.get('path')}; use -c replace to send it again")
                return outcome
            lineage = self._lineage(folder, metadata, outcome)
            self._send(folder, metadata, lineage, strategy, outcome)
        except ClientError as exc:
            outcome.error = exc.message
        return outcome

    def _previous(self, metadata: dict[str, Any]) -> dict[str, Any] | None:
        for remote in metadata.get("remote") or []:
            if (
                isinstance(remote, dict)
                and remote.get("host") == self.client.host
                and posixpath.dirname(str(remote.get("path") or "")) == self.parent_path
            ):
                return remote
        return None

    def _lineage(self, folder: Path, metadata: dict[str, Any], outcome: Outcome) -> dict[str, list[str]]:
        """`{input: [...], output: [...]}` of node ids or paths, uploading local artifacts first."""
        associations = metadata.get("associations") or {}
        lineage: dict[str, list[str]] = {"input": [], "output": []}
        for direction in lineage:
            for entry in associations.get(direction) or []:
                if isinstance(entry, str):
                    lineage[direction].append(entry)
                elif isinstance(entry, dict) and entry.get("path"):
                    lineage[direction].append(str(entry["path"]))
                elif isinstance(entry, dict) and entry.get("localDir"):
                    node_id = self._artifact(folder / str(entry["localDir"]), outcome)
                    if node_id:
                        lineage[direction].append(node_id)
        return lineage

    def _artifact(self, local: Path, outcome: Outcome) -> str | None:
        local = local.resolve()
        if local not in self._artifacts:
            if not (local / bundle.METADATA).is_file():
                outcome.notes.append(f"artifact {local} is missing; its lineage edge is left out")
                return None
            # An input shared by many runs is sent once, never duplicated by the runs' "new".
            result = self.upload(local, strategy="replace" if self.strategy == "replace" else "skip")
            if result.error:
                raise ClientError(None, "artifact_failed", f"Uploading artifact {local} failed: {result.error}")
            self._artifacts[local] = result
        done = self._artifacts[local]
        if done.node is None:  # skipped as uploaded before: trust the recorded node
            previous = self._previous(_metadata(local)) or {}
            return str(previous.get("node") or "") or None
        return str(done.node["id"])

    def _send(
        self, folder: Path, metadata: dict[str, Any], lineage: dict[str, list[str]], strategy: str, outcome: Outcome
    ) -> None:
        files, sources = manifest(folder)
        outcome.files = len(files)
        request = {
            "kind": outcome.kind,
            "parent_path": self.parent_path,
            "make_folder": self.make_folder,
            "name": str(metadata.get("name") or folder.name),
            "conflict_strategy": strategy,
            "metadata": bundle.plain(metadata),
            "lineage": lineage,
            "files": files,
        }
        try:
            started = api.start_upload(self.client, request)
        except TooLarge as exc:
            raise TooLarge(
                exc.status,
                exc.code,
                f"{folder} lists {len(files):,} files, a manifest larger than the server accepts in one request. "
                f"Upload its subfolders separately, or ask the administrator to raise the limit. ({exc.message})",
                exc.detail,
            ) from exc
        if started.get("skipped"):
            outcome.skipped = True
            outcome.node = dict(started["node"])
            outcome.notes.append(f"{outcome.node['path']} exists; skipped")
            return
        missing = [sha for sha in dict.fromkeys(started.get("missing") or []) if sha in sources]
        total = sum(sources[sha].stat().st_size for sha in missing)
        with render.transfer_progress(self.console) as progress:
            task = progress.add_task(folder.name, total=total)
            for sha in missing:
                self._put(sha, sources[sha], lambda n: progress.advance(task, n))
        outcome.sent_files, outcome.sent_bytes = len(missing), total
        outcome.node = dict(api.commit_upload(self.client, started["id"]))
        _record_remote(folder, metadata, self.client.host, outcome.node)

    def _put(self, sha: str, path: Path, advance: Callable[[int], None]) -> None:
        """Send one blob, resuming from the server's offset when the connection drops."""
        size = path.stat().st_size
        start = 0
        for attempt in range(PUT_ATTEMPTS):
            headers = {"Content-Type": "application/octet-stream"}
            if start:
                headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
            reader = _Reader(path, start, advance)
            try:
                self.client.transfer("PUT", f"blobs/{sha}", data=reader, headers=headers).close()
                return
            except Unreachable:
                if attempt == PUT_ATTEMPTS - 1:
                    raise
                start = self._offset(sha)
                if start >= size:
                    return
            finally:
                reader.close()

    def _offset(self, sha: str) -> int:
        with self.client.transfer("HEAD", f"blobs/{sha}", ok_statuses=frozenset({404})) as answer:
            if answer.ok:
                return 1 << 62  # stored already
            try:
                return int(answer.headers.get("Upload-Offset", "0"))
            except ValueError:
                return 0


def _metadata(folder: Path) -> dict[str, Any]:
    try:
        data = bundle.read_yaml(folder / bundle.METADATA)
    except (OSError, yaml.YAMLError) as exc:
        raise ClientError(None, "bad_bundle", f"{folder / bundle.METADATA} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ClientError(None, "bad_bundle", f"{folder / bundle.METADATA} is not a mapping.")
    return data


def _record_remote(folder: Path, metadata: dict[str, Any], host: str, node: dict[str, Any]) -> None:
    remote = [
        r
        for r in metadata.get("remote") or []
        if not (isinstance(r, dict) and r.get("host") == host and r.get("path") == node["path"])
    ]
    remote.append({"host": host, "node": node["id"], "path": node["path"], "uploadedTimestamp": bundle.now()})
    bundle.write_yaml(folder / bundle.METADATA, {**metadata, "remote": remote})
