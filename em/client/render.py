"""How nodes look on a terminal: rich renderables built from the API's JSON, printed by `cli`.

Kept apart from the commands so that the same views serve future commands (search results, shared-with-
me, trash) and can be tested without a server. Text from the server is never parsed as rich markup.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from em.client.api import FOLDER, SHORTCUT, Node, Shares


def when(timestamp: str | None, *, precise: bool = False) -> str:
    """An ISO 8601 timestamp in local time: minutes for listings, seconds and offset for details."""
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(timestamp).astimezone()
    except ValueError:
        return timestamp
    return moment.strftime("%Y-%m-%d %H:%M:%S %z" if precise else "%Y-%m-%d %H:%M")


def display_name(node: Node) -> Text:
    """The name, with `/` after folders (as `ls -F`) and `-> target` after shortcuts."""
    name = Text(node["name"], style="bold blue" if node["kind"] == FOLDER else "")
    if node["kind"] == FOLDER:
        name.append("/")
    elif node["kind"] == SHORTCUT:
        target = node["target"]
        name.append(" -> ")
        name.append(target["path"] if target else "(dangling)", style="cyan" if target else "red")
    return name


def node_table(nodes: Iterable[Node]) -> Table:
    """One row per node: name, kind, modified, labels."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("name", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("modified", no_wrap=True)
    table.add_column("labels", overflow="fold")
    for item in nodes:
        table.add_row(display_name(item), item["kind"], when(item["modified_at"]), ", ".join(item["labels"]))
    return table


def _target(node: Node) -> str:
    target = node["target"]
    if target is None:
        return "(dangling, or not visible to you)"
    return f"{target['path']} ({target['kind']})"


def node_details(node: Node) -> Table:
    """Every field a person asks about a node, one per line."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows: list[tuple[str, str]] = [
        ("id", node["id"]),
        ("kind", node["kind"]),
        ("path", node["path"]),
        ("owner", node["owner"]),
        ("your access", node["access"]),
        ("labels", ", ".join(node["labels"]) or "-"),
        ("description", node["description"] or "-"),
        ("created", f"{when(node['created_at'], precise=True)} by {node['created_by'] or '(deleted user)'}"),
        ("modified", when(node["modified_at"], precise=True)),
        ("editor", node["editor"] or "-"),
    ]
    if node["kind"] == SHORTCUT:
        rows.append(("target", _target(node)))
    if node["extra"]:
        rows.append(("extra", json.dumps(node["extra"], ensure_ascii=False, sort_keys=True)))
    for key, value in rows:
        grid.add_row(key, Text(value))
    return grid


def shares_view(shares: Shares) -> RenderableType:
    """The summary sentence, then one row per grant saying where it was made."""
    summary = Text(shares["summary"])
    if not shares["shares"]:
        return summary
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("type", "name", "level", "granted on"):
        table.add_column(column, overflow="fold")
    for share in shares["shares"]:
        inherited = share["inherited_from"]
        table.add_row(
            share["type"],
            Text(share["name"] or "everyone"),
            share["level"],
            Text(inherited["path"] if inherited else "(this node)"),
        )
    return Group(summary, Text(""), table)


# --- runs -------------------------------------------------------------------------------------------


SIGNIFICANT = 4  # digits of a number in a table: enough to rank runs, few enough to read (--json has all)


def value_text(value: Any) -> str:
    """A param or metric value for a cell: floats to 4 significant digits, nothing for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT}g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def duration_text(seconds: Any) -> str:
    """`2h 03m`, `4m 05s`, `12.3 s` for a duration in seconds (other forms shown as given)."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "" if seconds is None else str(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


STATUS_STYLES = {"Running": "cyan", "Complete": "green", "Error": "red", "Killed": "yellow"}


def _status(run: Mapping[str, Any]) -> Text:
    status = str(run.get("status") or "")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def runs_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """One row per run, then its params and metrics as columns, as `dvc exp show` lays them out."""
    params = sorted({key for row in rows for key in row.get("params") or {}})
    metrics = sorted({key for row in rows for key in row.get("metrics") or {}})
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("name", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("duration", no_wrap=True, justify="right")
    for key in params:
        table.add_column(key, header_style="bold blue", overflow="fold")
    for key in metrics:
        table.add_column(key, header_style="bold magenta", justify="right", overflow="fold")
    for row in rows:
        run = row.get("run") or {}
        table.add_row(
            Text(str(row.get("name", ""))),
            _status(run),
            when(run.get("started_at")),
            duration_text(run.get("duration")),
            *(Text(value_text((row.get("params") or {}).get(key))) for key in params),
            *(Text(value_text(_latest((row.get("metrics") or {}).get(key)))) for key in metrics),
        )
    return table


def _latest(summary: Any) -> Any:
    return summary.get("latest") if isinstance(summary, dict) else summary


def _grid(rows: Iterable[tuple[str, Any]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(key, value if isinstance(value, Text) else Text(value_text(value) or "-"))
    return grid


def _metric_summaries(metrics: Any) -> list[dict[str, Any]]:
    """The detail's metric summaries as a list of dicts with `key`, whichever shape the server sends."""
    if isinstance(metrics, dict):
        return [{"key": k, **(v if isinstance(v, dict) else {"latest": v})} for k, v in sorted(metrics.items())]
    return [m for m in metrics or [] if isinstance(m, dict)]


def run_details(detail: Mapping[str, Any]) -> RenderableType:
    """A run's attributes, then its params, metrics (latest/min/max/count), tags and lineage."""
    run = detail.get("run") or {}
    git = detail.get("git") or {}
    platform = detail.get("platform") or {}
    parts: list[RenderableType] = [
        Text(str(detail.get("path", "")), style="bold"),
        _grid(
            [
                ("id", detail.get("id")),
                ("status", _status(run)),
                ("started", when(run.get("started_at"), precise=True)),
                ("ended", when(run.get("ended_at"), precise=True)),
                ("duration", duration_text(run.get("duration"))),
                ("source", " ".join(str(run.get(k) or "") for k in ("source_type", "source_name")).strip()),
                ("command", detail.get("command")),
                ("git", " ".join(str(git.get(k) or "") for k in ("branch", "commit")).strip()),
                ("host", " ".join(str(platform.get(k) or "") for k in ("hostname", "python", "framework")).strip()),
                ("labels", ", ".join(detail.get("labels") or [])),
                ("index", detail.get("index_state")),
            ]
        ),
    ]
    for error in detail.get("index_errors") or []:
        parts.append(Text(f"index error in {error.get('file')}: {error.get('message')}", style="red"))
    params = detail.get("params") or {}
    if params:
        parts += [Text(""), Text("Params", style="bold"), _grid(sorted(params.items()))]
    summaries = _metric_summaries(detail.get("metrics"))
    if summaries:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for column in ("metric", "latest", "min", "max", "count", "step"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for m in summaries:
            cells = (m.get("latest"), m.get("min"), m.get("max"), m.get("count"), m.get("latest_step"))
            table.add_row(Text(str(m["key"])), *(value_text(c) for c in cells))
        parts += [Text(""), Text("Metrics", style="bold"), table]
    tags = detail.get("tags") or {}
    if tags:
        parts += [Text(""), Text("Tags", style="bold"), _grid(sorted(tags.items()))]
    lineage = detail.get("lineage") or {}
    edges = [(d, e) for d in ("input", "output") for e in (lineage.get(d) or [])] if isinstance(lineage, dict) else []
    if edges:
        rows = [(d, e.get("path") or e.get("id") if isinstance(e, dict) else e) for d, e in edges]
        parts += [Text(""), Text("Lineage", style="bold"), _grid(rows)]
    return Group(*parts)


def metric_cell(summary: Any) -> str:
    """A metric summary as `latest (min..max)`, rounded; the range only when the series moved."""
    if not isinstance(summary, Mapping):
        return value_text(summary)
    latest, low, high = summary.get("latest"), summary.get("min"), summary.get("max")
    text = value_text(latest)
    if low is not None and high is not None and low != high:
        text += f" ({value_text(low)}..{value_text(high)})"
    return text


# The attributes a diff shows when they differ, each as a person reads it.
DIFF_ATTRIBUTES: dict[str, Callable[[Any], str]] = {"status": str, "start": when, "duration": duration_text}


def diff_table(comparison: Mapping[str, Any]) -> Table | None:
    """The attributes, params and metrics that differ between the compared runs (metrics as `latest
    (min..max)`), with a caption counting what is equal; None when no param or metric differs."""
    runs = comparison.get("runs") or []
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, caption_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("key", overflow="fold")
    for run in runs:
        table.add_column(str(run.get("name") or run.get("id")) if isinstance(run, dict) else str(run), overflow="fold")
    counts = {"params": [0, 0], "metrics": [0, 0]}  # [differ, equal]
    rows: list[tuple[str, str, list[str]]] = []
    for section, show in (("params", value_text), ("metrics", metric_cell)):
        for row in comparison.get(section) or []:
            counts[section][bool(row.get("all_equal"))] += 1
            if not row.get("all_equal"):
                rows.append((section, str(row.get("key")), [show(v) for v in row.get("values") or []]))
    if not rows:
        return None
    for row in comparison.get("attributes") or []:
        shown = DIFF_ATTRIBUTES.get(str(row.get("key")))
        if shown is not None and not row.get("all_equal"):
            table.add_row(
                "run", Text(str(row["key"])), *(Text(shown(v) if v is not None else "") for v in row["values"])
            )
    for section, key, cells in rows:
        table.add_row(section, Text(key), *(Text(cell) for cell in cells))
    (params_differ, params_equal), (metrics_differ, metrics_equal) = counts["params"], counts["metrics"]
    table.caption = (
        f"{params_differ} of {params_differ + params_equal} params and {metrics_differ} of "
        f"{metrics_differ + metrics_equal} metrics differ (metrics: latest (min..max)); equal ones are not shown."
    )
    return table


PIPE_WIDTH = 200  # columns when stdout is not a terminal, so that piped listings do not fold at 80


def console() -> Console:
    """The console commands print to: no highlighting, and wide when piped."""
    out = Console(highlight=False, soft_wrap=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = PIPE_WIDTH
    return out


def transfer_progress(out: Console) -> Progress:
    """Byte progress bars for uploads and downloads; silent when `out` is not a terminal."""
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


# --- files, references and the Asset Hub -------------------------------------------------------------


def files_table(files: Iterable[Mapping[str, Any]]) -> Table:
    """One row per file: path, size in bytes, modified."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("modified", no_wrap=True)
    for f in files:
        table.add_row(Text(str(f["path"])), f"{int(f.get('size') or 0):,}", when(f.get("mtime")))
    return table


def references_table(references: Iterable[Mapping[str, Any]]) -> Table:
    """External references: the path they stand for and where the bytes are (no size: EM has none)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title="external references")
    table.add_column("path", overflow="fold")
    table.add_column("uri", overflow="fold")
    for ref in references:
        table.add_row(Text(str(ref["path"])), Text(str(ref["uri"])))
    return table


def versions_table(versions: Iterable[Mapping[str, Any]]) -> Table:
    """`em asset log`: one row per version, newest first."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("commit", "created", "author", "files", "size", "tags", "message"):
        table.add_column(name, overflow="fold", justify="right" if name in {"files", "size"} else "left")
    for v in versions:
        table.add_row(
            str(v["id"])[:12],
            when(v.get("created_at")),
            Text(str(v.get("author") or "")),
            f"{int(v.get('file_count') or 0):,}",
            f"{int(v.get('total_size') or 0):,}",
            Text(", ".join(v.get("tags") or [])),
            Text(str(v.get("message") or "")),
        )
    return table


def refs_table(branches: Iterable[Mapping[str, Any]], tags: Iterable[Mapping[str, Any]]) -> Table:
    """Branches and tags with the commit each names."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("ref", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("commit", no_wrap=True)
    for b in branches:
        table.add_row(Text(str(b["name"])), "branch", str(b.get("head") or "(no commit)")[:12])
    for t in tags:
        table.add_row(Text(str(t["name"])), "tag", str(t.get("version") or "")[:12])
    return table


def asset_diff(diff: Mapping[str, Any]) -> RenderableType:
    """`em asset diff`: a summary line, then `+`, `~`, `-` lines as in `git diff --stat`."""
    summary = diff.get("summary") or {}
    lines = [
        Text(
            f"{summary.get('added', 0)} added, {summary.get('changed', 0)} changed, "
            f"{summary.get('removed', 0)} removed",
            style="bold",
        )
    ]
    for mark, key, style in (("+", "added", "green"), ("~", "changed", "yellow"), ("-", "removed", "red")):
        for f in diff.get(key) or []:
            size = f"{f['old_size']:,} -> {f['size']:,}" if key == "changed" else f"{f['size']:,}"
            lines.append(Text(f"{mark} {f['path']} ({size} bytes)", style=style))
    return Group(*lines)


def assets_table(nodes: Iterable[Node]) -> Table:
    """`em asset ls`: one row per model or dataset, with its full path (they sit at many depths)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("path", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("modified", no_wrap=True)
    table.add_column("labels", overflow="fold")
    for item in nodes:
        table.add_row(Text(item["path"]), item["kind"], when(item["modified_at"]), ", ".join(item["labels"]))
    return table
