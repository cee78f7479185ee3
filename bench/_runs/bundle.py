"""A realistic run bundle of N metric points, in the layout of ARCHITECTURE.md "Bundles", in the blob store.

The metric files are what the SDK appends, one `yaml.safe_dump([point], sort_keys=False)` block per
`run.log()` call; the blocks are formatted from a template whose text is checked against PyYAML's on a
sample, because PyYAML's emitter would take ten times longer than the indexing being timed.
Four metrics are logged per call; 80% of the points go to `train`, 20% to `val`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

NAMES = ("loss", "accuracy", "lr", "grad_norm")
STEPS_PER_EPOCH = 1000
CHECK_EVERY = 997  # compare with PyYAML's own output on this sample of the entries
CST = timezone(timedelta(hours=8))


def points(stage: str, calls: int) -> Iterator[dict[str, Any]]:
    """`calls` logged entries of one stage, as the SDK writes them."""
    start = datetime(2026, 3, 1, 10, 0, tzinfo=CST)
    every = 1 if stage == "train" else 4
    for call in range(calls):
        step = call * every
        progress = step / (calls * every)
        yield {
            "value": {
                "loss": round(2.3 * (1 - progress) + 0.05 + (call % 7) * 0.001, 6),
                "accuracy": round(0.1 + 0.85 * progress - (call % 5) * 0.0005, 6),
                "lr": round(0.001 * (1 - progress) + 1e-6, 9),
                "grad_norm": round(1.0 + (call % 13) * 0.01, 4),
            },
            "sequence": {
                "epoch": step // STEPS_PER_EPOCH,
                "step": step,
                "timestamp": (start + timedelta(milliseconds=step * 37)).isoformat(),
            },
        }


BLOCK = """\
- value:
    loss: {loss}
    accuracy: {accuracy}
    lr: {lr}
    grad_norm: {grad_norm}
  sequence:
    epoch: {epoch}
    step: {step}
    timestamp: '{timestamp}'
"""


def yaml_float(value: float) -> str:
    """A float as PyYAML's SafeRepresenter writes it (finite values)."""
    text = repr(value).lower()
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def block(entry: dict[str, Any]) -> str:
    """`yaml.safe_dump([entry], sort_keys=False)`, formatted directly (checked against it on a sample)."""
    return BLOCK.format(**{k: yaml_float(v) for k, v in entry["value"].items()}, **entry["sequence"])


def write_metrics(path: Path, stage: str, calls: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for number, entry in enumerate(points(stage, calls)):
            text = block(entry)
            if number % CHECK_EVERY == 0:
                assert text == yaml.safe_dump([entry], sort_keys=False), (text, yaml.safe_dump([entry]))
            out.write(text)


def write_bundle(folder: Path, total_points: int) -> Path:
    """The bundle folder: metadata, index, hyperparameters and two metric files, `total_points` in all."""
    train_calls = total_points * 4 // 5 // len(NAMES)
    val_calls = total_points // len(NAMES) - train_calls
    folder.mkdir(parents=True)
    now = datetime.now(UTC)
    dump = {
        "metadata.yaml": {
            "kind": "Run",
            "name": "bench-bundle",
            "labels": ["bench"],
            "description": f"{total_points} metric points",
            "startTimestamp": (now - timedelta(hours=3)).isoformat(),
            "endTimestamp": now.isoformat(),
            "status": "Complete",
            "alternativeName": "bench-bundle_260301_100000_abc123",
            "associations": {"input": [], "output": []},
            "remote": [],
        },
        "index.yaml": {
            "hyperparameters": "hyperparameters.yaml",
            "metrics": {"train": "metrics/train.yaml", "val": "metrics/val.yaml"},
        },
        "hyperparameters.yaml": {
            "lr": 0.001,
            "optimizer": "adam",
            "batch_size": 128,
            "epochs": train_calls // STEPS_PER_EPOCH + 1,
            "model": {"name": "resnet50", "depth": 50, "dropout": 0.1},
        },
    }
    for name, content in dump.items():
        (folder / name).write_text(yaml.safe_dump(content, sort_keys=False))
    write_metrics(folder / "metrics" / "train.yaml", "train", train_calls)
    write_metrics(folder / "metrics" / "val.yaml", "val", val_calls)
    return folder


def store_bundle(folder: Path, parent: Any, by: Any) -> Any:
    """A Run node (index pending) holding the bundle's files: what committing an upload makes, without
    enqueueing the indexing, which the bench runs itself. Blobs and manifest come from the real services."""
    from django.db import transaction

    from em.models import IndexState, Kind, Run
    from em.services import blobs, uploads
    from em.services.nodes import create_node

    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        blobs.receive(sha256, io.BytesIO(data), by=by, length=len(data))
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        files.append({"path": path.relative_to(folder).as_posix(), "size": len(data), "sha256": sha256, "mtime": mtime})
    entries = uploads.validate_files(files)
    with transaction.atomic():
        node = create_node(parent=parent, name=folder.name, kind=Kind.RUN, by=by)
        node.manifest = uploads.manifest_for(entries)
        node.save(update_fields=["manifest"])
        Run.objects.create(node=node, index_state=IndexState.PENDING)
    return node
