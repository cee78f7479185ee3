"""The portal with an S3 store, in a real browser: files picked in the folder browser's upload dialog go
straight to the bucket (moto's server on loopback) through presigned URLs — a large one in parts — and a
file downloaded from the artifact page comes back from the bucket through EM's redirect.

The bucket allows the portal's origin with CORS and exposes `ETag`, and the portal's CSP lets it connect
to the bucket, as docs/deploy.md "S3" tells an administrator to set up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from em.models import Kind, Node
from tests import s3_helpers
from tests.factories import folder, root
from tests.s3_helpers import PART, BodyCounter, Bucket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
moto_s3, s3_store, django_body_bytes = s3_helpers.moto_s3, s3_helpers.s3_store, s3_helpers.django_body_bytes


def test_the_portal_uploads_to_the_bucket_and_downloads_from_it(
    open_portal: Any,
    live_server: Any,
    alice: Any,
    settings: Any,
    s3_store: Bucket,
    django_body_bytes: BodyCounter,
    tmp_path: Path,
) -> None:
    s3_store.client.put_bucket_cors(
        Bucket=s3_store.name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [live_server.url],
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**directives, "connect-src": ["'self'", s3_store.endpoint]}}
    folder(root(alice), "data")
    big = os.urandom(PART + 1000)  # two parts
    (tmp_path / "weights.bin").write_bytes(big)
    (tmp_path / "labels.txt").write_text("cat\ndog\n")

    page = open_portal(alice)
    page.goto("/browse/alice/data")
    page.get_by_role("button", name="Create new…").click()
    page.get_by_role("menuitem", name="Artifact (upload files)").click()
    dialog = page.get_by_role("dialog", name="Upload a new artifact")
    dialog.get_by_label("Name").fill("weights")
    dialog.get_by_label("or choose files").set_input_files([str(tmp_path / n) for n in ("weights.bin", "labels.txt")])
    dialog.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/artifacts/[0-9a-f-]+$"), timeout=60_000)

    artifact = Node.objects.get(name="weights", kind=Kind.ARTIFACT, deleted_at=None)
    assert artifact.manifest is not None and artifact.manifest.total_size == len(big) + 8
    assert not [r for r in django_body_bytes.requests if r[0] == "PUT"], "a blob went through Django"
    assert django_body_bytes.total < 10_000, django_body_bytes.requests
    assert len(s3_store.keys("blobs/")) == 2
    assert s3_store.keys("incoming/") == [] and s3_store.multipart_uploads() == []

    files = page.get_by_role("table", name="Files", exact=True)
    with page.expect_download() as download:
        files.get_by_role("link", name="weights.bin").click()
    assert Path(download.value.path()).read_bytes() == big
