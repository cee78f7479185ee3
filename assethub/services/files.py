"""A version's files as plain data: what commits, diffs and merges compute with."""

from __future__ import annotations

from typing import Any

from em.models import ManifestEntry

Entry = dict[str, Any]  # {path, sha256, size, mtime: ISO text or None}, as em.services.uploads.manifest_for takes


def entries_of(manifest_id: int | None) -> dict[str, Entry]:
    """path → entry of a manifest, in one query (no blob rows: the digest is the entry's own column)."""
    if manifest_id is None:
        return {}
    rows = ManifestEntry.objects.filter(manifest_id=manifest_id).values_list("path", "blob_id", "size", "mtime")
    return {
        path: {"path": path, "sha256": sha256, "size": size, "mtime": mtime.isoformat() if mtime else None}
        for path, sha256, size, mtime in rows
    }
