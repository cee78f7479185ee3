"""One run on the wire: the RunRow of the search (`rows_of`, `run_rows`) and what the run page adds to it — full
metric summaries, lineage the caller may see, and how indexing went."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

from django.db.models import prefetch_related_objects
from django.utils import timezone

from em import access, tree
from em.api.json_codec import RawJSON
from em.models import STORAGE_TYPE_OF_KIND, Kind, MetricSeries, Node, Run
from em.runs import row_json
from em.runs.compare import summary
from em.runs.selectors import RowCells, RowValues, page_rows
from em.services.lineage import run_lineage
from em.services.lineage.edges import DIRECTIONS
from em.services.paths import display_paths


def run_rows(*, user: Any, runs: Iterable[Node], cells: RowCells | None = None) -> list[dict[str, Any]]:
    """RunRow payloads (docs/runs-api.md) for loaded nodes (their runs loaded, with `ROW_PREFETCH` or
    just made): the run page and compare build their rows here, the search from plain values
    (`rows_of`); both are spelt by `rows_of`, so they cannot drift apart."""
    nodes = list(runs)
    cells = cells or RowCells.of_runs(node.run for node in nodes)
    nesting = parent_runs(nodes)
    return rows_of(user, [RowValues.of_node(node, parent_is_run=node.parent_id in nesting) for node in nodes], cells)


def search_rows(user: Any, ids: Sequence[Any]) -> list[RawJSON] | list[dict[str, Any]]:
    """The RunRows of a search page, in the order of `ids`. On PostgreSQL the database writes each row's
    JSON (`em.runs.row_json`, one statement) and only the caller's access level is added here; elsewhere
    they are spelt from plain values (`rows_of`, two statements). The same JSON either way."""
    if not row_json.available():
        return rows_of(user, page_rows(ids), RowCells.load(ids))
    rows = row_json.page_json(ids)
    levels = access.checker_for(user).levels(rows)
    return [RawJSON(f'{row.json[:-1]},"access":"{levels[row.pk].label}"}}') for row in rows]


def rows_of(user: Any, runs: Sequence[RowValues], cells: RowCells) -> list[dict[str, Any]]:
    """RunRow payloads from the values a row shows (`em.runs.selectors.page_rows`) and the runs' cells:
    node JSON as `NodeSerializer` writes it (tests hold the two alike) plus the run's summary, params
    (text as written), latest metric values and tags. Spelt from plain values: DRF's per-field machinery,
    and model instances, cost most of a 100-row search page. Runs have no shortcut target.

    Rights come from the request's `Checker` (no query when the search has read the grants already),
    and display paths from the runs' parents (`_display_paths`): one query for a page."""
    levels = access.checker_for(user).levels(runs)
    paths = _display_paths(runs)
    zone = _zone()
    storage = {kind: int(storage_type) for kind, storage_type in STORAGE_TYPE_OF_KIND.items()}
    rows = []
    for run in runs:
        ended, started = run.ended_at, run.started_at
        rows.append(
            {
                "id": str(run.pk),
                "name": run.name,
                "kind": run.kind,
                "storage_type": storage[run.kind],
                "path": paths[run.pk],
                "parent": None if run.parent_id is None else str(run.parent_id),
                "owner": run.owner,
                "access": levels[run.pk].label,
                "labels": run.labels,
                "description": run.description,
                "extra": run.extra,
                "target": None,
                "created_at": _time(run.created_at, zone),
                "modified_at": _time(run.modified_at, zone),
                "created_by": run.created_by,
                "editor": run.editor,
                "deleted_at": _time(run.deleted_at, zone),
                "run": {
                    "status": run.status,
                    "started_at": _time(started, zone),
                    "ended_at": _time(ended, zone),
                    "duration": None if ended is None or started is None else (ended - started).total_seconds(),
                    "source_type": run.source_type,
                    "source_name": run.source_name,
                    "alternative_name": run.alternative_name,  # the bundle folder's name: tells same-named runs apart
                },
                "params": cells.params.get(run.pk, {}),
                "metrics": cells.metrics.get(run.pk, {}),
                "tags": cells.tags.get(run.pk, {}),
                "parent_run": str(run.parent_id) if run.parent_is_run else None,
            }
        )
    return rows


class _Place(NamedTuple):
    pk: Any
    path: str


def _display_paths(runs: Sequence[RowValues]) -> dict[Any, str]:
    """Each run's `/owner/a/b/run` path: its parent's display path and its own name. A page's runs
    share a few parents, so the lookup asks for those few folders' ancestors rather than for every
    run's (100 paths a page); `display_paths` still checks that the parents did not move meanwhile."""
    parents = {run.parent_id: tree.parent_path(run.path) for run in runs if run.parent_id is not None}
    shown = display_paths([_Place(pk, path) for pk, path in parents.items() if path is not None])
    return {
        run.pk: f"{shown[run.parent_id]}/{run.name}" if run.parent_id is not None else f"/{run.name}" for run in runs
    }


def _zone() -> tzinfo:
    """The current time zone; UTC as the `datetime.UTC` object the database's times come with, so that
    converting them to it returns them as they are (500 times a page)."""
    zone = timezone.get_current_timezone()
    return UTC if getattr(zone, "key", None) == "UTC" else zone


def _time(moment: datetime | None, zone: tzinfo) -> str | None:
    """A time as DRF's DateTimeField writes it: ISO 8601 in the current time zone, UTC as `Z`."""
    if moment is None:
        return None
    text = moment.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
