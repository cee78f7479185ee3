"""How one blob's bytes travel: PUT to EM (resumable), or straight to an S3 bucket through the presigned
URLs of its transfer plan, in parts sent side by side, then verified by EM (docs/runs-api.md "Blob store
and uploads" and "Presigned transfers"). `em.client.upload.send_blobs` picks the way for each blob.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from em.client.errors import ClientError, Unreachable
from em.client.http import Client

PUT_ATTEMPTS = 3  # a dropped connection resumes from what the server already has
# The slowest rate at which a server is expected to read a file back from its bucket and hash it: the
# completion of a presigned transfer waits at least that long for its answer.
VERIFY_BYTES_PER_S = 20_000_000
VERIFY_POLL_SECONDS = 2.0
# Parts of one multipart upload sent at once: a single stream rarely fills a long fat link to a bucket.
PARALLEL_PARTS = 4
OWNED = 1 << 62  # what `_offset` answers for a blob that is ours already


class Reader:
    """A file body for `requests` that reports progress, starts at an offset (for resuming) and may stop
    short of the end (one part of a multipart upload)."""

    def __init__(self, path: Path, start: int, advance: Callable[[int], None], *, length: int | None = None) -> None:
        self._file = path.open("rb")
        self._file.seek(start)
        self._length = path.stat().st_size - start if length is None else length
        self._left = self._length
        self._advance = advance

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(chunk)
        self._advance(len(chunk))
        return chunk

    def close(self) -> None:
        self._file.close()


def to_em(client: Client, sha: str, path: Path, advance: Callable[[int], None]) -> None:
    """Send one blob, resuming from the server's offset when the connection drops."""
    size = path.stat().st_size
    start = 0
    for attempt in range(PUT_ATTEMPTS):
        headers = {"Content-Type": "application/octet-stream"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        reader = Reader(path, start, advance)
        try:
            client.transfer("PUT", f"blobs/{sha}", data=reader, headers=headers).close()
            return
        except Unreachable:
            if attempt == PUT_ATTEMPTS - 1:
                raise
            start = _offset(client, sha)
            if start >= size:
                return
        finally:
            reader.close()


def _offset(client: Client, sha: str) -> int:
    with client.transfer("HEAD", f"blobs/{sha}", ok_statuses=frozenset({404})) as answer:
        if answer.ok:
            return OWNED
        try:
            return int(answer.headers.get("Upload-Offset", "0"))
        except ValueError:
            return 0


_PLAN_BATCH = 1000


def plans(client: Client, sizes: dict[str, int]) -> dict[str, Any]:
    """Transfer plans for `sizes` (digest → size): empty when the server stores blobs itself."""
    plans: dict[str, Any] = {}
    items = [{"sha256": sha, "size": size} for sha, size in sizes.items()]
    for i in range(0, len(items), _PLAN_BATCH):
        answer = client.request("POST", "blobs/transfers", json={"blobs": items[i : i + _PLAN_BATCH]})
        plans.update(answer.get("transfers") or {})
    return plans


def to_bucket(
    client: Client, bucket: requests.Session, sha: str, path: Path, plan: dict[str, Any], advance: Callable[[int], None]
) -> None:
    """PUT a file's parts to the bucket's presigned URLs (never with EM's key; up to PARALLEL_PARTS at a
    time), then have EM verify it."""
    size = path.stat().st_size
    if size != plan.get("size"):
        raise ClientError(None, "file_changed", f"{path} changed while it was being uploaded; upload it again.")
    part_size, urls = int(plan["part_size"]), list(plan["urls"])

    def send(number: int) -> dict[str, Any]:
        start = (number - 1) * part_size
        etag = _put_part(bucket, urls[number - 1], path, start, min(part_size, size - start), advance, client.timeout)
        return {"part_number": number, "etag": etag}

    numbers = range(1, len(urls) + 1)
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_PARTS, len(urls)))) as pool:
        parts = list(pool.map(send, numbers))  # in part order; the first failure is raised here
    body: dict[str, Any] = {"transfer": plan["transfer"]}
    if plan.get("upload_id"):
        body.update(upload_id=plan["upload_id"], parts=parts)
    _complete(client, sha, body, size)


def _complete(client: Client, sha: str, body: dict[str, Any], size: int) -> None:
    """Have EM verify a transfer. Hashing a big file may take EM longer than our read timeout; EM goes
    on when we stop listening, so then wait for the blob to become ours (`HEAD`), as long as reading it
    at VERIFY_BYTES_PER_S would take."""
    try:
        client.request("POST", f"blobs/{sha}/complete", json=body)
        return
    except Unreachable as exc:
        if exc.code != "timeout":
            raise
        deadline = time.monotonic() + size / VERIFY_BYTES_PER_S
        while time.monotonic() < deadline:
            if _offset(client, sha) == OWNED:
                return
            time.sleep(VERIFY_POLL_SECONDS)
        raise


def _put_part(
    bucket: requests.Session,
    url: str,
    path: Path,
    start: int,
    length: int,
    advance: Callable[[int], None],
    timeout: tuple[float, float],
) -> str:
    """PUT bytes `start`… (`length` of them) of `path` to one presigned URL, again on a dropped
    connection; the ETag the bucket answers."""
    for attempt in range(PUT_ATTEMPTS):
        reader = Reader(path, start, advance, length=length)
        try:
            answer = bucket.put(url, data=reader, timeout=timeout)
        except requests.RequestException as exc:
            if attempt == PUT_ATTEMPTS - 1:
                raise Unreachable(None, "bucket_unreachable", f"Cannot send {path} to the bucket: {exc}") from exc
            continue
        finally:
            reader.close()
        if not answer.ok:
            raise ClientError(
                answer.status_code,
                "bucket_refused",
                f"The bucket refused {path} (bytes {start}-{start + length}): {answer.status_code} {answer.text[:300]}",
            )
        return str(answer.headers.get("ETag", ""))
    raise AssertionError("unreachable")  # the loop returns or raises


def bucket_session() -> requests.Session:
    """A session for presigned URLs: no EM header or key on it, and a connection for every part in flight."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_maxsize=PARALLEL_PARTS)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
