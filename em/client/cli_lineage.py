"""`em lineage NODE`: what a run, artifact, model or dataset (version) came from and what came of it.

Registered on the `em` group by `cli`; exit codes as everywhere: 0 done, 1 EM refused or could not be
reached, 2 a usage error. The server walks the graph and leaves out what you may not view; this
command draws it as two trees from the node: upstream (what flowed in) and downstream (what flowed out).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from uuid import UUID

import click
from rich.text import Text
from rich.tree import Tree

from em.client import api, config, render
from em.client.http import Client

KIND_STYLE = {"Run": "bold green", "Artifact": "cyan", "Model": "magenta", "Dataset": "yellow", "Folder": "blue"}


def node_ref(client: Client, text: str) -> str:
    """An id as given; a path (maybe `path:ref`) made absolute from the caller's root."""
    if text.startswith("/") or _is_id(text.split(":", 1)[0]):
        return text
    return api.absolute(text, api.me(client)["root"]["path"])


def _is_id(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def label(node: dict[str, Any]) -> Text:
    """`Run /alice/exp/train-1`, or `Dataset /alice/…/mnist @ 3f9c2a1b (v1) first rows` for a version."""
    text = Text()
    text.append(f"{node['kind']} ", style=KIND_STYLE.get(node["kind"], ""))
    text.append(node["path"])
    version = node.get("version")
    if version:
        text.append(f" @ {version['short']}", style="bold")
        if version.get("tags"):
            text.append(f" ({', '.join(version['tags'])})", style="bold")
        if version.get("message"):
            text.append(f"  {version['message'].splitlines()[0][:60]}", style="dim")
    return text


def lineage_tree(graph: dict[str, Any]) -> Tree:
    """The graph as a tree rooted at its node: `from` branches upstream, `to` branches downstream; a node
    met again on the same branch is shown once, marked (cycles and diamonds stay finite)."""
    nodes = {node["key"]: node for node in graph["nodes"]}
    upstream: dict[str, list[str]] = defaultdict(list)
    downstream: dict[str, list[str]] = defaultdict(list)
    versions: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge["direction"] == "version":
            versions[edge["source"]].append(edge["target"])
        else:
            upstream[edge["target"]].append(edge["source"])
            downstream[edge["source"]].append(edge["target"])

    def grow(branch: Tree, key: str, links: dict[str, list[str]], seen: frozenset[str]) -> None:
        for other in sorted(links.get(key, []), key=lambda k: (nodes[k]["kind"], nodes[k]["path"], k)):
            child = branch.add(label(nodes[other]) + (Text(" (again)", style="dim") if other in seen else Text()))
            if other not in seen:
                grow(child, other, links, seen | {other})

    def both_ways(branch: Tree, key: str) -> None:
        if upstream.get(key):
            grow(branch.add(Text("from", style="italic")), key, upstream, frozenset({key}))
        if downstream.get(key):
            grow(branch.add(Text("to", style="italic")), key, downstream, frozenset({key}))

    root = graph["root"]
    tree = Tree(label(nodes[root]))
    both_ways(tree, root)
    for version in sorted(versions.get(root, []), key=lambda k: nodes[k]["path"] + k):
        both_ways(tree.add(label(nodes[version])), version)
    return tree


@click.command()
@click.argument("node")
@click.option(
    "-d", "--depth", type=click.IntRange(0, 10), default=3, show_default=True, help="Edges to follow each way."
)
@click.option("--json", "as_json", is_flag=True, help="Print the graph as the server answered it.")
def lineage(node: str, depth: int, as_json: bool) -> None:
    """Show what NODE came from and what came of it.

    NODE is an id or a path (relative: from your root); `path:ref` names a version of a model or
    dataset (`/alice/t9k-assethub/model/cv/resnet:v1`), a bare model or dataset path all its versions.
    """
    with Client.from_config(config.load()) as client:
        graph = api.lineage_graph(client, node_ref(client, node), depth)
    if as_json:
        click.echo(json.dumps(graph, indent=2))
        return
    console = render.console()
    console.print(lineage_tree(graph))
    notes = []
    if graph.get("hidden"):
        notes.append(f"{graph['hidden']} neighbour(s) you may not view are left out")
    if graph.get("truncated"):
        notes.append("the graph was cut short; ask for less depth")
    for note in notes:
        click.echo(f"Note: {note}.", err=True)
