"""One run on the wire: the RunRow of the search (`run_rows`) and what the run page adds to it — full
metric summaries, lineage the caller may see, and how indexing went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils import timezone

from em import access
from em.api.serializers import NodePresenter
from em.models import Kind, MetricSeries, Node, Run
from em.runs.compare import summary
from em.runs.selectors import RowCells
from em.services.lineage import run_lineage
from em.services.lineage.edges import DIRECTIONS


def run_rows(*, user: Any, runs: Iterable[Node], cells: RowCells | None = None) -> list[dict[str, Any]]:
    """RunRow payloads (docs/runs-api.md) for nodes loaded with `runs_by_id` (or with `ROW_PREFETCH`):
    node JSON plus the run's summary, params (text as written), latest metric values and tags, from
    `cells` (`RowCells.load`) or else from the runs' loaded relations."""
    nodes = list(runs)
    cells = cells or RowCells.of_runs(node.run for node in nodes)
    presenter = NodePresenter(user, nodes)
    rows = [_node_json(node, presenter) for node in nodes]
    nesting = parent_runs(nodes)
    for node, row in zip(nodes, rows, strict=True):
        run = node.run
        row["parent_run"] = node.parent_id if node.parent_id in nesting else None
        duration = run.duration
        row["run"] = {
            "status": run.status,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "duration": duration.total_seconds() if duration is not None else None,
            "source_type": run.source_type,
            "source_name": run.source_name,
            "alternative_name": run.alternative_name,  # the bundle folder's name: tells same-named runs apart
        }
        row["params"] = cells.params.get(node.pk, {})
        row["metrics"] = cells.metrics.get(node.pk, {})
        row["tags"] = cells.tags.get(node.pk, {})
    return rows


def _time(moment: datetime | None) -> str | None:
    """A time as DRF's DateTimeField writes it: ISO 8601 in the current time zone, UTC as `Z`."""
    if moment is None:
        return None
    text = timezone.localtime(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _node_json(node: Node, presenter: NodePresenter) -> dict[str, Any]:
    """A run node's JSON exactly as `NodeSerializer` writes it (tests hold the two alike), spelt from its
    attributes: DRF's per-field machinery cost most of a 100-row search page. Runs have no target."""
    return {
        "id": str(node.pk),
        "name": node.name,
        "kind": node.kind,
        "storage_type": int(node.storage_type),
        "path": presenter.paths[node.pk],
        "parent": None if node.parent_id is None else str(node.parent_id),
        "owner": node.owner.username,
        "access": presenter.levels[node.pk].label,
        "labels": node.labels,
        "description": node.description,
        "extra": node.extra,
        "target": None,
        "created_at": _time(node.created_at),
        "modified_at": _time(node.modified_at),
        "created_by": None if node.created_by is None else node.created_by.username,
        "editor": None if node.editor is None else node.editor.username,
        "deleted_at": _time(node.deleted_at),
    }


def _key(series: MetricSeries) -> str:
    return series.key


def _lineage(user: Any, run: Run) -> dict[str, list[dict[str, Any]]]:
    """Inputs and outputs the caller may see; the others are left out, as if they were not there."""
    return run_lineage(access.checker_for(user), run.node)


def present_run_detail(user: Any, run: Run, *, new: bool = False) -> dict[str, Any]:
    """The RunRow plus what the run page shows: full metric summaries, lineage, indexing state.

    `new` says the run was made by this request: no edge can point at it yet, so its lineage is not
    looked up (and `create_live_run` has cached its params, metrics and tags: the answer costs no query
    beyond the node's path).
    """
    prefetch_related_objects([run], "params", "metrics", "tags")  # what run_rows and the summaries read
    row = run_rows(user=user, runs=[run.node])[0]
    row.update(
        {
            "hyperparameters": run.hyperparameters,
            "platform": run.platform,
            "git": run.git,
            "command": run.command,
            "notes": run.notes,
            "metrics": {series.key: summary(series) for series in sorted(run.metrics.all(), key=_key)},
            "lineage": {direction: [] for direction in DIRECTIONS} if new else _lineage(user, run),
            "index_state": run.index_state,
            "index_errors": run.index_errors,
        }
    )
    return row


def parent_runs(nodes: Iterable[Node]) -> set[Any]:
    """Which of the nodes' parents are runs (the nodes are nested runs, shown as such); one query for a
    page, none when every parent is a root folder (only runs have a `Run` row) or is loaded already
    (a run just made in it), whose kind says."""
    below = [node for node in nodes if node.depth > 1 and node.parent_id is not None]
    loaded = [parent for node in below if _PARENT.is_cached(node) and (parent := node.parent) is not None]
    known = {parent.pk for parent in loaded if parent.kind == Kind.RUN}
    asked = {node.parent_id for node in below if node.parent_id is not None} - {parent.pk for parent in loaded}
    if asked:
        known |= set(Run.objects.filter(node_id__in=asked).values_list("node_id", flat=True))
    return known


_PARENT = Node._meta.get_field("parent")
