"""Downloading files to disk with a progress bar: a node's (`nodes/<id>/files/<path>`) or an asset
version's (`assets/<id>/files/<path>?ref=`), one file or many.

Each file is written beside its target and renamed into place, so an interrupted download never leaves
a truncated file that looks complete. Paths come from the server: one that would land outside the chosen
folder (absolute, `..`) is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from rich.console import Console

from em.client import render
from em.client.errors import ClientError
from em.client.http import Client, Params

CHUNK = 1 << 20


def download(client: Client, node_id: str, path: str, target: Path, *, console: Console | None = None) -> int:
    """Save the node's file `path` as `target`; the number of bytes written."""
    console = console or Console(stderr=True)
    with render.transfer_progress(console) as progress:
        task = progress.add_task(path, total=None)
        return _fetch(
            client,
            f"nodes/{node_id}/files/{quote(path)}",
            None,
            target,
            lambda n: progress.advance(task, n),
            on_length=lambda length: progress.update(task, total=length),
        )


def download_files(
    client: Client,
    base: str,
    files: Sequence[dict[str, Any]],
    into: Path,
    *,
    params: Params | None = None,
    console: Console | None = None,
) -> int:
    """Save `files` (`{path, size}` as the server lists them) from `<base>/files/<path>` below `into`,
    keeping their relative paths, under one progress bar; the number of bytes written."""
    console = console or Console(stderr=True)
    targets = [(f, local_target(into, str(f["path"]))) for f in files]
    written = 0
    with render.transfer_progress(console) as progress:
        task = progress.add_task(f"{len(files)} file(s)", total=sum(int(f.get("size") or 0) for f in files))
        for entry, target in targets:
            url = f"{base}/files/{quote(str(entry['path']))}"
            written += _fetch(client, url, params, target, lambda n: progress.advance(task, n))
    return written


def local_target(into: Path, path: str) -> Path:
    """Where the server's relative `path` goes below `into`; refused when it would leave `into`."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(p in {"..", "."} or "\\" in p or ":" in p for p in parts):
        raise ClientError(None, "unsafe_path", f"Refusing to write {path!r}: it would leave {into}.")
    return into.joinpath(*parts)


def _fetch(
    client: Client,
    url: str,
    params: Params | None,
    target: Path,
    advance: Callable[[int], None],
    *,
    on_length: Callable[[int], None] | None = None,
) -> int:
    """Stream one file into `target`, calling `advance(n)` per chunk and `on_length` with the length the
    server announces."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    written = 0
    try:
        with client.transfer("GET", url, params=params) as answer, os.fdopen(fd, "wb") as out:
            length = answer.headers.get("Content-Length")
            if on_length is not None and length and length.isdigit():
                on_length(int(length))
            for chunk in answer.iter_content(CHUNK):
                out.write(chunk)
                written += len(chunk)
                advance(len(chunk))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written
