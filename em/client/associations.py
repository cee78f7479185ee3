"""What a bundle's `associations` entry names, for `em upload`: a node reference, or a local artifact folder.

Entries come in three spellings: a string (a node id, a path, `path:ref`), a mapping naming a node
(`{id}` or `{path}`, with an optional `ref`), or a local artifact (`{kind: Artifact, name,
alternativeName, localDir}`). Our SDK writes `localDir` relative to the run folder; the T9k `t9k.em` SDK
writes it relative to the working directory the run was recorded in (`.em/artifacts/<name>_<date>_<id>`),
so the folder is looked for both ways, and then by its `alternativeName` beside the run's `.em` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from em.client.sdk.bundle import ARTIFACTS_DIR, EM_DIR, METADATA


def reference(entry: Any) -> str | None:
    """The node reference an entry holds (id or path, `:ref` appended when given), or None."""
    if isinstance(entry, str):
        return entry.strip() or None
    if not isinstance(entry, dict):
        return None
    node = entry.get("id") or entry.get("path")
    if not node:
        return None
    ref = entry.get("ref")
    return f"{node}:{ref}" if ref else str(node)


def em_folder(run_folder: Path) -> Path | None:
    """The `.em` folder holding a bundle (`<cwd>/.em/runs/<name>`), if it lies in one."""
    for parent in run_folder.resolve().parents:
        if parent.name == EM_DIR:
            return parent
    return None


def candidates(run_folder: Path, entry: dict[str, Any], cwd: Path | None = None) -> list[Path]:
    """Where the artifact of a `localDir` entry may be, most likely first (duplicates dropped)."""
    local = Path(str(entry.get("localDir") or ""))
    if local.is_absolute():
        return [local]
    places = [run_folder / local]
    dot_em = em_folder(run_folder)
    if dot_em is not None:
        places.append(dot_em.parent / local)  # the t9k SDK: relative to where the run was recorded
    places.append((cwd or Path.cwd()) / local)
    alternative = entry.get("alternativeName")
    if dot_em is not None and isinstance(alternative, str) and alternative and "/" not in alternative:
        places.append(dot_em / ARTIFACTS_DIR / alternative)  # the working directory has moved
    unique: dict[Path, Path] = {}
    for place in places:
        unique.setdefault(place.resolve(), place)
    return list(unique)


def artifact_folder(run_folder: Path, entry: dict[str, Any], cwd: Path | None = None) -> Path:
    """The first candidate that is an artifact bundle (holds metadata.yaml); else the first candidate,
    which the caller reports as missing."""
    places = candidates(run_folder, entry, cwd)
    for place in places:
        if (place / METADATA).is_file():
            return place
    return places[0]
