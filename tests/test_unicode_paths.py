"""File paths that read as something they are not (issue 9, "Limits and errors"): Windows drive letters,
bidirectional controls (Trojan Source), and the same name spelled NFC and NFD. Drive letters and bidi
controls are refused; names are stored in NFC, so two spellings of one name are one path and a
manifest listing both is refused as a duplicate.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from em.services.validation import BIDI_CONTROLS, InvalidPath, validate_path
from tests.factories import folder, root

NFC_NAME = "caf\u00e9.txt"
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)


@pytest.mark.parametrize("path", ["C:/x", "c:/Windows/system32", "C:x", "Z:"])
def test_drive_letters_are_refused(path: str) -> None:
    with pytest.raises(InvalidPath, match="drive letter"):
        validate_path(path)


@pytest.mark.parametrize("control", sorted(BIDI_CONTROLS))
def test_bidi_controls_are_refused(control: str) -> None:
    with pytest.raises(InvalidPath, match=f"U\\+{ord(control):04X}"):
        validate_path(f"invoice{control}txt.exe")


def test_every_bidi_control_of_the_issue_is_covered() -> None:
    wanted = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
    assert wanted <= BIDI_CONTROLS


def test_a_decomposed_name_is_stored_composed() -> None:
    assert NFD_NAME != NFC_NAME
    assert validate_path(f"dir/{NFD_NAME}") == f"dir/{NFC_NAME}"


def test_a_colon_later_in_a_path_is_an_ordinary_character() -> None:
    assert validate_path("logs/12:00.txt") == "logs/12:00.txt"


# Pieces that make the interesting cases likely (separators, drive-like prefixes, dots, NUL, bidi
# controls, a decomposed and a composed é), mixed with any character at all.
PIECES = ["/", ".", "..", "\\", "C:", "a", "\x00", "\u202e", "\u2066", "e\u0301", "\u00e9", " "]
PATH_TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=20).map("".join)


@given(PATH_TEXT)
def test_any_text_is_either_refused_or_a_clean_relative_nfc_path(text: str) -> None:
    try:
        path = validate_path(text)
    except InvalidPath:
        return
    assert path == unicodedata.normalize("NFC", path)
    assert validate_path(path) == path
    assert not path.startswith("/") and "\\" not in path
    assert not (len(path) >= 2 and path[1] == ":" and path[0].isascii() and path[0].isalpha())
    assert not any(ch in BIDI_CONTROLS or unicodedata.category(ch) in {"Cc", "Cs"} for ch in path)
    assert all(part not in {"", ".", ".."} for part in path.split("/"))


def _entry(path: str, data: bytes) -> dict[str, Any]:
    return {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "mtime": None}


@pytest.mark.django_db
def test_a_manifest_naming_one_file_in_nfc_and_nfd_is_refused(alice: Any, api: Any) -> None:
    parent = folder(root(alice), "f")
    files = [_entry(f"d/{NFC_NAME}", b"one"), _entry(f"d/{NFD_NAME}", b"two")]
    response = api(alice).post(
        "/api/v1/uploads", {"kind": "Artifact", "parent": str(parent.pk), "name": "a", "files": files}, format="json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_path"
    assert "listed twice" in error["message"]


@pytest.mark.django_db
def test_an_uploaded_nfd_name_is_listed_in_nfc(alice: Any, api: Any) -> None:
    client = api(alice)
    parent = folder(root(alice), "f")
    data = b"bytes"
    sha = hashlib.sha256(data).hexdigest()
    assert client.put(f"/api/v1/blobs/{sha}", data, content_type="application/octet-stream").status_code == 201
    start = client.post(
        "/api/v1/uploads",
        {"kind": "Artifact", "parent": str(parent.pk), "name": "a", "files": [_entry(NFD_NAME, data)]},
        format="json",
    )
    assert start.status_code == 201, start.content
    node = client.post(f"/api/v1/uploads/{start.json()['id']}/commit").json()["node"]
    listed = client.get(f"/api/v1/nodes/{node['id']}/files").json()
    assert [f["path"] for f in listed] == [NFC_NAME]
    for spelling in (NFC_NAME, NFD_NAME):  # a download by either spelling finds the one file
        download = client.get(f"/api/v1/nodes/{node['id']}/files/{quote(spelling)}")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == data


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["C:/Windows/evil.dll", "a/\u202eexe.txt"])
def test_uploads_refuse_drive_letters_and_bidi_controls(path: str, alice: Any, api: Any) -> None:
    parent = folder(root(alice), "f")
    response = api(alice).post(
        "/api/v1/uploads",
        {"kind": "Artifact", "parent": str(parent.pk), "name": "a", "files": [_entry(path, b"x")]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_path"
