"""Checks on what users type: node names, labels, descriptions, client-owned JSON, file paths."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from em import errors

MAX_NAME_LENGTH = 255
MAX_LABELS = 64
MAX_LABEL_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 20_000
MAX_EXTRA_BYTES = 64 * 1024
MAX_PATH_BYTES = 1024


class InvalidPath(errors.InvalidInput):
    code = "invalid_path"


def validate_name(name: Any) -> str:
    """A node name as it will be stored, or InvalidName saying exactly what is wrong."""
    if not isinstance(name, str) or name == "":
        raise errors.InvalidName("A name must not be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise errors.InvalidName(f"A name must be at most {MAX_NAME_LENGTH} characters (this has {len(name)}).")
    if "/" in name:
        raise errors.InvalidName("A name must not contain '/': it separates the parts of a path.")
    if name in {".", ".."}:
        raise errors.InvalidName(f"{name!r} is not allowed as a name.")
    bad = next((ch for ch in name if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}), None)
    if bad is not None:
        raise errors.InvalidName(f"A name must not contain control characters (found U+{ord(bad):04X}).")
    if name != name.strip():
        raise errors.InvalidName("A name must not start or end with white space.")
    return unicodedata.normalize("NFC", name)


def validate_labels(labels: Any) -> list[str]:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise errors.InvalidInput("Labels must be a list of strings.")
    cleaned: list[str] = []
    for label in labels:
        label = label.strip()
        if not label or len(label) > MAX_LABEL_LENGTH:
            raise errors.InvalidInput(f"Each label must have 1 to {MAX_LABEL_LENGTH} characters.")
        if any(unicodedata.category(ch) == "Cc" for ch in label):
            raise errors.InvalidInput("Labels must not contain control characters.")
        if label not in cleaned:
            cleaned.append(label)
    if len(cleaned) > MAX_LABELS:
        raise errors.InvalidInput(f"A node may have at most {MAX_LABELS} labels.")
    return cleaned


def validate_description(description: Any) -> str:
    if not isinstance(description, str):
        raise errors.InvalidInput("The description must be a string.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise errors.InvalidInput(f"The description must be at most {MAX_DESCRIPTION_LENGTH} characters.")
    return description


def validate_extra(extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        raise errors.InvalidInput("`extra` must be a JSON object.")
    try:
        size = len(json.dumps(extra, allow_nan=False).encode())
    except ValueError as exc:
        raise errors.InvalidInput("`extra` must be plain JSON (no NaN or infinity).") from exc
    if size > MAX_EXTRA_BYTES:
        raise errors.InvalidInput(f"`extra` must be at most {MAX_EXTRA_BYTES // 1024} KiB of JSON.")
    return extra


def validate_path(path: Any) -> str:
    """A file's path inside a node: relative POSIX, no `..`/`.`/empty parts, no backslash or control chars."""
    if not isinstance(path, str) or not path:
        raise InvalidPath("A file path must be a non-empty string.")
    shown = path[:200]
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidPath(f"{shown!r}…: a file path must be at most {MAX_PATH_BYTES} bytes.", detail={"path": shown})
    if path.startswith("/"):
        raise InvalidPath(f"{shown!r} is absolute; paths are relative to the node.", detail={"path": shown})
    if "\\" in path:
        raise InvalidPath(f"{shown!r} contains a backslash; separate folders with '/'.", detail={"path": shown})
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in path):
        raise InvalidPath(f"{shown!r} contains a control character (or NUL).", detail={"path": shown})
    if any(part in {"", ".", ".."} for part in path.split("/")):
        raise InvalidPath(f"{shown!r} has an empty, '.' or '..' part.", detail={"path": shown})
    return path
