"""The source snapshot `em run` keeps with a run (`code.tar.gz`), and its safe extraction by `em reproduce`.

Which files: everything under the source folder except what `.emignore` excludes (gitignore syntax, via
`pathspec`), or `.gitignore` when there is no `.emignore`; `.git/` and `.em/` never. The total is bounded
so a forgotten dataset or checkpoint fails fast with a message naming the biggest files, before the
command runs, instead of silently uploading gigabytes.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path, PurePosixPath

import pathspec

ARCHIVE = "code.tar.gz"
IGNORE_FILES = (".emignore", ".gitignore")
ALWAYS_IGNORED = (".git/", ".em/")
MAX_BYTES = 50 * 1024 * 1024


class SnapshotError(ValueError):
    """The snapshot cannot be made (too big) or an archive is unsafe to extract."""


def _spec(source: Path) -> pathspec.PathSpec:
    lines = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        rules = source / name
        if rules.is_file():
            lines += rules.read_text(encoding="utf-8", errors="replace").splitlines()
            break
    return pathspec.GitIgnoreSpec.from_lines(lines)


def select(source: Path) -> list[tuple[str, int]]:
    """(relative POSIX path, size) of every regular file to keep, sorted; symlinks are left out."""
    spec = _spec(source)
    chosen: list[tuple[str, int]] = []
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath).relative_to(source)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not spec.match_file(f"{(here / d).as_posix()}/") and not (Path(dirpath) / d).is_symlink()
        )
        for name in sorted(filenames):
            relative = (here / name).as_posix()
            path = Path(dirpath) / name
            if spec.match_file(relative) or path.is_symlink() or not path.is_file():
                continue
            chosen.append((relative, path.stat().st_size))
    return chosen


def human_size(n: float) -> str:
    """`512 B`, `3.4 MB`: sizes in messages and progress summaries."""
    unit = "B"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            break
        n /= 1024
    return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"


def write(source: Path, target: Path, limit: int = MAX_BYTES) -> tuple[int, int]:
    """Archive the selected files of `source` into `target`; (files, bytes). SnapshotError past `limit`."""
    files = select(source)
    total = sum(size for _, size in files)
    if total > limit:
        biggest = ", ".join(f"{path} ({human_size(size)})" for path, size in sorted(files, key=lambda f: -f[1])[:3])
        raise SnapshotError(
            f"The source snapshot of {source} would be {human_size(total)}, over the {human_size(limit)} limit. "
            f"Largest files: {biggest}. List what is not code in .emignore (gitignore syntax), "
            "or pass --no-snapshot."
        )
    with tarfile.open(target, "w:gz") as archive:
        for relative, _ in files:
            archive.add(source / relative, arcname=relative, recursive=False)
    return len(files), total


def extract(archive: Path, destination: Path) -> int:
    """Unpack regular files and folders only; absolute paths, `..`, links and devices are refused."""
    count = 0
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            parts = PurePosixPath(member.name).parts
            if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                raise SnapshotError(f"{archive.name} holds an unsafe entry {member.name!r}; nothing was extracted.")
        for member in members:
            tar.extract(member, destination, filter="data")
            count += member.isfile()
    return count
