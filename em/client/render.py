"""How nodes look on a terminal: rich renderables built from the API's JSON, printed by `cli`.

Kept apart from the commands so that the same views serve future commands (search results, shared-with-
me, trash) and can be tested without a server. Text from the server is never parsed as rich markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from rich import box
from rich.console import Group, RenderableType
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
