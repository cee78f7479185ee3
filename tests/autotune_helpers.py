"""AutoTune bundles for the tests: the files of a small search, and a node holding them (what an upload
leaves behind) made by the node service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from em.models import Kind, Node
from em.models.autotune import AutoTune
from em.services.nodes import create_node
from tests.bundle_helpers import replace_files

START = datetime(2026, 3, 1, 10, tzinfo=UTC)
PROFILE = {
    "name": "mnist-search",
    "objective": {"metric": "accuracy", "goal": "maximize"},
    "searchSpace": {
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        "layers": {"_type": "choice", "_value": [1, 2, 3]},
    },
    "tuner": {"builtinTunerName": "TPE"},
    "trainer": {"image": "mnist:1"},
    "maxTrialNum": 10,
    "trialConcurrency": 2,
    "maxExecSeconds": 3600,
    "status": "DONE",
    "start": "2026-03-01T10:00:00+00:00",
    "end": "2026-03-01T10:30:00+00:00",
}


def trial_files(
    number: int, *, value: float | None, status: str = "SUCCEEDED", points: int = 3, **params: Any
) -> dict[str, bytes]:
    """One trial's folder: metadata.json and metrics.yaml (intermediate values rising to `value`)."""
    base = f"trials/{number}"
    metadata = {
        "id": number,
        "parameters": params or {"lr": 0.01 * (number + 1), "layers": 1 + number % 3, "optimizer": "adam"},
        "status": status,
        "start": (START + timedelta(minutes=number)).isoformat(),
        "end": (START + timedelta(minutes=number, seconds=10 + number)).isoformat(),
    }
    final = value if value is not None else 0.0
    intermediate = [{"step": step, "value": final * (step + 1) / points} for step in range(points)]
    return {
        f"{base}/metadata.json": json.dumps(metadata).encode(),
        f"{base}/metrics.yaml": json.dumps({"final": value, "intermediate": intermediate}).encode(),
    }


VALUES = [0.80, 0.91, 0.85, None, 0.95, 0.70]
STATUSES = ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "EARLY_STOPPED", "SUCCEEDED", "FAILED"]


def example_search(**overrides: bytes | str | None) -> dict[str, bytes]:
    """path -> bytes of a six-trial search (best: trial 4, 0.95; trial 3 pruned, trial 5 failed);
    an override replaces a file (None removes it)."""
    files: dict[str, Any] = {"profile.json": json.dumps(PROFILE)}
    for number, (value, status) in enumerate(zip(VALUES, STATUSES, strict=True)):
        files.update(trial_files(number, value=value, status=status))
    for path, content in overrides.items():
        if content is None:
            files.pop(path, None)
        else:
            files[path] = content
    return {path: content.encode() if isinstance(content, str) else content for path, content in files.items()}


def autotune_node(parent: Node, name: str, files: dict[str, bytes]) -> Node:
    """An AutoTune node made by the node service, holding `files`, pending indexing."""
    node = create_node(parent=parent, name=name, kind=Kind.AUTOTUNE, by=parent.owner)
    AutoTune.objects.create(node=node)
    return replace_files(node, files)
