"""Run bundles for the indexing tests: real blobs in the default storage, a real manifest, a Run node
made by the node service — what an upload leaves behind, without going through the upload API."""

from __future__ import annotations

import hashlib
from typing import Any

import yaml
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from em.models import Blob, Kind, Manifest, ManifestEntry, Node
from em.services.blobs import storage_name
from em.services.nodes import create_node

# The example of ARCHITECTURE.md "Bundles", with the files around it.
EXAMPLE_VAL = """\
- value:
    loss: 0.25
    accuracy: 0.9
  sequence:
    epoch: 2
    step: 200
    timestamp: '2026-03-01T10:15:19.008778+08:00'
- value:
    loss: 0.3
  sequence:
    epoch: null
    step: 250
    timestamp: '2026-03-01T10:15:20.112001+08:00'
"""


def example_bundle(**overrides: bytes | str | None) -> dict[str, bytes]:
    """path → bytes of a small complete bundle; an override replaces a file (None removes it)."""
    files: dict[str, Any] = {
        "metadata.yaml": yaml.safe_dump(
            {
                "kind": "Run",
                "name": "mnist",
                "labels": ["demo"],
                "description": "",
                "startTimestamp": "2026-03-01T10:00:00.000000+08:00",
                "endTimestamp": "2026-03-01T10:20:00.500000+08:00",
                "status": "Complete",
                "alternativeName": "mnist_260301_100000_a1b2c3",
                "associations": {"input": [], "output": []},
                "remote": [],
            },
            sort_keys=False,
        ),
        "index.yaml": yaml.safe_dump(
            {
                "hyperparameters": "hyperparameters.yaml",
                "metrics": {"train": "metrics/train.yaml", "val": "metrics/val.yaml"},
                "platform": "platform.yaml",
                "git": "git.yaml",
                "log": "stdout.log",
            },
            sort_keys=False,
        ),
        "hyperparameters.yaml": "lr: 0.001\nbatch_size: 64\n"
        "optimizer:\n  name: adam\n  lr: 0.01\n  betas: [0.9, 0.999]\n",
        "metrics/train.yaml": metric_file([(0, 0, {"loss": 2.3}), (100, 1, {"loss": 1.2}), (150, 1, {"loss": 0.7})]),
        "metrics/val.yaml": EXAMPLE_VAL,
        "platform.yaml": "hostname: gpu-1\nos: Linux\npython: 3.11.7\npypkgs:\n  torch: 2.3.0\nframework: torch\n",
        "git.yaml": "repo_path: /src/mnist\nremote_url: https://example.com/mnist.git\nbranch: main\n"
        "commit: 0123abc\nis_dirty: false\nentrypoint: train.py\n",
        "stdout.log": "epoch 1\nepoch 2\n",
    }
    for path, content in overrides.items():
        path = path.replace("__", "/")
        if content is None:
            files.pop(path, None)
        else:
            files[path] = content
    return {path: content.encode() if isinstance(content, str) else content for path, content in files.items()}


def metric_file(entries: list[tuple[int, int | None, dict[str, float]]], *, sort_keys: bool = False) -> str:
    """A metrics file as the SDK writes it: `yaml.safe_dump` of {value, sequence} points."""
    points = [
        {
            "value": values,
            "sequence": {"epoch": epoch, "step": step, "timestamp": f"2026-03-01T10:{step % 60:02d}:00.000001+08:00"},
        }
        for step, epoch, values in entries
    ]
    return yaml.safe_dump(points, sort_keys=sort_keys)


def store_files(files: dict[str, bytes]) -> Manifest:
    """Blobs in the default storage (named by their real SHA-256) and a manifest listing them."""
    entries = []
    for path, data in sorted(files.items()):
        sha = hashlib.sha256(data).hexdigest()
        blob = Blob.objects.filter(pk=sha).first()
        if blob is None:
            name = storage_name(sha)
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(data))
            blob = Blob.objects.create(sha256=sha, md5=hashlib.md5(data).hexdigest(), size=len(data), storage_name=name)  # noqa: S324
        entries.append((path, blob, len(data)))
    digest = hashlib.sha256("".join(f"{p}\t{b.pk}\n" for p, b, _ in entries).encode()).hexdigest()
    manifest, created = Manifest.objects.get_or_create(
        digest=digest, defaults={"file_count": len(entries), "total_size": sum(size for _, _, size in entries)}
    )
    if created:
        ManifestEntry.objects.bulk_create(
            [ManifestEntry(manifest=manifest, path=p, blob=b, size=size) for p, b, size in entries]
        )
    return manifest


def run_node(parent: Node, name: str, files: dict[str, bytes]) -> Node:
    """A Run node made by the node service, holding `files`."""
    node = create_node(parent=parent, name=name, kind=Kind.RUN, by=parent.owner)
    return replace_files(node, files)


def replace_files(node: Node, files: dict[str, bytes]) -> Node:
    node.manifest = store_files(files)
    node.save(update_fields=["manifest"])
    return node
