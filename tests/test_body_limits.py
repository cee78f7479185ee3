"""The documented limits are the real ones, and every refusal of a body is the API's JSON error shape.

A JSON body used to be capped by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) with an HTML "Bad
Request (400)", so a manifest past ~16,750 files failed although EM_MAX_FILES_PER_UPLOAD is 100,000.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.conf import settings as django_settings

from accounts import services as account_services
from em.client import config
from em.client.cli import main
from tests.factories import root

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.EM_UPLOAD_SCRATCH_DIR = tmp_path / "scratch"


def manifest(count: int, path_length: int = 16) -> list[dict[str, Any]]:
    return [
        {
            "path": f"d{i // 1000:03d}/{'f' * max(path_length - 16, 1)}{i:06d}.bin",
            "size": 1,
            "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
            "mtime": "2026-03-01T10:15:19.123456+08:00",
        }
        for i in range(count)
    ]


def announce(client: Any, parent: Any, files: list[dict[str, Any]]) -> Any:
    body = {"kind": "Artifact", "parent": str(parent.pk), "name": "many", "files": files}
    return client.post("/api/v1/uploads", json.dumps(body), content_type="application/json")


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "detail"}
    assert error["code"] == code, error
    return error


def test_a_25000_file_manifest_is_announced(alice: Any, key_client: Callable[..., Any]) -> None:
    files = manifest(25_000)
    assert len(json.dumps(files)) > 2_621_440  # past Django's default ceiling, which refused it

    response = announce(key_client(alice), root(alice), files)

    assert response.status_code == 201, response.content[:300]
    assert len(response.json()["missing"]) == 25_000


def test_the_default_json_limit_fits_a_manifest_of_the_most_files_an_upload_may_hold() -> None:
    most = django_settings.EM_MAX_FILES_PER_UPLOAD
    sample = manifest(1_000, path_length=200)
    per_entry = len(json.dumps(sample)) / len(sample)
    envelope = 2_000  # kind, parent, name, metadata, lineage
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == django_settings.EM_MAX_JSON_BODY_BYTES
    assert most * per_entry + envelope <= django_settings.EM_MAX_JSON_BODY_BYTES


def test_a_body_over_the_limit_answers_413_naming_the_limit_and_setting(
    alice: Any, key_client: Callable[..., Any], settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000

    response = announce(key_client(alice), root(alice), manifest(1_000))

    error = assert_error_shape(response, 413, "body_too_large")
    assert "50,000 bytes" in error["message"]
    assert "EM_MAX_JSON_BODY_BYTES" in error["message"]
    assert error["detail"] == {"limit": 50_000, "setting": "EM_MAX_JSON_BODY_BYTES"}


def test_malformed_json_answers_the_error_shape(alice: Any, key_client: Callable[..., Any]) -> None:
    response = key_client(alice).post("/api/v1/uploads", '{"kind": "Run", ', content_type="application/json")
    error = assert_error_shape(response, 400, "parse_error")
    assert "JSON" in error["message"]


def test_an_unsupported_media_type_says_what_to_send(alice: Any, key_client: Callable[..., Any]) -> None:
    response = key_client(alice).post("/api/v1/uploads", "kind=Run", content_type="text/plain")
    error = assert_error_shape(response, 415, "unsupported_media_type")
    assert "application/json" in error["detail"]["accepted"]
    assert "application/json" in error["message"]


def test_too_many_form_fields_answer_the_error_shape(alice: Any, key_client: Callable[..., Any]) -> None:
    limit = django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    body = "&".join(f"f{i}=x" for i in range(limit + 1))
    response = key_client(alice).post("/api/v1/nodes", body, content_type="application/x-www-form-urlencoded")
    error = assert_error_shape(response, 400, "too_many_fields")
    assert error["detail"] == {"limit": limit, "setting": "DATA_UPLOAD_MAX_NUMBER_FIELDS"}


@pytest.mark.django_db(transaction=True)
def test_em_upload_of_a_bundle_too_big_for_one_request_says_what_to_do(
    live_server: Any, alice: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    key = account_services.create_key(user=alice, name="cli-limits")[1]
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "em-config"))
    monkeypatch.setenv(config.HOST_ENV, live_server.url)
    monkeypatch.setenv(config.API_KEY_ENV, key)
    monkeypatch.setenv("COLUMNS", "300")
    bundle = tmp_path / "big-artifact"
    (bundle / "data").mkdir(parents=True)
    (bundle / "metadata.yaml").write_text("kind: Artifact\nname: big-artifact\n")
    for i in range(300):
        (bundle / "data" / f"file-{i:04d}.txt").write_text(str(i))

    result = CliRunner().invoke(main, ["upload", str(bundle), "--folder", "/alice"], catch_exceptions=False)

    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert "answered 400" not in said
    assert "301 files" in said
    assert "Upload its subfolders separately" in said
    assert "EM_MAX_JSON_BODY_BYTES" in said
