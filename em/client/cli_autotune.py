"""`em autotune show PATH`: a search's profile, progress, best trial and its best trials, from a local
bundle folder (`.em/autotune/<name>_...`) or from EM (a path such as /alice/searches/lr, or an id).

A local folder is read here with the standard library alone (the client imports no server code); what
counts is what the server would index: `profile.json` and `trials/<n>/metadata.json` + `metrics.yaml`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from em.client import api, config
from em.client.errors import ClientError
from em.client.http import Client

SHOWN = 10


@click.group()
def autotune() -> None:
    """Hyper-parameter searches (AutoTune)."""


@autotune.command()
@click.argument("path")
@click.option("-n", "--top", default=SHOWN, show_default=True, help="How many of the best trials to list.")
def show(path: str, top: int) -> None:
    """Show a search: a local bundle folder, or a path or id in EM."""
    local = Path(path)
    if (local / "profile.json").is_file():
        summary, trials = _local(local)
    else:
        summary, trials = _remote(path, top)
    _print(summary, trials, top)


def _local(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        profile = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
        trials = []
        for meta in sorted((folder / "trials").glob("*/metadata.json")):
            trial = json.loads(meta.read_text(encoding="utf-8"))
            metrics_file = meta.parent / "metrics.yaml"
            metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
            trials.append(
                {
                    "id": trial.get("id"),
                    "status": trial.get("status"),
                    "params": trial.get("parameters") or {},
                    "value": metrics.get("final"),
                    "points": len(metrics.get("intermediate") or []),
                }
            )
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{folder} is not a readable AutoTune bundle: {exc}") from exc
    objective = profile.get("objective") or {}
    by_status: dict[str, int] = {}
    for trial in trials:
        by_status[str(trial["status"])] = by_status.get(str(trial["status"]), 0) + 1
    summary = {
        "name": profile.get("name") or folder.name,
        "objective": {"metric": objective.get("metric", ""), "goal": objective.get("goal", "maximize")},
        "status": profile.get("status"),
        "by_status": by_status,
        "max_trial_num": profile.get("maxTrialNum"),
    }
    done = [t for t in trials if t["value"] is not None and str(t["status"]).lower() in ("succeeded", "complete")]
    done.sort(key=lambda t: t["value"], reverse=summary["objective"]["goal"] != "minimize")
    return summary, done


def _remote(ref: str, top: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        with Client.from_config(config.load()) as client:
            node_id = (
                ref
                if api._looks_like_id(ref)
                else api.resolve(client, api.absolute(ref, api.me(client)["root"]["path"]))["id"]
            )
            body = api.autotune(client, node_id)
            goal = body["profile"]["objective"]["goal"]
            order = f"metrics.value {'ASC' if goal == 'minimize' else 'DESC'}"
            trials = api.autotune_trials(
                client, node_id, {"filter": "attributes.status = 'Succeeded'", "order_by": order, "page_size": top}
            )
    except ClientError as exc:
        raise click.ClickException(exc.message) from exc
    summary = {
        "name": ref,
        "objective": body["profile"]["objective"],
        "status": body["profile"]["status"],
        "by_status": {k: v for k, v in body["progress"]["by_status"].items() if v},
        "max_trial_num": body["profile"]["max_trial_num"],
        "index_state": body["index_state"],
        "index_errors": body["index_errors"],
    }
    return summary, trials


def _print(summary: dict[str, Any], trials: list[dict[str, Any]], top: int) -> None:
    console = Console()
    objective = summary["objective"]
    console.print(f"[bold]{summary['name']}[/bold]  {summary['status']}  {objective['goal']} {objective['metric']}")
    counts = ", ".join(f"{status} {n}" for status, n in sorted(summary["by_status"].items()))
    limit = f" of {summary['max_trial_num']}" if summary.get("max_trial_num") else ""
    console.print(f"trials: {sum(summary['by_status'].values())}{limit} ({counts or 'none'})")
    for problem in summary.get("index_errors") or []:
        console.print(f"[red]{problem['file']}: {problem['message']}[/red]")
    if not trials:
        return
    best = trials[0]
    console.print(f"best: trial {best['id']} = {best['value']}  {json.dumps(best['params'])}")
    table = Table("trial", "value", "params", "points")
    for trial in trials[:top]:
        table.add_row(str(trial["id"]), str(trial["value"]), json.dumps(trial["params"]), str(trial.get("points", "")))
    console.print(table)
