"""Runs side by side: attributes, hyper-parameters and metric summaries aligned by key.

Every row lists one value per run, in the order the runs were asked for (null where a run lacks the
key), and says whether all runs agree, so a table can hide what is the same and show what differs.
The keys are the union over the runs. The cost is a fixed number of queries whatever the number of
runs or keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from em.models import MetricSeries, Param, Run
from em.services.paths import display_paths

MIN_RUNS = 2
MAX_RUNS = 100
ATTRIBUTES = ("name", "path", "status", "start", "end", "duration", "user")


def _row(key: str, values: list[Any], compare: list[Any] | None = None) -> dict[str, Any]:
    """One aligned row; `compare` (default `values`) is what must agree for `all_equal`."""
    seen = values if compare is None else compare
    return {"key": key, "values": values, "all_equal": None not in seen and len(set(map(repr, seen))) == 1}


def _attributes(runs: Sequence[Run]) -> list[dict[str, Any]]:
    paths = display_paths([run.node for run in runs])

    def user(run: Run) -> str:
        who = run.node.created_by or run.node.owner
        return str(who.get_username())

    columns: dict[str, list[Any]] = {
        "name": [run.node.name for run in runs],
        "path": [paths[run.node_id] for run in runs],
        "status": [run.status for run in runs],
        "start": [run.started_at.isoformat() if run.started_at else None for run in runs],
        "end": [run.ended_at.isoformat() if run.ended_at else None for run in runs],
        "duration": [run.duration.total_seconds() if run.duration is not None else None for run in runs],
        "user": [user(run) for run in runs],
    }
    return [_row(name, columns[name]) for name in ATTRIBUTES]


def _params(runs: Sequence[Run]) -> list[dict[str, Any]]:
    by_key: dict[str, dict[UUID, str]] = defaultdict(dict)
    for run_id, key, value in Param.objects.filter(run__in=runs).values_list("run_id", "key", "value"):
        by_key[key][run_id] = value
    return [_row(key, [by_key[key].get(run.pk) for run in runs]) for key in sorted(by_key)]


def summary(series: MetricSeries) -> dict[str, Any]:
    return {
        "count": series.count,
        "min": series.min,
        "max": series.max,
        "latest": series.latest,
        "latest_step": series.latest_step,
        "latest_timestamp": series.latest_timestamp.isoformat() if series.latest_timestamp else None,
    }


def _metrics(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Summaries per key; runs agree when their latest values are the same."""
    by_key: dict[str, dict[UUID, MetricSeries]] = defaultdict(dict)
    for series in MetricSeries.objects.filter(run__in=runs):
        by_key[series.key][series.run_id] = series
    rows = []
    for key in sorted(by_key):
        found = [by_key[key].get(run.pk) for run in runs]
        values = [None if s is None else summary(s) for s in found]
        rows.append(_row(key, values, [None if s is None else s.latest for s in found]))
    return rows


def compare(runs: Sequence[Run]) -> dict[str, Any]:
    """Aligned rows for runs the caller may see (`em.runs.services.visible_runs` loads them)."""
    return {"attributes": _attributes(runs), "params": _params(runs), "metrics": _metrics(runs)}
