"""Artifacts: a folder of files (a dataset, a checkpoint) that runs mark as their input or output.

`create_artifact` writes `.em/artifacts/<alternativeName>/` at once, with its `metadata.yaml`; files
are copied in as they are added, so the folder is a complete bundle at every moment and `em upload`
can send it (as it does, once, before any run that references it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from em.client.sdk import bundle


class Artifact:
    """A local artifact folder; see `create_artifact`."""

    def __init__(self, folder: Path, metadata: dict[str, Any]) -> None:
        self.folder = folder
        self.metadata = metadata

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def alternative_name(self) -> str:
        return str(self.metadata["alternativeName"])

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, folder={str(self.folder)!r})"

    def add_file(self, path: str | Path, obj_path: str | None = None) -> str:
        """Copy a file into the artifact (at `obj_path`, default its base name); returns where it went."""
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"{source} is not a file.")
        target = self._target(obj_path or source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return target.relative_to(self.folder).as_posix()

    def add_dir(self, path: str | Path, obj_path: str | None = None) -> str:
        """Copy a directory tree into the artifact (at `obj_path`, default its base name)."""
        source = Path(path)
        if not source.is_dir():
            raise NotADirectoryError(f"{source} is not a directory.")
        target = self._target(obj_path or source.resolve().name)
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=False)
        return target.relative_to(self.folder).as_posix()

    def add_reference(self, uri: str, obj_path: str) -> None:
        """Record a file kept elsewhere (`s3://...`) without copying it, in `references.yaml`."""
        self._target(obj_path)  # validates the path
        file = self.folder / bundle.REFERENCES
        references = bundle.read_yaml(file) if file.exists() else {}
        references[obj_path] = uri
        bundle.write_yaml(file, references)

    def _target(self, obj_path: str) -> Path:
        parts = PurePosixPath(obj_path.replace("\\", "/")).parts
        if not parts or parts[0] == "/" or ".." in parts:
            raise ValueError(f"{obj_path!r} must be a relative path inside the artifact.")
        if parts[0] in {bundle.METADATA, bundle.REFERENCES}:
            raise ValueError(f"{obj_path!r} is reserved for the artifact's own records.")
        return self.folder.joinpath(*parts)

    def association(self, run_folder: Path) -> dict[str, Any]:
        """How a run's `metadata.yaml` points at this artifact: by name and local folder."""
        try:
            local = Path(os.path.relpath(self.folder.resolve(), run_folder.resolve()))
        except ValueError:  # another drive, on Windows
            local = self.folder.resolve()
        return {
            "kind": "Artifact",
            "name": self.name,
            "alternativeName": self.alternative_name,
            "localDir": local.as_posix(),
        }


def create_artifact(
    name: str,
    *,
    labels: list[str] | None = None,
    description: str = "",
    base_dir: str | Path | None = None,
) -> Artifact:
    """Start an artifact in `<base_dir or cwd>/.em/artifacts/<name>_<yymmdd>_<HHMMSS>_<suffix>/`."""
    alternative = bundle.folder_name(name)
    folder = Path(base_dir or Path.cwd()) / bundle.EM_DIR / bundle.ARTIFACTS_DIR / alternative
    folder.mkdir(parents=True)
    metadata: dict[str, Any] = {
        "kind": "Artifact",
        "name": name,
        "labels": list(labels or []),
        "description": description,
        "createdTimestamp": bundle.now(),
        "alternativeName": alternative,
        "remote": [],
    }
    bundle.write_yaml(folder / bundle.METADATA, metadata)
    return Artifact(folder, metadata)
