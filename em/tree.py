"""Materialised paths for the node tree.

A node's `path` is its ancestors' segments followed by its own: fixed-width base-36 numbers, one per
level (`00001` `000010000A` …). With that encoding

* the ancestors of a node are `path IN (every prefix)` — one indexed query whatever the depth;
* its subtree is the range `path >= p AND path < p + "~"` — one index range scan ("~" sorts after every
  segment character under the binary collation the migration gives the column on PostgreSQL; SQLite
  compares bytes already). A range, unlike `LIKE 'p%'`, stays on the index on both databases;
* a move is one `UPDATE … SET path = new_prefix || substr(path, len(old_prefix) + 1)`.

A segment is the position among siblings, so it is unique among siblings and never needs to change
except for the moved node itself.
"""

from __future__ import annotations

import string
from typing import Any, Protocol

STEP = 5
ALPHABET = string.digits + string.ascii_uppercase
BASE = len(ALPHABET)
MAX_SEGMENT = BASE**STEP - 1
# Depth counts levels below a user's root folder; ARCHITECTURE.md allows 64.
MAX_DEPTH = 64
MAX_PATH_LENGTH = STEP * (MAX_DEPTH + 1)
RANGE_END = "~"


class Placed(Protocol):
    """Where a node is: a loaded `Node`, or a row of its column values read without building one (the
    run search presents 100 rows a page from plain values, `em.runs.selectors.RowValues`)."""

    @property
    def pk(self) -> Any: ...

    @property
    def path(self) -> str: ...


def encode(number: int) -> str:
    """The fixed-width segment for a sibling position (1-based)."""
    if not 0 < number <= MAX_SEGMENT:
        raise ValueError(f"segment number {number} out of range")
    digits = []
    for _ in range(STEP):
        number, rest = divmod(number, BASE)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def decode(segment: str) -> int:
    return int(segment, BASE)


def next_segment(last_sibling_path: str | None) -> str:
    """The segment after the last sibling's (the first one when there are none)."""
    if last_sibling_path is None:
        return encode(1)
    return encode(decode(last_sibling_path[-STEP:]) + 1)


def ancestor_paths(path: str) -> list[str]:
    """Every prefix of `path`, root first, the path itself last."""
    return [path[:end] for end in range(STEP, len(path) + 1, STEP)]


def parent_path(path: str) -> str | None:
    return path[:-STEP] or None


def depth_of(path: str) -> int:
    """Levels below the root: a root folder has depth 0."""
    return len(path) // STEP - 1


def subtree_range(path: str) -> tuple[str, str]:
    """Bounds (inclusive, exclusive) of the paths of `path` and all its descendants."""
    return path, path + RANGE_END


def is_within(path: str, ancestor: str) -> bool:
    """Whether `path` is `ancestor` itself or below it."""
    return path.startswith(ancestor)
