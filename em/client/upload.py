"""Uploading bundles (docs/runs-api.md "Blob store and uploads"): manifest → missing → blobs → commit.

Only the blobs the server lacks are sent, so re-uploading an unchanged folder costs one manifest. They go
to the server, or (an S3 store) straight to the bucket through presigned URLs (`send_blobs`).
Artifacts a run marked as input or output (`localDir` in its associations) are uploaded first, once
per `Uploader` however many runs share them, and the run's upload names them in its `lineage`.

Re-uploading is idempotent by the bundle's own identity: the server records each bundle's
`alternativeName` on the node it makes and answers "skipped" when the same bundle comes into the same
folder again (unless the strategy is `replace`). Nothing is written into the user's files. A plain folder
with no `metadata.yaml` is uploaded as an artifact named after the folder (`upload(..., plain=True)`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import yaml
from rich.console import Console

from em.client import api, render, transfer
from em.client.associations import artifact_folder, reference
from em.client.errors import ClientError, TooLarge
from em.client.http import Client
from em.client.sdk import bundle

HASH_CHUNK = 1 << 20


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
    """Bundle folders among `paths`: each is one bundle (holds metadata.yaml), a parent of several, or an
    `.em` folder (holding `artifacts/` and `runs/`: its artifacts come first, so runs can name them)."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            raise ValueError(f"{path} is not a folder.")
        if (path / bundle.METADATA).is_file():
            found.append(path)
            continue
        parts = [path / bundle.ARTIFACTS_DIR, path / bundle.RUNS_DIR]
        parents = [part for part in parts if part.is_dir()] or [path]
        children = [_bundles_in(parent) for parent in parents]
        if not any(children):
            raise ValueError(f"{path} holds no bundle: expected {bundle.METADATA} in it or in its subfolders.")
        found.extend(child for group in children for child in group)
    return list(dict.fromkeys(found))


def _bundles_in(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir() if (child / bundle.METADATA).is_file())


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
            entry = file_entry(path, path.relative_to(folder).as_posix())
            entries.append(entry)
            sources.setdefault(entry["sha256"], path)
    return entries, sources


def file_entry(path: Path, name: str) -> api.FileEntry:
    """The manifest entry of the local file `path`, announced as `name`."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    stat = path.stat()
    mtime = datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat()
    return {"path": name, "size": stat.st_size, "sha256": digest.hexdigest(), "mtime": mtime}


def send_blobs(
    client: Client,
    missing: Iterable[str],
    sources: dict[str, Path],
    *,
    label: str,
    console: Console,
    transfers: dict[str, Any] | None = None,
) -> int:
    """Send the blobs the server said it lacks (those we have bytes for), under one progress bar; bytes sent.

    The one way bytes go up, for bundle uploads and Asset Hub commits alike. A blob with a transfer plan
    (`transfers`, as `POST /uploads` answers them; asked of `POST /blobs/transfers` when not given) goes
    straight to the S3 bucket through its presigned URLs and is then verified by the server; any other is
    PUT to the server.
    """
    wanted = [sha for sha in dict.fromkeys(missing) if sha in sources]
    sizes = {sha: sources[sha].stat().st_size for sha in wanted}
    if transfers is None:
        transfers = transfer.plans(client, sizes)
    with render.transfer_progress(console) as progress, transfer.bucket_session() as bucket:
        task = progress.add_task(label, total=sum(sizes.values()))
        for sha in wanted:  # one at a time: the embedded default (SQLite) takes one writer at a time
            plan = transfers.get(sha)
            if plan is not None:
                transfer.to_bucket(client, bucket, sha, sources[sha], plan, lambda n: progress.advance(task, n))
            else:
                transfer.to_em(client, sha, sources[sha], lambda n: progress.advance(task, n))
    return sum(sizes.values())


def folder_path(client: Client, folder: str | None) -> str:
    """The absolute EM path of a destination folder; relative ones (and None) start at your root."""
    if folder and folder.startswith("/"):
        return api.absolute(folder, "/")
    return api.absolute(folder or "", api.me(client)["root"]["path"])


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

    def upload(
        self, folder: Path, *, strategy: str | None = None, plain: bool = False, name: str | None = None
    ) -> Outcome:
        """Upload one bundle (and first the artifacts it references); failures land in `Outcome.error`.

        `plain`: the folder is just files (no metadata.yaml): send them all as an artifact named `name`
        or after the folder.
        """
        strategy = strategy or self.strategy
        outcome = Outcome(folder, "Artifact" if plain else "Run")
        try:
            if plain:
                metadata: dict[str, Any] = {"kind": "Artifact", "name": name or folder.resolve().name}
                self._send(folder, metadata, {"input": [], "output": []}, strategy, outcome)
                return outcome
            done = self._artifacts.get(folder.resolve())
            if done is not None and done.node is not None:  # sent above for a run that used it
                outcome.kind, outcome.node, outcome.skipped = done.kind, done.node, True
                outcome.notes.append(f"uploaded above as {done.node['path']}")
                return outcome
            metadata = _metadata(folder)
            if name:
                metadata["name"] = name
            outcome.kind = str(metadata.get("kind") or "Run")
            lineage = self._lineage(folder, metadata, outcome)
            self._send(folder, metadata, lineage, strategy, outcome)
            if outcome.kind == "Artifact":  # a run of this upload naming it finds it sent
                self._artifacts.setdefault(folder.resolve(), outcome)
        except ClientError as exc:
            outcome.error = exc.message
        return outcome

    def _lineage(self, folder: Path, metadata: dict[str, Any], outcome: Outcome) -> dict[str, list[str]]:
        """`{input: [...], output: [...]}` of node ids or paths, uploading local artifacts first (found
        relative to the run folder or, as the t9k SDK writes them, to the `.em` folder's parent)."""
        associations = metadata.get("associations") or {}
        lineage: dict[str, list[str]] = {"input": [], "output": []}
        for direction in lineage:
            for entry in associations.get(direction) or []:
                node_ref = reference(entry)
                if node_ref is not None:
                    lineage[direction].append(node_ref)
                elif isinstance(entry, dict) and entry.get("localDir"):
                    node_id = self._artifact(artifact_folder(folder, entry), outcome)
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
        return str(done.node["id"]) if done.node is not None else None

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
            outcome.notes.append(f"already uploaded as {outcome.node['path']}; use -c replace to send it again")
            return
        missing = started.get("missing") or []
        outcome.sent_bytes = send_blobs(
            self.client,
            missing,
            sources,
            label=folder.name,
            console=self.console,
            transfers=cast(dict[str, Any], started).get("transfers") or {},
        )
        outcome.sent_files = len({sha for sha in missing if sha in sources})
        outcome.node = dict(api.commit_upload(self.client, started["id"]))


def _metadata(folder: Path) -> dict[str, Any]:
    try:
        data = bundle.read_yaml(folder / bundle.METADATA)
    except (OSError, yaml.YAMLError) as exc:
        raise ClientError(None, "bad_bundle", f"{folder / bundle.METADATA} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ClientError(None, "bad_bundle", f"{folder / bundle.METADATA} is not a mapping.")
    return data
