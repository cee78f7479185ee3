"""The lineage neighbourhood of a node: what flowed into it and out of it, to a depth, as the caller sees it.

The graph's nodes are runs, artifacts and versions of models and datasets (a whole model or dataset too,
when the graph starts there: its versions hang off it). Its edges are the `LineageEdge` rows (input:
other -> run, output: run -> other), walked in both directions breadth first. Each BFS level costs two
queries whatever its width: one for the edges touching the frontier (with both ends' nodes joined), one
for the grants on the nodes it newly reaches (`Checker.levels`). A node the caller may not view is left
out and not walked through; only their number is told (`hidden`). Finding the start costs up to five
queries (a version ref: branch, tag, commit) and presenting three (the paths, the versions' tags and
messages), so a graph of any size costs at most `2 * depth + 8`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import Q

from em import errors
from em.access import Checker, Level
from em.models import LineageEdge, Node
from em.services.paths import display_paths

from .refs import describe, locate

MAX_DEPTH = 10
DEFAULT_DEPTH = 3
MAX_NODES = 5_000  # an answer stays a page a client can draw; past it the graph says `truncated`
# Edges are read as plain values, and a Node is made once per node the walk meets, not per row: at a
# thousand nodes, Django's model instances for every joined row cost more than the queries.
NODE_FIELDS = ("id", "path", "name", "kind", "owner_id")
EDGE_FIELDS = (
    "id",
    "direction",
    "version",
    *(f"run__{name}" for name in NODE_FIELDS),
    *(f"other__{name}" for name in NODE_FIELDS),
)
NODE_ATTNAMES = ["id", "path", "name", "kind", "owner_id"]  # NODE_FIELDS as model attributes
WIDTH = len(NODE_FIELDS)


def key_of(node_id: UUID, version: str = "") -> str:
    """A graph node's key: the node id, or `<asset id>:<version id>` (a `path:ref` spelling of it)."""
    return f"{node_id}:{version}" if version else str(node_id)


# A graph node inside the walk: (node id, version id or ""). Made text (`key_of`) only for the answer.
Key = tuple[UUID, str]


class _Edge(NamedTuple):
    id: int
    direction: str
    run: Key
    other: Key


@dataclass
class _Place:
    node: Node
    version: str
    depth: int


@dataclass
class _Walk:
    """The BFS state: what was found (visible), what was hidden, the edges kept."""

    found: dict[Key, _Place] = field(default_factory=dict)
    hidden: set[Key] = field(default_factory=set)
    edges: dict[int, _Edge] = field(default_factory=dict)
    links: list[tuple[Key, Key]] = field(default_factory=list)  # whole asset -> one of its versions
    truncated: bool = False


def neighbourhood(checker: Checker, text: Any, *, depth: int = DEFAULT_DEPTH) -> dict[str, Any]:
    """`{root, depth, nodes, edges, hidden, truncated}` around what `text` names (id or path, `:ref`).

    NotFound when the caller cannot view the starting node (alike for missing), or when a visible
    asset has no such version.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise errors.InvalidInput(f"`depth` is a whole number from 0 to {MAX_DEPTH}.")
    start = locate(checker, text, whole_asset=True)
    root = (start.node.id, start.version)
    walk = _Walk(found={root: _Place(start.node, start.version, 0)})
    frontier = [root]
    for level in range(1, depth + 1):
        if not frontier or walk.truncated:
            break
        frontier = _step(checker, walk, frontier, level)
    return _present(walk, root, depth)


def _node(values: tuple[Any, ...]) -> Node:
    return Node.from_db(None, NODE_ATTNAMES, values)  # half the cost of Node(**fields); the rest deferred


def _step(checker: Checker, walk: _Walk, frontier: list[Key], level: int) -> list[Key]:
    """Walk one level out from `frontier`: two queries. Returns the next frontier."""
    nodes = {node_id for node_id, version in frontier if not version}
    versions = [key for key in frontier if key[1]]
    touching = Q()
    if nodes:
        touching |= Q(run_id__in=nodes) | Q(other_id__in=nodes)
    if versions:
        touching |= Q(other_id__in={a for a, _ in versions}, version__in={v for _, v in versions})
    rows = (
        LineageEdge.objects.filter(touching, run__deleted_at__isnull=True, other__deleted_at__isnull=True)
        .order_by("pk")
        .values_list(*EDGE_FIELDS)
    )
    wanted = set(frontier)
    candidates: dict[Key, _Place] = {}
    kept: list[_Edge] = []
    for edge_id, direction, version, *ends in rows:
        run_values, other_values = ends[:WIDTH], ends[WIDTH:]
        run_key, other_key = (run_values[0], ""), (other_values[0], version)
        whole = version and other_values[0] in nodes  # an edge of a version of an asset being walked whole
        if run_key not in wanted and other_key not in wanted and not whole:
            continue  # matched only by the versions' cross product
        if whole and other_key not in walk.found:
            asset = walk.found[(other_values[0], "")]
            walk.found[other_key] = _Place(asset.node, version, asset.depth)
            walk.links.append(((other_values[0], ""), other_key))
        for key, values, of in ((run_key, run_values, ""), (other_key, other_values, version)):
            if key not in walk.found and key not in walk.hidden and key not in candidates:
                candidates[key] = _Place(_node(tuple(values)), of, level)
        kept.append(_Edge(edge_id, direction, run_key, other_key))
    return _admit(checker, walk, candidates, kept)


def _admit(checker: Checker, walk: _Walk, candidates: dict[Key, _Place], kept: list[_Edge]) -> list[Key]:
    """Check the newly reached nodes with one read of the grants; keep the visible, count the rest."""
    levels = checker.levels({p.node.id: p.node for p in candidates.values()}.values()) if candidates else {}
    room = MAX_NODES - len(walk.found)
    admitted: list[Key] = []
    for key in sorted(candidates):
        place = candidates[key]
        if levels[place.node.id] < Level.VIEW:
            walk.hidden.add(key)
        elif len(admitted) < room:
            walk.found[key] = place
            admitted.append(key)
        else:
            walk.truncated = True
    for edge in kept:
        if edge.run in walk.found and edge.other in walk.found:
            walk.edges[edge.id] = edge
    return admitted


def _present(walk: _Walk, root: Key, depth: int) -> dict[str, Any]:
    places = walk.found
    paths = display_paths({p.node.id: p.node for p in places.values()}.values())
    versions = describe((p.node, p.version) for p in places.values() if p.version)
    nodes = []
    for key, place in sorted(places.items(), key=lambda item: (item[1].depth, item[1].node.name, item[0])):
        node = place.node
        nodes.append(
            {
                "key": key_of(*key),
                "id": node.id,
                "kind": node.kind,
                "name": node.name,
                "path": paths[node.id],
                "depth": place.depth,
                "version": versions[place.version].as_json() if place.version else None,
            }
        )
    edges: list[dict[str, Any]] = [
        {"id": None, "source": key_of(*asset), "target": key_of(*version), "direction": "version"}
        for asset, version in walk.links
    ]
    for edge in sorted(walk.edges.values()):
        source, target = (
            (edge.other, edge.run) if edge.direction == LineageEdge.Direction.INPUT else (edge.run, edge.other)
        )
        edges.append({"id": edge.id, "source": key_of(*source), "target": key_of(*target), "direction": edge.direction})
    return {
        "root": key_of(*root),
        "depth": depth,
        "nodes": nodes,
        "edges": edges,
        "hidden": len(walk.hidden),
        "truncated": walk.truncated,
    }
