"""Checks on what users type: node names, labels, descriptions, client-owned JSON, file paths.

Text is refused, not cleaned, when PostgreSQL could not store it (NUL, lone surrogates) or when it
could show a reader something other than what is stored (bidi controls in paths). JSON a client owns
is checked in one walk for all of that plus its depth, so every entry point refuses the same things
with the same words.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from em import errors

MAX_NAME_LENGTH = 255
MAX_LABELS = 64
MAX_LABEL_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 20_000
MAX_EXTRA_BYTES = 64 * 1024
MAX_PATH_BYTES = 1024
# Deeper JSON is no one's data; it is also where parsers and recursive code run out of stack.
MAX_JSON_DEPTH = 64
# Controls that reorder how text is shown (Trojan Source): a path holding one reads as another path.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# `C:/x` and the drive-relative `C:x` alike: Windows would read either as a place outside the node.
_DRIVE = re.compile(r"^[A-Za-z]:")


class InvalidPath(errors.InvalidInput):
    code = "invalid_path"


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored as text (a NUL or a lone surrogate), or None when it can."""
    if "\x00" in text:
        return "contains a NUL character"
    if text.isascii():  # most text, answered in C; below, UTF-8 refuses exactly the surrogates
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate (U+{ord(text[exc.start]):04X}), which is not Unicode text"
    return None


def check_text(text: str, what: str) -> str:
    """`text` if it can be stored; InvalidInput naming `what` otherwise."""
    why = unstorable(text)
    if why is not None:
        raise errors.InvalidInput(f"{what} {why}.", detail={"field": what})
    return text


def check_json(value: Any, what: str) -> Any:
    """`value` if it is JSON every store keeps as sent: strings and keys storable, numbers finite, at most
    MAX_JSON_DEPTH levels. Walked without recursion, so no nesting can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, what, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise errors.InvalidInput(
                f"{what} nests deeper than {MAX_JSON_DEPTH} levels.", detail={"field": what, "depth": MAX_JSON_DEPTH}
            )
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise errors.InvalidInput(f"{where} is {item}; JSON numbers must be finite.", detail={"field": where})
        elif isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise errors.InvalidInput(f"{where} has a key that is not a string.", detail={"field": where})
                check_text(key, f"a key of {where}")
                stack.append((inner, f"{where}.{key[:50]}", depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]", depth + 1) for i, inner in enumerate(item))
        elif item is not None and not isinstance(item, bool | int):
            raise errors.InvalidInput(f"{where} is not JSON.", detail={"field": where})
    return value


def json_object(value: Any, what: str, max_bytes: int) -> dict[str, Any]:
    """A client-owned JSON object: checked by `check_json` and at most `max_bytes` as JSON text."""
    if not isinstance(value, dict):
        raise errors.InvalidInput(f"{what} must be a JSON object.")
    check_json(value, what)
    size = len(json.dumps(value).encode())
    if size > max_bytes:
        raise errors.InvalidInput(f"{what} must be at most {max_bytes // 1024} KiB of JSON.")
    return value


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
    bad = next((ch for ch in name if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"}), None)
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
        if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in label):
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
    return check_text(description, "The description")


def validate_extra(extra: Any) -> dict[str, Any]:
    return json_object(extra, "`extra`", MAX_EXTRA_BYTES)


def validate_path(path: Any) -> str:
    """A file's path inside a node, in NFC: relative POSIX, no `..`/`.`/empty parts, no backslash, drive
    letter, control or bidi character.

    NFC because macOS writes names decomposed (NFD) and Linux keeps them as typed: the same name must be
    one path, so a manifest listing both spellings is refused as a duplicate rather than stored twice.
    """
    if not isinstance(path, str) or not path:
        raise InvalidPath("A file path must be a non-empty string.")
    shown = path[:200].encode("utf-8", "backslashreplace").decode()
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidPath(f"{shown!r}…: a file path must be at most {MAX_PATH_BYTES} bytes.", detail={"path": shown})
    if path.startswith("/"):
        raise InvalidPath(f"{shown!r} is absolute; paths are relative to the node.", detail={"path": shown})
    if "\\" in path:
        raise InvalidPath(f"{shown!r} contains a backslash; separate folders with '/'.", detail={"path": shown})
    if _DRIVE.match(path):
        raise InvalidPath(
            f"{shown!r} starts with a drive letter; paths are relative to the node.", detail={"path": shown}
        )
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in path):
        raise InvalidPath(f"{shown!r} contains a control character (or NUL).", detail={"path": shown})
    bidi = next((ch for ch in path if ch in BIDI_CONTROLS), None)
    if bidi is not None:
        raise InvalidPath(
            f"{shown!r} contains the bidirectional control U+{ord(bidi):04X}, which makes a path read as another.",
            detail={"path": shown},
        )
    if any(part in {"", ".", ".."} for part in path.split("/")):
        raise InvalidPath(f"{shown!r} has an empty, '.' or '..' part.", detail={"path": shown})
    return unicodedata.normalize("NFC", path)
