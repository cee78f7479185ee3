"""Diff between two versions: files added, changed (other content) and removed, with their sizes.

Two queries (one per side) and a walk in memory; a change of mtime alone is no change of content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Version
from .files import entries_of


@dataclass
class Diff:
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "bytes_added": sum(f["size"] for f in self.added),
            "bytes_removed": sum(f["size"] for f in self.removed),
            "bytes_changed": sum(f["size"] - f["old_size"] for f in self.changed),
        }


def diff(old: Version | None, new: Version | None) -> Diff:
    """What turns `old` into `new` (None is an empty version: a branch without commits)."""
    before = entries_of(old.manifest_id if old is not None else None)
    after = entries_of(new.manifest_id if new is not None else None)
    out = Diff()
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a is None and b is not None:
            out.added.append({"path": path, "size": b["size"], "sha256": b["sha256"]})
        elif b is None and a is not None:
            out.removed.append({"path": path, "size": a["size"], "sha256": a["sha256"]})
        elif a is not None and b is not None and a["sha256"] != b["sha256"]:
            out.changed.append(
                {
                    "path": path,
                    "old_size": a["size"],
                    "size": b["size"],
                    "old_sha256": a["sha256"],
                    "sha256": b["sha256"],
                }
            )
    return out
