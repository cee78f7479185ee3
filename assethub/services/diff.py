"""Diff between two versions: files added, changed (other content) and removed, with their sizes.

Two queries, one per side, each returning only the entries the other side does not hold with the same
content (an index lookup per entry on (manifest, path), done by the database), so two 10,000-file
versions that differ in a hundred files move a hundred rows, not twenty thousand. A change of mtime
alone is no change of content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef

from em.models import ManifestEntry

from ..models import Version


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
    old_id = old.manifest_id if old is not None else None
    new_id = new.manifest_id if new is not None else None
    out = Diff()
    if old_id == new_id:
        return out
    before, after = _only_in(old_id, new_id), _only_in(new_id, old_id)
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


def _only_in(manifest_id: int | None, other_id: int | None) -> dict[str, dict[str, Any]]:
    """path → {size, sha256} of the entries of `manifest_id` that `other_id` lacks or holds with other bytes."""
    if manifest_id is None:
        return {}
    entries = ManifestEntry.objects.filter(manifest_id=manifest_id)
    if other_id is not None:
        same = ManifestEntry.objects.filter(manifest_id=other_id, path=OuterRef("path"), blob_id=OuterRef("blob_id"))
        entries = entries.exclude(Exists(same))
    return {
        path: {"size": size, "sha256": sha256} for path, sha256, size in entries.values_list("path", "blob_id", "size")
    }
