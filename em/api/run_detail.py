"""One run on the wire: the RunRow of the search (`em.runs.selectors.run_rows`) and what the run page
adds to it — full metric summaries, lineage the caller may see, and how indexing went."""

from __future__ import annotations

from typing import Any

from em import access
from em.models import LineageEdge, Run
from em.runs.selectors import run_rows
from em.services.compare import summary
from em.services.paths import display_paths


def _lineage(user: Any, run: Run) -> dict[str, list[dict[str, Any]]]:
    """Inputs and outputs the caller may see; the others are left out, as if they were not there."""
    edges = list(
        LineageEdge.objects.filter(run_id=run.node_id, other__deleted_at__isnull=True)
        .select_related("other")
        .order_by("direction", "other__name", "ref")
    )
    levels = access.levels(user, [edge.other for edge in edges]) if edges else {}
    visible = [edge for edge in edges if levels[edge.other_id] >= access.Level.VIEW]
    paths = display_paths([edge.other for edge in visible])
    result: dict[str, list[dict[str, Any]]] = {direction: [] for direction in LineageEdge.Direction.values}
    for edge in visible:
        other = edge.other
        result[edge.direction].append(
            {"id": other.pk, "name": other.name, "kind": other.kind, "path": paths[other.pk], "ref": edge.ref}
        )
    return result


def present_run_detail(user: Any, run: Run) -> dict[str, Any]:
    """The RunRow plus what the run page shows: full metric summaries, lineage, indexing state."""
    row = run_rows(user=user, runs=[run.node])[0]
    row.update(
        {
            "hyperparameters": run.hyperparameters,
            "platform": run.platform,
            "git": run.git,
            "command": run.command,
            "notes": run.notes,
            "metrics": {series.key: summary(series) for series in run.metrics.order_by("key")},
            "lineage": _lineage(user, run),
            "index_state": run.index_state,
            "index_errors": run.index_errors,
        }
    )
    return row
