"""Presigned transfers: the upload protocol's "send what is missing" step when the blob store is S3.

The protocol stays one (docs/runs-api.md "Blob store and uploads"): announce, send the missing blobs,
commit. With `EM_STORAGE=file` a missing blob is PUT to EM (`em.services.blobs.receive`). With S3 the
announcement answers a *transfer plan* for each missing blob instead — presigned PUT URL(s) to a key of
the sender's own (`em.services.s3.incoming_key`): one URL for a file of up to one part, else an S3
multipart upload with a URL per part — and the client then asks EM to `finish` it.

`finish` is where the bytes are proven. EM reads the object back from the bucket and hashes it (SHA-256
and MD5), checking size and digest, and only then copies it under `blobs/` and makes the sender an owner.
Why read it back rather than trust an S3 checksum: S3 has no whole-object SHA-256 for a multipart upload
(only a checksum of the parts' checksums), and S3-compatible stores differ in whether they check
`x-amz-checksum-sha256` at all (moto, used by the tests, ignores it) — hashing the stored bytes is the one
proof that holds on every store, and the bytes travel bucket → server, never client → web tier. A wrong
digest deletes the incoming object and is refused (DigestMismatch): nothing is stored, owned or lost.
The check runs in the completion request itself, so its answer is final (no state to poll); its cost is
one read of the file from the bucket by the web process (docs/deploy.md "S3" sizes the timeout for it).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings

from em import errors
from em.models import Blob

from . import blobs, s3


class NothingSent(errors.Conflict):
    code = "blob_not_sent"


def plans(by: Any, sizes: dict[str, int]) -> dict[str, dict[str, Any]]:
    """digest → transfer plan for each of `sizes` (digest → size) — {} when the store is not S3, where
    blobs are PUT to EM. Each plan: `{transfer, size, part_size, upload_id, urls}`, `upload_id` null for
    one PUT."""
    if not sizes or not s3.enabled():
        return {}
    return {sha256: _plan(by, sha256, size) for sha256, size in sizes.items()}


def _plan(by: Any, sha256: str, size: int) -> dict[str, Any]:
    blobs.check_digest(sha256)
    transfer = s3.new_transfer()
    key = s3.incoming_key(by.pk, transfer, sha256)
    part = s3.part_size_for(size)
    plan = {"transfer": transfer, "size": size, "part_size": part, "upload_id": None}
    if size <= part:
        return {**plan, "urls": [s3.presign_put(key)]}
    upload_id = s3.start_multipart(key)
    return {**plan, "upload_id": upload_id, "urls": s3.presign_parts(key, upload_id, -(-size // part))}


def plans_for(by: Any, wanted: Any) -> dict[str, dict[str, Any]]:
    """Plans for `[{sha256, size}]` as a client asks for them (what is missing after staging, say).

    Digests `by` owns already need no transfer and get none."""
    if not isinstance(wanted, list) or not all(isinstance(w, dict) for w in wanted):
        raise errors.InvalidInput("`blobs` must be a list of {sha256, size}.")
    if len(wanted) > settings.EM_MAX_FILES_PER_UPLOAD:
        raise errors.InvalidInput(f"Ask for at most {settings.EM_MAX_FILES_PER_UPLOAD} transfers at once.")
    sizes: dict[str, int] = {}
    for item in wanted:
        sha256 = blobs.check_digest(item.get("sha256"))
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise errors.InvalidInput(f"{sha256}: size must be a whole number of bytes.", detail={"sha256": sha256})
        blobs.check_cap(size)
        sizes[sha256] = size
    owned = blobs.owned_sizes(by, list(sizes))
    return plans(by, {sha: size for sha, size in sizes.items() if sha not in owned})


def finish(
    sha256: str, *, by: Any, transfer: str | None, upload_id: str | None = None, parts: Any = None
) -> blobs.Received:
    """Verify what `by` sent to the bucket for `sha256` in `transfer` (the plan's id) and record it as
    their blob.

    `upload_id` and `parts` ([{part_number, etag}]) complete a multipart upload first. Idempotent: a blob
    `by` owns already answers at once. Refused when nothing has arrived (NothingSent) or the bytes are
    not the digest's (DigestMismatch: the incoming object is deleted, nothing is stored).
    """
    blobs.check_digest(sha256)
    existing = Blob.objects.filter(pk=sha256, owners__user_id=by.pk).first()
    if existing is not None:
        return blobs.Received(existing, existing.size)
    if not s3.enabled():
        raise errors.InvalidInput("This server stores blobs itself: PUT the bytes to /blobs/<sha256>.")
    if transfer is None:
        raise errors.InvalidInput("`transfer` must be the id of the transfer plan.")
    key = s3.incoming_key(by.pk, transfer, sha256)
    if upload_id is not None:
        _complete(key, upload_id, parts)
    size = s3.size_of(key)
    if size is None:
        raise NothingSent(f"Nothing has arrived for {sha256}: PUT its bytes to the URLs of its transfer plan.")
    try:
        blobs.check_cap(size)
    except errors.InvalidInput:
        s3.delete(key)
        raise
    hashes = (hashlib.sha256(), hashlib.md5(usedforsecurity=False))
    with s3.open_object(key) as body:
        blobs.copy_stream(body, None, size, hashes)
    actual = hashes[0].hexdigest()
    if actual != sha256:
        s3.delete(key)
        raise blobs.DigestMismatch(
            f"The bytes received hash to {actual}, not {sha256}; nothing was stored.",
            detail={"expected": sha256, "actual": actual},
        )

    def store(name: str) -> str:
        saved = s3.storage_available_name(name)
        s3.copy(key, s3.key_of(saved), size)
        return saved

    blob = blobs.settle(
        sha256=sha256, md5=hashes[1].hexdigest(), size=size, by=by, store=store, drop=lambda: s3.delete(key)
    )
    return blobs.Received(blob, size, created=True)


def _complete(key: str, upload_id: Any, parts: Any) -> None:
    """Join a multipart upload from the parts the client names; a clear error for a malformed list."""
    if not isinstance(upload_id, str) or not upload_id or len(upload_id) > 1024:
        raise errors.InvalidInput("`upload_id` must be the id of the transfer plan.")
    if (
        not isinstance(parts, list)
        or not parts
        or not all(isinstance(p, dict) and set(p) == {"part_number", "etag"} for p in parts)
        or not all(isinstance(p["part_number"], int) and isinstance(p["etag"], str) for p in parts)
    ):
        raise errors.InvalidInput("`parts` must be a list of {part_number, etag}, one per part sent.")
    from botocore.exceptions import ClientError

    try:
        s3.complete_multipart(key, upload_id, [(p["part_number"], p["etag"]) for p in parts])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "NoSuchUpload" and s3.size_of(key) is not None:
            return  # joined by an earlier attempt whose answer was lost: verify what it made
        raise errors.InvalidInput(
            f"The bucket refused to join the parts: {error.get('Code')}: {error.get('Message')}",
            detail={"code": error.get("Code")},
        ) from exc
