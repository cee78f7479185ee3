"""Downloading a node's files (`GET nodes/<id>/files/<path>`) to disk, with a progress bar.

The file is written beside its target and renamed into place, so an interrupted download never leaves
a truncated file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from rich.console import Console

from em.client import render
from em.client.http import Client

CHUNK = 1 << 20


def download(client: Client, node_id: str, path: str, target: Path, *, console: Console | None = None) -> int:
    """Save the node's file `path` as `target`; the number of bytes written."""
    console = console or Console(stderr=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    written = 0
    try:
        with (
            client.transfer("GET", f"nodes/{node_id}/files/{quote(path)}") as answer,
            os.fdopen(fd, "wb") as out,
            render.transfer_progress(console) as progress,
        ):
            length = answer.headers.get("Content-Length")
            task = progress.add_task(path, total=int(length) if length and length.isdigit() else None)
            for chunk in answer.iter_content(CHUNK):
                out.write(chunk)
                written += len(chunk)
                progress.advance(task, len(chunk))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written
