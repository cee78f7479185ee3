"""The lineage neighbourhood of a node: what flowed into it and out of it, to a depth, as the caller sees it.

The graph's nodes are runs, artifacts and versions of models and datasets (a whole model or dataset too,
when the graph starts there: its versions hang off it). Its edges are the `LineageEdge` rows (input:
other -> run, output: run -> other), walked in both directions breadth first. Each BFS level costs two
queries whatever its width: one for the edges touching the frontier (with both ends' nodes joined), one
for the grants on the nodes it newly reaches (`Checker.levels`). A node the caller may not view is left
out and not walked through; only their number is told (`hidden`). Presenting costs two more queries (the
paths, the versions' names), so a graph of any size costs `2 * depth + 3` at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db.models import Q

from em import errors
from em.access import Checker, Level
from em.models import LineageEdge, Node
from em.services.paths import display_paths

from . import refs

MAX_DEPTH = 10
DEFAULT_DEPTH = 3
MAX_NODES = 5_000  # an answer stays a page a client can draw; past it the graph says `truncated`
NODE_FIELDS = ("id", "path", "name", "kind", "owner_id", "deleted_at")
EDGE_FIELDS = (
    "id",
    "direction",
    "version",
    "ref",
    "run_id",
    "other_id",
    *(f"run__{name}" for name in NODE_FIELDS),
    *(f"other__{name}" for name in NODE_FIELDS),
)


def key_of(node_id: UUID, version: str = "") -> str:
    """A graph node's key: the node id, or `<asset id>:<version id>` (a `path:ref` spelling of it)."""
    return f"{node_id}:{version}" if version else str(node_id)


@dataclass
class _Place:
    node: Node
    version: str
    depth: int


@dataclass
class _Walk:
    """The BFS state: what was found (visible), what was hidden, the edges kept."""

    found: dict[str, _Place] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    edges: dict[int, LineageEdge] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # whole asset -> one of its versions
    truncated: bool = False


def neighbourhood(checker: Checker, text: Any, *, depth: int = DEFAULT_DEPTH) -> dict[str, Any]:
    """`{root, depth, nodes, edges, hidden, truncated}` around what `text` names (id or path, `:ref`).

    NotFound when the caller cannot view the starting node (alike for missing), or when a visible
    asset has no such version.
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise errors.InvalidInput(f"`depth` is a whole number from 0 to {MAX_DEPTH}.")
    start = refs.locate(checker, text, whole_asset=True)
    root = key_of(start.node.pk, start.version)
    walk = _Walk(found={root: _Place(start.node, start.version, 0)})
    frontier = [root]
    for level in range(1, depth + 1):
        if not frontier or walk.truncated:
            break
        frontier = _step(checker, walk, frontier, level)
    return _present(walk, root, depth)


def _step(checker: Checker, walk: _Walk, frontier: list[str], level: int) -> list[str]:
    """Walk one level out from `frontier`: two queries. Returns the next frontier."""
    nodes = {walk.found[k].node.pk for k in frontier if not walk.found[k].version}
    versions = [(walk.found[k].node.pk, walk.found[k].version) for k in frontier if walk.found[k].version]
    touching = Q()
    if nodes:
        touching |= Q(run_id__in=nodes) | Q(other_id__in=nodes)
    if versions:
        touching |= Q(other_id__in={a for a, _ in versions}, version__in={v for _, v in versions})
    rows = (
        LineageEdge.objects.filter(touching, run__deleted_at__isnull=True, other__deleted_at__isnull=True)
        .select_related("run", "other")
        .only(*EDGE_FIELDS)
        .order_by("pk")
    )
    wanted = set(frontier)
    candidates: dict[str, _Place] = {}
    kept: list[LineageEdge] = []
    for edge in rows:
        run_key, other_key = key_of(edge.run_id), key_of(edge.other_id, edge.version)
        whole = edge.version and edge.other_id in nodes  # an edge of a version of an asset being walked whole
        if run_key not in wanted and other_key not in wanted and not whole:
            continue  # matched only by the versions' cross product
        if whole and other_key not in walk.found:
            asset_place = walk.found[key_of(edge.other_id)]
            walk.found[other_key] = _Place(edge.other, edge.version, asset_place.depth)
            walk.links.append((key_of(edge.other_id), other_key))
        for key, node, version in ((run_key, edge.run, ""), (other_key, edge.other, edge.version)):
            if key not in walk.found and key not in walk.hidden:
                candidates.setdefault(key, _Place(node, version, level))
        kept.append(edge)
    return _admit(checker, walk, candidates, kept)


def _admit(checker: Checker, walk: _Walk, candidates: dict[str, _Place], kept: list[LineageEdge]) -> list[str]:
    """Check the newly reached nodes with one read of the grants; keep the visible, count the rest."""
    levels = checker.levels({p.node.pk: p.node for p in candidates.values()}.values()) if candidates else {}
    room = MAX_NODES - len(walk.found)
    admitted: list[str] = []
    for key in sorted(candidates):
        place = candidates[key]
        if levels[place.node.pk] < Level.VIEW:
            walk.hidden.add(key)
        elif len(admitted) < room:
            walk.found[key] = place
            admitted.append(key)
        else:
            walk.truncated = True
    for edge in kept:
        if key_of(edge.run_id) in walk.found and key_of(edge.other_id, edge.version) in walk.found:
            walk.edges[edge.pk] = edge
    return admitted


def _present(walk: _Walk, root: str, depth: int) -> dict[str, Any]:
    places = walk.found
    paths = display_paths({p.node.pk: p.node for p in places.values()}.values())
    versions = refs.describe((p.node, p.version) for p in places.values() if p.version)
    nodes = []
    for key, place in sorted(places.items(), key=lambda item: (item[1].depth, item[1].node.name, item[0])):
        node = place.node
        nodes.append(
            {
                "key": key,
                "id": node.pk,
                "kind": node.kind,
                "name": node.name,
                "path": paths[node.pk],
                "depth": place.depth,
                "version": versions[place.version].as_json() if place.version else None,
            }
        )
    edges: list[dict[str, Any]] = [
        {"id": None, "source": asset, "target": version, "direction": "version"} for asset, version in walk.links
    ]
    for edge in sorted(walk.edges.values(), key=lambda e: e.pk):
        run, other = key_of(edge.run_id), key_of(edge.other_id, edge.version)
        source, target = (other, run) if edge.direction == LineageEdge.Direction.INPUT else (run, other)
        edges.append({"id": edge.pk, "source": source, "target": target, "direction": edge.direction})
    return {
        "root": root,
        "depth": depth,
        "nodes": nodes,
        "edges": edges,
        "hidden": len(walk.hidden),
        "truncated": walk.truncated,
    }
