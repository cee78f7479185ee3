"""Runs COPY-loaded straight into an MLflow tracking database, as MLflow's own store would write them.

`bench/runs.py --vs-mlflow` searches 10,000 runs on each side; creating them through MLflow's API would
take most of an hour on this machine, so both sides are bulk-loaded with the same rows instead (EM's by
`fixtures.load_runs`). A run here is what `runs/create` + `runs/log-batch` leave behind for a finished run:
a `runs` row, its params, its latest metric values (`latest_metrics`, what MLflow's search filters and
sorts on), the same point in `metrics`, and the `mlflow.runName` tag.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

RUN_COLUMNS = (
    "run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id", "status", "start_time",
    "end_time", "source_version", "lifecycle_stage", "artifact_uri", "experiment_id",
)  # fmt: skip
STEP = 999
START_MILLIS = 1_767_225_600_000  # 2026-01-01


def _copy(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_runs(url: str, experiment_id: str, specs: Sequence[tuple[str, dict[str, Any], dict[str, float]]]) -> None:
    """The runs of `specs` (name, hyper-parameters, latest metric values), finished, in `experiment_id`."""
    from em.runs.services import flatten

    runs, params, metrics, tags = [], [], [], []
    for number, (name, hparams, final) in enumerate(specs):
        run_id = uuid.uuid4().hex
        start = START_MILLIS + number * 60_000
        runs.append((run_id, name, "LOCAL", "", "", "bench", "FINISHED", start, start + 3_600_000, "", "active",
                     f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts", int(experiment_id)))  # fmt: skip
        params += [(k, str(v), run_id) for k, v in flatten(hparams)]  # as mlflow.log_params writes them
        metrics += [(k, v, start, STEP, False, run_id) for k, v in final.items()]
        tags.append(("mlflow.runName", name, run_id))
    with psycopg.connect(url) as conn:
        _copy(conn, "runs", RUN_COLUMNS, runs)
        _copy(conn, "params", ("key", "value", "run_uuid"), params)
        for table in ("metrics", "latest_metrics"):
            _copy(conn, table, ("key", "value", "timestamp", "step", "is_nan", "run_uuid"), metrics)
        _copy(conn, "tags", ("key", "value", "run_uuid"), tags)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
