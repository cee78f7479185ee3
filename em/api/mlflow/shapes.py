"""EM's folders, runs and artifacts in MLflow's JSON shapes (experiments, runs, metrics, logged models).

The mapping (docs/mlflow.md): an experiment is a folder — its id the folder's, its name the folder's
path below the caller's root (`mnist/sweep`), or its whole path (`/bob/shared`) when it lies in someone
else's tree; a run is a Run node (a nested run's `mlflow.parentRunId` is the run it lives in); the run's
experiment is the nearest folder above it; a logged model is an Artifact node whose MLflow fields sit in
`extra["mlflow"]`. Times are milliseconds since 1970, as MLflow has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from em.models import Kind, Node, RunStatus

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
DEFAULT_EXPERIMENT = "Default"  # the folder MLflow's experiment "0" names, below the caller's root

STATUS_TO_MLFLOW = {
    RunStatus.RUNNING: "RUNNING",
    RunStatus.COMPLETE: "FINISHED",
    RunStatus.ERROR: "FAILED",
    RunStatus.KILLED: "KILLED",
}
STATUS_FROM_MLFLOW = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.RUNNING,
    "FINISHED": RunStatus.COMPLETE,
    "FAILED": RunStatus.ERROR,
    "KILLED": RunStatus.KILLED,
}


def millis(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def number(value: float | None) -> float | str:
    """A metric value as MLflow's JSON has it: NaN (stored, but null in EM's reads) spelt "NaN"."""
    return "NaN" if value is None else value


def kv(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in mapping.items()]


def experiment_name(folder: Node, path: str, user: Any) -> str:
    """`path` below the caller's own root (`mnist/sweep`), or the whole path for another's folder."""
    own = f"/{user.get_username()}/"
    return path[len(own) :] if folder.owner_id == user.pk and path.startswith(own) else path


def experiment(folder: Node, path: str, user: Any) -> dict[str, Any]:
    mlflow = folder.extra.get("mlflow", {}) if isinstance(folder.extra, dict) else {}
    return {
        "experiment_id": str(folder.pk),
        "name": experiment_name(folder, path, user),
        "artifact_location": f"mlflow-artifacts:/{folder.pk}",
        "lifecycle_stage": "active" if folder.deleted_at is None else "deleted",
        "creation_time": millis(folder.created_at),
        "last_update_time": millis(folder.modified_at),
        "tags": kv(mlflow.get("tags", {})),
    }


def run_artifact_uri(experiment_id: UUID | str, run_id: UUID | str) -> str:
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def model_artifact_uri(experiment_id: UUID | str, model_id: UUID | str) -> str:
    return f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"


def run(node: Node, folder: Node, outputs: Iterable[UUID] = ()) -> dict[str, Any]:
    """A run loaded with `em.runs.tracking.runs_with_data`, in its experiment `folder`."""
    record = node.run
    tags = {tag.key: tag.value for tag in record.tags.all()}
    tags.pop(PARENT_RUN_TAG, None)
    if node.parent is not None and node.parent.kind == Kind.RUN:  # the nesting is EM's tree, moves included
        tags[PARENT_RUN_TAG] = str(node.parent_id)
    creator = node.created_by or node.owner
    return {
        "info": {
            "run_id": str(node.pk),
            "run_uuid": str(node.pk),
            "run_name": tags.get(RUN_NAME_TAG, node.name),
            "experiment_id": str(folder.pk),
            "user_id": creator.get_username() if creator is not None else "",
            "status": STATUS_TO_MLFLOW.get(RunStatus(record.status), "RUNNING"),
            "start_time": millis(record.started_at),
            "end_time": millis(record.ended_at),
            "artifact_uri": run_artifact_uri(folder.pk, node.pk),
            "lifecycle_stage": "active" if node.deleted_at is None else "deleted",
        },
        "data": {
            "metrics": [
                {
                    "key": series.key,
                    "value": number(series.latest),
                    "timestamp": millis(series.latest_timestamp) or 0,
                    "step": series.latest_step or 0,
                }
                for series in record.metrics.all()
                if series.count
            ],
            "params": [{"key": p.key, "value": p.value} for p in record.params.all()],
            "tags": kv(dict(sorted(tags.items()))),
        },
        "inputs": {"dataset_inputs": [], "model_inputs": []},
        "outputs": {"model_outputs": [{"model_id": str(model), "step": 0} for model in outputs]},
    }


def logged_model(node: Node, folder: Node, metrics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An Artifact node made as a logged model (its MLflow fields in `extra["mlflow"]`)."""
    fields = node.extra.get("mlflow", {})
    creator = node.created_by or node.owner
    return {
        "info": {
            "model_id": str(node.pk),
            "experiment_id": str(folder.pk),
            "name": fields.get("name", node.name),
            "artifact_uri": model_artifact_uri(folder.pk, node.pk),
            "creation_timestamp_ms": millis(node.created_at),
            "last_updated_timestamp_ms": millis(node.modified_at),
            "status": fields.get("status", "LOGGED_MODEL_PENDING"),
            "model_type": fields.get("model_type", ""),
            "source_run_id": fields.get("source_run_id", ""),
            "creator_id": creator.pk if creator is not None else 0,  # MLflow's is a number
            "tags": kv(fields.get("tags", {})),
        },
        "data": {"params": kv(fields.get("params", {})), "metrics": metrics or []},
    }
