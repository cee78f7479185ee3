"""The S3 bucket behind `EM_STORAGE=s3`, for what django-storages does not do: presigned transfers.

With S3 the bytes of a file go straight between the client and the bucket (ARCHITECTURE.md §1): the
client PUTs to presigned URLs under `incoming/<user id>/<transfer>/<sha256>` — a key of the sender's own,
so no one can complete or overwrite another user's transfer, and nothing unverified ever lies under
`blobs/` — and downloads are redirected to a short-lived presigned GET of the stored blob. Whether those bytes are the
file they claim to be is decided above this module (`em.services.transfers`); this one only talks to the
bucket, with the storage's own connection and settings (bucket, endpoint, keys, location prefix).

Unfinished transfers (a multipart upload never completed, an incoming object never verified) are swept by
`sweep_incoming`, which `em.services.blobs.collect_garbage` calls: the bucket holds nothing indefinitely
that no blob row names.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.files.storage import storages

from em import errors

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
MAX_PARTS = 10_000
INCOMING = "incoming/"
_TRANSFER = re.compile(r"^[0-9]{1,16}$")


def _storage() -> Any:
    return storages["default"]


def enabled() -> bool:
    """Is the blob store an S3 bucket (so transfers go direct)? Read at each call: tests switch stores."""
    from storages.backends.s3 import S3Storage  # needs boto3, which only the S3 store uses

    return isinstance(_storage(), S3Storage)


def _client() -> Any:
    """The storage's own boto3 client: the server's way into the bucket."""
    return _storage().connection.meta.client


_PRESIGNERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _presigner() -> Any:
    """A boto3 client that signs URLs for clients: SigV4 (what every S3 region accepts), addressed as
    clients reach the bucket (EM_S3_PUBLIC_ENDPOINT_URL when set). Signing is local: no request is made.
    One per storage object, since making a boto3 client costs milliseconds and an upload may plan
    thousands of files."""
    import boto3
    from botocore.config import Config

    storage = _storage()
    signer = _PRESIGNERS.get(storage)
    if signer is None:
        signer = _PRESIGNERS[storage] = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.EM_S3_PUBLIC_ENDPOINT_URL or storage.endpoint_url,
            region_name=storage.region_name,
            aws_access_key_id=storage.access_key,
            aws_secret_access_key=storage.secret_key,
            aws_session_token=storage.security_token,
            config=Config(signature_version="s3v4", s3={"addressing_style": storage.addressing_style}),
        )
    return signer


def bucket() -> str:
    return str(_storage().bucket_name)


def key_of(name: str) -> str:
    """The object key of a storage name (the storage's `location` prefix applied)."""
    return str(_storage()._normalize_name(name))


def storage_available_name(name: str) -> str:
    """`name`, or a free name beside it when the bucket holds that name already (never overwrite)."""
    return str(_storage().get_available_name(name))


def new_transfer() -> str:
    """A transfer's id: when it began, in milliseconds since the epoch (what `sweep_incoming` ages it by)."""
    return str(int(time.time() * 1000))


def incoming_key(user_id: Any, transfer: str, sha256: str) -> str:
    """Where `user_id` sends the bytes of `sha256` in transfer `transfer`: a key of the sender's own."""
    if not _TRANSFER.match(transfer):
        raise errors.InvalidInput("`transfer` must be the id of the transfer plan.")
    return key_of(f"{INCOMING}{user_id}/{transfer}/{sha256}")


def _begun(key: str, fallback: datetime) -> datetime:
    """When the transfer at `key` began, read from its id (S3-compatible stores differ in the dates they
    report for multipart uploads: moto answers a fixed one), else `fallback`."""
    parts = key.rsplit("/", 2)
    if len(parts) == 3 and _TRANSFER.match(parts[1]):
        return datetime.fromtimestamp(int(parts[1]) / 1000, tz=UTC)
    return fallback


def part_size_for(size: int) -> int:
    """EM_S3_PART_SIZE, raised (to whole MiB) for a file that would otherwise need more than 10,000 parts."""
    part = max(settings.EM_S3_PART_SIZE, MIN_PART_SIZE)
    if size > part * MAX_PARTS:
        mib = 1024 * 1024
        part = -(-size // (MAX_PARTS * mib)) * mib
    return part


def presign_put(key: str) -> str:
    return str(
        _presigner().generate_presigned_url(
            "put_object", Params={"Bucket": bucket(), "Key": key}, ExpiresIn=settings.EM_S3_UPLOAD_EXPIRY
        )
    )


def start_multipart(key: str) -> str:
    """Open a multipart upload at `key`; its UploadId."""
    return str(_client().create_multipart_upload(Bucket=bucket(), Key=key)["UploadId"])


def presign_parts(key: str, upload_id: str, count: int) -> list[str]:
    signer = _presigner()
    return [
        str(
            signer.generate_presigned_url(
                "upload_part",
                Params={"Bucket": bucket(), "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=settings.EM_S3_UPLOAD_EXPIRY,
            )
        )
        for number in range(1, count + 1)
    ]


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Join the parts (number, ETag) the client sent into one object; S3 checks each ETag."""
    _client().complete_multipart_upload(
        Bucket=bucket(),
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
    )


def abort_multipart(key: str, upload_id: str) -> None:
    _client().abort_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id)


def size_of(key: str) -> int | None:
    """The object's size, or None when there is none at `key`."""
    from botocore.exceptions import ClientError

    try:
        return int(_client().head_object(Bucket=bucket(), Key=key)["ContentLength"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise


def open_object(key: str) -> BinaryIO:
    """The object's bytes as a stream (read in chunks, never whole)."""
    return cast(BinaryIO, _client().get_object(Bucket=bucket(), Key=key)["Body"])


MAX_SINGLE_COPY = 5 * 1024**3  # S3's CopyObject limit


def copy(source_key: str, target_key: str, size: int) -> None:
    """Copy inside the bucket (no byte passes through EM): one CopyObject up to 5 GiB, above that boto3's
    multipart copy (which for smaller objects only adds requests: a part per 8 MB)."""
    source = {"Bucket": bucket(), "Key": source_key}
    if size <= MAX_SINGLE_COPY:
        _client().copy_object(CopySource=source, Bucket=bucket(), Key=target_key)
    else:
        _client().copy(source, bucket(), target_key)


def delete(key: str) -> None:
    _client().delete_object(Bucket=bucket(), Key=key)


def presign_get(name: str, *, filename: str, content_type: str) -> str:
    """A short-lived URL that downloads the stored file `name` as an attachment called `filename`."""
    from django.utils.http import content_disposition_header

    return str(
        _presigner().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket(),
                "Key": key_of(name),
                "ResponseContentDisposition": content_disposition_header(as_attachment=True, filename=filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=settings.EM_S3_DOWNLOAD_EXPIRY,
        )
    )


def _pages(operation: str, result_key: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in _client().get_paginator(operation).paginate(Bucket=bucket(), **params):
        yield from page.get(result_key) or []


def sweep_incoming(cutoff: datetime) -> int:
    """Abort multipart uploads and delete incoming objects begun before `cutoff`; how many went.

    A transfer younger than `cutoff` may still be in flight and is left alone.
    """
    prefix = key_of(INCOMING)
    swept = 0
    for upload in _pages("list_multipart_uploads", "Uploads", Prefix=prefix):
        if _begun(upload["Key"], upload["Initiated"]) < cutoff:
            abort_multipart(upload["Key"], upload["UploadId"])
            swept += 1
    for obj in _pages("list_objects_v2", "Contents", Prefix=prefix):
        if max(_begun(obj["Key"], obj["LastModified"]), obj["LastModified"]) < cutoff:
            delete(obj["Key"])
            swept += 1
    return swept
