"""An artifact's external references: `references.yaml` (`obj_path: uri`), as the T9k SDK writes it.

A reference names a file kept elsewhere (`s3://bucket/key`, `https://...`) under the path it would have
in the artifact. EM stores the YAML file like any other, but shows its entries as references, never as
files: they have no bytes here to download. A malformed file is reported as a problem next to whatever
could be read, so one bad line never hides the artifact's files or answers a server error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from em.models import Node
from em.services import blobs

from . import yaml_safety

REFERENCES_FILE = "references.yaml"
MAX_REFERENCES_BYTES = 4 << 20
MAX_TEXT = 4096


@dataclass
class References:
    """The entries, in path order, and why any were left out (None when the file read cleanly)."""

    entries: list[dict[str, str]] = field(default_factory=list)
    problem: str | None = None


def references_of(node: Node) -> References:
    """The external references of `node`: empty when it holds no references.yaml."""
    entry = blobs.manifest_files(node).get(REFERENCES_FILE)
    if entry is None:
        return References()
    if entry.size > MAX_REFERENCES_BYTES:
        return References(problem=f"{REFERENCES_FILE} is {entry.size:,} bytes; at most {MAX_REFERENCES_BYTES:,}.")
    with blobs.open_blob(entry.blob_id) as stream:
        data = stream.read(MAX_REFERENCES_BYTES + 1)
    try:
        loaded = yaml_safety.load(data)
    except yaml_safety.YAMLRefused as exc:
        return References(problem=f"{REFERENCES_FILE}: {exc}")
    if loaded is None:
        return References()
    if not isinstance(loaded, dict):
        return References(problem=f"{REFERENCES_FILE} must map each path to a URI (obj_path: uri).")
    out = References()
    for path, uri in loaded.items():
        if not isinstance(path, str) or not isinstance(uri, str) or not path or len(path) + len(uri) > MAX_TEXT:
            out.problem = f"{REFERENCES_FILE}: entries must be `path: uri` texts; {str(path)[:100]!r} is not."
            continue
        if "\x00" in path or "\x00" in uri:
            out.problem = f"{REFERENCES_FILE}: {path[:100]!r} holds a NUL character."
            continue
        out.entries.append({"path": path, "uri": uri})
    out.entries.sort(key=lambda e: e["path"])
    return out
