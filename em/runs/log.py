"""A run's console log, read a page of lines at a time, optionally only the lines holding some text.

Logs can be gigabytes, so the blob is streamed in blocks and never held whole: a block that ends on a
line break is counted with `bytes.count` and only split into lines when the page asked for falls in it
(or, with a search, when the text occurs in it at all). A very long line is cut to `MAX_LINE_CHARS` for
display without being buffered past that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

import yaml

from em.models import ManifestEntry, Node
from em.services.blobs import manifest_files, open_blob

BLOCK_BYTES = 1024 * 1024
MAX_LINE_CHARS = 10_000
MAX_LIMIT = 10_000
DEFAULT_LOG_PATH = "stdout.log"
MAX_INDEX_BYTES = 1024 * 1024


@dataclass
class LogPage:
    lines: list[tuple[int, str]] = field(default_factory=list)  # (1-based line number, text)
    total: int = 0  # lines in the log, or lines matching `q`
    next_offset: int | None = None


def log_entry(files: dict[str, ManifestEntry]) -> ManifestEntry | None:
    """The run's log among its files: what `index.yaml` names (`log:`), else `stdout.log`."""
    index = files.get("index.yaml")
    path = DEFAULT_LOG_PATH
    if index is not None and index.size <= MAX_INDEX_BYTES:
        with open_blob(index.blob_id) as stream:
            try:
                named = yaml.safe_load(stream.read())
            except yaml.YAMLError:
                named = None
        if isinstance(named, dict) and isinstance(named.get("log"), str):
            path = named["log"].removeprefix("./")
    return files.get(path)


def read_log(node: Node, *, offset: int = 0, limit: int = 1000, q: str | None = None) -> LogPage:
    """Lines `offset` .. `offset + limit` of the log (of the matching lines, with `q`); an empty page
    when the run has no log yet (a live run)."""
    entry = log_entry(manifest_files(node))
    if entry is None:
        return LogPage()
    with open_blob(entry.blob_id) as stream:
        return scan(stream, offset=offset, limit=limit, q=q)


class _Page:
    """Collects the page while the scan counts every line (or every matching line)."""

    def __init__(self, offset: int, limit: int, needle: str | None) -> None:
        self.offset, self.end, self.needle = offset, offset + limit, needle
        self.lines: list[tuple[int, str]] = []
        self.number = 0  # lines seen so far
        self.total = 0  # lines counted so far (matching ones, with a needle)

    def block(self, data: bytes) -> None:
        """A run of whole lines, each ending with a line break."""
        count = data.count(b"\n")
        if self.needle is None:
            if self.total + count > self.offset and self.total < self.end:
                self._take(data.split(b"\n")[:-1])
            else:
                self.number += count
                self.total += count
            return
        text = data.decode("utf-8", "replace")
        if self.needle not in text.lower():
            self.number += count
            return
        self._take(text.split("\n")[:-1])

    def last(self, data: bytes) -> None:
        """What follows the last line break: a final line without one."""
        if data:
            self._take([data])

    def _take(self, lines: list[Any]) -> None:
        for line in lines:
            self.number += 1
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            if self.needle is not None and self.needle not in text.lower():
                continue
            if self.offset <= self.total < self.end:
                self.lines.append((self.number, text.rstrip("\r")[:MAX_LINE_CHARS]))
            self.total += 1


def scan(stream: IO[bytes], *, offset: int = 0, limit: int = 1000, q: str | None = None) -> LogPage:
    page = _Page(offset, limit, q.lower() if q else None)
    carry = b""
    overlong = False  # past MAX_LINE_CHARS bytes of the current line: drop the rest of it
    keep = MAX_LINE_CHARS * 4  # bytes enough for MAX_LINE_CHARS characters of UTF-8
    while block := stream.read(BLOCK_BYTES):
        if overlong:
            cut = block.find(b"\n")
            if cut < 0:
                continue
            page.block(carry + block[: cut + 1])
            carry, block, overlong = b"", block[cut + 1 :], False
        data = carry + block
        cut = data.rfind(b"\n")
        if cut >= 0:
            page.block(data[: cut + 1])
            carry = data[cut + 1 :]
        else:
            carry = data
        if len(carry) > keep:
            carry, overlong = carry[:keep], True
    page.last(carry)
    more = page.total > page.end
    return LogPage(page.lines, page.total, page.end if more else None)
