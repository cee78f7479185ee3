"""A real S3-compatible server for the tests: moto's standalone server on a free loopback port.

`moto_s3` starts it once per session (in a thread of the test process, speaking real HTTP); `s3_store`
gives each test a bucket of its own and points EM's default storage at it, as `EM_STORAGE=s3` would.
`django_body_bytes` counts the request bodies that reach Django, so a test can prove that file bytes
went to the bucket and not through the web tier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.signals import request_started
from moto.server import ThreadedMotoServer

PART = 5 * 1024 * 1024  # S3's smallest part: a multipart test file needs only a little more


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        answer = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(obj["Key"] for obj in answer.get("Contents") or [])

    def multipart_uploads(self) -> list[dict[str, Any]]:
        return list(self.client.list_multipart_uploads(Bucket=self.name).get("Uploads") or [])

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


@pytest.fixture
def s3_store(moto_s3: str, settings: Any, tmp_path: Path) -> Bucket:
    """A fresh bucket as the default storage, parts of 5 MiB, and a private scratch directory."""
    name = f"em-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3,
        region_name="us-east-1",
        aws_access_key_id="em-test",
        aws_secret_access_key="em-test-secret",  # moto takes any key
    )
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto_s3,
                "region_name": "us-east-1",
                "access_key": "em-test",
                "secret_key": "em-test-secret",
                "default_acl": None,
                "file_overwrite": False,
                "querystring_auth": True,
            },
        },
    }
    settings.EM_S3_PART_SIZE = PART
    settings.EM_UPLOAD_SCRATCH_DIR = tmp_path / "scratch"
    return Bucket(name, moto_s3, client)


@dataclass
class BodyCounter:
    """Request bodies that reached Django: (method, path, Content-Length) of each request."""

    requests: list[tuple[str, str, int]]

    @property
    def total(self) -> int:
        return sum(length for _, _, length in self.requests)


@pytest.fixture
def django_body_bytes() -> Iterator[BodyCounter]:
    counter = BodyCounter([])

    def seen(sender: Any, environ: Any = None, **kwargs: Any) -> None:
        raw = (environ or {}).get("CONTENT_LENGTH") or "0"
        counter.requests.append(
            (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), int(raw) if raw.isdigit() else 0)
        )

    request_started.connect(seen, weak=False)
    yield counter
    request_started.disconnect(seen)
