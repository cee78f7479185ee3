"""Archive uploads: good archives become nodes; hostile ones are refused, naming the member, creating nothing."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from em.models import Blob, Manifest, Node, Run, Upload
from tests.factories import folder, root

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path: Path) -> Path:
    storage = tmp_path / "storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}},
    }
    settings.EM_UPLOAD_SCRATCH_DIR = tmp_path / "scratch"
    return storage


def make_tar(members: list[tuple[tarfile.TarInfo, bytes | None]], compression: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def make_zip(files: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, (2026, 3, 1, 10, 15, 18))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (modes or {}).get(name, 0o100644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def send(client, body: bytes, name: str = "bundle", parent_path: str = "/alice", **params):
    query = "&".join(f"{k}={v}" for k, v in {"parent_path": parent_path, "name": name, "kind": "Run", **params}.items())
    return client.generic(
        "POST",
        f"/api/v1/uploads/archive?{query}",
        body,
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(len(body)),  # the test client leaves it out for an empty body; HTTP clients do not
    )


def nothing_created(scratch: Path, nodes_before: int) -> None:
    assert Node.objects.count() == nodes_before
    assert (Blob.objects.count(), Manifest.objects.count(), Upload.objects.count()) == (0, 0, 0)
    assert [p.name for p in scratch.glob("archive-*")] == []


BUNDLE = {"metadata.yaml": b"kind: Run\nname: r\n", "index.yaml": b"metrics: {}\n", "metrics/train.yaml": b"[]\n"}


@pytest.mark.parametrize("compression", ["", "gz"])
def test_a_tar_becomes_a_run_with_its_files(compression, alice, api):
    body = make_tar([regular(f"./{name}", data) for name, data in BUNDLE.items()], compression)
    response = send(api(alice), body)
    assert response.status_code == 201, response.content
    node = Node.objects.get(pk=response.json()["node"]["id"])
    assert response.json()["node"]["path"] == "/alice/bundle"
    assert Run.objects.filter(node=node, index_state="pending").exists()
    files = api(alice).get(f"/api/v1/nodes/{node.pk}/files").json()
    assert {f["path"]: f["size"] for f in files} == {name: len(data) for name, data in BUNDLE.items()}
    assert b"".join(api(alice).get(f"/api/v1/nodes/{node.pk}/files/index.yaml").streaming_content) == b"metrics: {}\n"


def test_a_zip_becomes_an_artifact_and_the_same_zip_again_is_skipped(alice, api):
    body = make_zip(BUNDLE)
    created = send(api(alice), body, name="art", kind="Artifact", parent_path="/alice/new/place", make_folder="true")
    assert created.status_code == 201, created.content
    assert created.json()["node"]["path"] == "/alice/new/place/art"
    again = send(
        api(alice), body, name="art", kind="Artifact", parent_path="/alice/new/place", conflict_strategy="skip"
    )
    assert again.status_code == 200
    assert again.json() == {"skipped": True, "node": created.json()["node"]}
    clash = send(api(alice), body, name="art", kind="Artifact", parent_path="/alice/new/place")
    assert clash.status_code == 409


def test_strangers_cannot_upload_archives_into_other_trees(alice, bob, api):
    folder(root(alice), "private")
    refused = send(api(bob), make_zip(BUNDLE), parent_path="/alice/private")
    assert refused.status_code == 404
    assert not Blob.objects.exists()


HOSTILE_TARS = {
    "parent escape": ([regular("../evil", b"x")], "../evil", "'..'"),
    "nested escape": ([regular("ok/../../evil", b"x")], "ok/../../evil", "'..'"),
    "absolute": ([regular("/etc/passwd", b"root:x:0:0")], "/etc/passwd", "absolute path"),
    "symlink": ([special("link", tarfile.SYMTYPE, "/etc/passwd")], "link", "is a link"),
    "hardlink": ([regular("a", b"x"), special("b", tarfile.LNKTYPE, "a")], "b", "is a link"),
    "char device": ([special("dev", tarfile.CHRTYPE)], "dev", "device"),
    "block device": ([special("disk", tarfile.BLKTYPE)], "disk", "device"),
    "fifo": ([special("pipe", tarfile.FIFOTYPE)], "pipe", "device"),
    "duplicate": ([regular("a.txt", b"1"), regular("a.txt", b"2")], "a.txt", "appears twice"),
    "backslash": ([regular("a\\b.txt", b"1")], "a\\b.txt", "backslash"),
}


@pytest.mark.parametrize("case", list(HOSTILE_TARS))
def test_hostile_tar_members_are_refused_and_nothing_is_created(case, alice, api, settings):
    members, member, why = HOSTILE_TARS[case]
    before = Node.objects.count()
    response = send(api(alice), make_tar([regular("fine.txt", b"fine"), *members], "gz"))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "unsafe_archive"
    assert error["detail"] == {"member": member}
    assert why in error["message"] and repr(member) in error["message"]
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)


def test_more_files_than_the_cap_are_refused(alice, api, settings):
    settings.EM_MAX_FILES_PER_UPLOAD = 10_000
    before = Node.objects.count()
    body = make_tar([regular(f"f{i:05d}", b"") for i in range(10_001)])
    response = send(api(alice), body)
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"member": "f10000"}
    assert "limit of 10000 files" in response.json()["error"]["message"]
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)


def test_more_bytes_than_the_cap_are_refused_before_they_are_inflated(alice, api, settings):
    settings.EM_MAX_UPLOAD_BYTES = 1024 * 1024
    before = Node.objects.count()
    for body in (
        make_zip({"zeros.bin": bytes(2 * 1024 * 1024)}),
        make_tar([regular("zeros.bin", bytes(2 * 1024 * 1024))], "gz"),
    ):
        assert len(body) < 1024 * 1024  # the archive is small; what it inflates to is not
        response = send(api(alice), body)
        assert response.status_code == 400
        assert response.json()["error"]["detail"] == {"member": "zeros.bin"}
        assert "past 1048576 bytes" in response.json()["error"]["message"]
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)


def _lie_about_size(body: bytes, declared: int) -> bytes:
    """Rewrite a one-member zip so both of its headers declare `declared` uncompressed bytes."""
    patched = bytearray(body)
    local = patched.index(b"PK\x03\x04")
    central = patched.index(b"PK\x01\x02")
    struct.pack_into("<I", patched, local + 22, declared)
    struct.pack_into("<I", patched, central + 24, declared)
    return bytes(patched)


def test_a_zip_member_that_lies_about_its_size_is_refused(alice, api, settings):
    before = Node.objects.count()
    body = _lie_about_size(make_zip({"bomb.bin": bytes(10 * 1024 * 1024)}), declared=1000)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.getinfo("bomb.bin").file_size == 1000
    response = send(api(alice), body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["detail"]) == ("unsafe_archive", {"member": "bomb.bin"})
    assert "declared size or checksum" in error["message"]
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)


HOSTILE_ZIPS = {
    "parent escape": ({"../evil": b"x"}, {}, "../evil", "'..'"),
    "absolute": ({"/etc/passwd": b"x"}, {}, "/etc/passwd", "absolute path"),
    "windows drive": ({"C:/Windows/evil": b"x"}, {}, "C:/Windows/evil", "absolute path"),
    "symlink": ({"link": b"/etc/passwd"}, {"link": 0o120777}, "link", "is a link"),
    "device": ({"dev": b""}, {"dev": 0o020644}, "dev", "device"),
    "duplicate": ({"a.txt": b"1", "b.txt": b"2"}, {}, "a.txt", "appears twice"),
}


@pytest.mark.parametrize("case", list(HOSTILE_ZIPS))
def test_hostile_zip_members_are_refused_and_nothing_is_created(case, alice, api, settings):
    files, modes, member, why = HOSTILE_ZIPS[case]
    body = make_zip(files, modes)
    if case == "duplicate":
        body = body.replace(b"b.txt", b"a.txt")
    before = Node.objects.count()
    response = send(api(alice), body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["detail"] == {"member": member}
    assert why in response.json()["error"]["message"]
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)


@pytest.mark.parametrize("body", [b"", b"not an archive at all", b"PK\x03\x04truncated", b"\x1f\x8b\x08broken gzip"])
def test_what_is_not_an_archive_is_refused(body, alice, api, settings):
    before = Node.objects.count()
    response = send(api(alice), body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsafe_archive"
    nothing_created(Path(settings.EM_UPLOAD_SCRATCH_DIR), before)
