"""`em upload`, `em files download` and the Asset Hub's `em asset commit/download` with an S3 store, end to end:
the CLI against a live server whose blobs live in a real S3-compatible server (moto on loopback).

The asset path learns what is missing from staging, so its plans come from `POST /blobs/transfers`; the
bundle path gets them with `POST /uploads`. Either way the file bytes go to the bucket, never to Django.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from em.models import Kind, Node
from em.services import blobs
from tests import s3_helpers
from tests.s3_helpers import PART, BodyCounter, Bucket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("workdir")]
moto_s3, s3_store, django_body_bytes = s3_helpers.moto_s3, s3_helpers.s3_store, s3_helpers.django_body_bytes
MODEL = "t9k-assethub/model/cv/resnet"


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_an_asset_is_committed_and_downloaded_through_the_bucket(
    signed_in: Any, alice: Any, em_cli: Any, workdir: Path, s3_store: Bucket, django_body_bytes: BodyCounter
) -> None:
    weights = workdir / "weights"
    weights.mkdir()
    big = os.urandom(PART + 4096)  # a multipart upload
    (weights / "model.bin").write_bytes(big)
    (weights / "config.json").write_text('{"layers": 50}')
    ok(em_cli("asset", "create", "model", "cv/resnet"))

    first = ok(em_cli("asset", "commit", MODEL, "-a", "weights:.", "-m", "first"))
    assert "2 file(s)" in first.stdout
    again = ok(em_cli("asset", "commit", MODEL, "-a", "weights:copy", "-m", "same bytes"))
    assert "0 B sent" in again.stdout  # dedup: the server has every blob of alice's already
    ok(em_cli("asset", "tag", MODEL, "v1"))
    ok(em_cli("asset", "download", f"/alice/{MODEL}:v1", "-d", "v1"))

    assert (workdir / "v1" / "model.bin").read_bytes() == big
    assert (workdir / "v1" / "copy" / "config.json").read_text() == '{"layers": 50}'
    assert not [r for r in django_body_bytes.requests if r[0] == "PUT"]
    assert django_body_bytes.total < 20_000, django_body_bytes.requests
    assert len(s3_store.keys("blobs/")) == 2 and s3_store.keys("incoming/") == []


def test_em_upload_and_files_download_through_the_bucket(
    signed_in: Any, alice: Any, em_cli: Any, workdir: Path, s3_store: Bucket, django_body_bytes: BodyCounter
) -> None:
    data = workdir / "data"
    data.mkdir()
    rows = os.urandom(300_000)
    (data / "rows.bin").write_bytes(rows)

    ok(em_cli("upload", "-a", str(data), "-f", "arts", "-m"))
    node = Node.objects.get(name="data", kind=Kind.ARTIFACT)
    ok(em_cli("files", "download", str(node.pk), "rows.bin", "-d", "back"))

    assert (workdir / "back" / "rows.bin").read_bytes() == rows
    assert django_body_bytes.total < 10_000, django_body_bytes.requests
    assert s3_store.keys("blobs/") == [blobs.storage_name(node.manifest.entries.get().blob_id)]
