"""`/apis/v1/graphs`: lineage in the T9k shape, over em.services.lineage.

A T9k edge is `{from, to}` between two nodes, one of them a run: `artifact → run` is an input of the
run, `run → artifact` an output (EM's edges are input -> run -> output, em.models.LineageEdge). Reading
answers the nodes one step upstream (`in`) and downstream (`out`) of `current` that the caller may see.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

from em import errors
from em.access import Level
from em.models import Kind, Node
from em.services.lineage import add_edges, neighbourhood

from .nodes import find
from .wire import T9kView, node_json, ok

MAX_EDGES = 1000


def _pairs(body: dict[str, Any]) -> list[tuple[str, str]]:
    graphs = body.get("graphs")
    if not isinstance(graphs, list) or not all(isinstance(g, dict) for g in graphs):
        raise errors.InvalidInput('send {"graphs": [{"from": node, "to": node}, ...]}')
    if len(graphs) > MAX_EDGES:
        raise errors.InvalidInput(f"at most {MAX_EDGES} edges a request")
    pairs = []
    for edge in graphs:
        source, target = edge.get("from"), edge.get("to")
        if not isinstance(source, str) or not isinstance(target, str):
            raise errors.InvalidInput("each edge is {from: node id or path, to: node id or path}")
        pairs.append((source, target))
    return pairs


class GraphsView(T9kView):
    def get(self, request: Request) -> Response:
        current = find(self, self.param("current"))
        graph = neighbourhood(self.checker, str(current.node.pk), depth=1)
        root = graph["root"]
        ids = {node["key"]: node["id"] for node in graph["nodes"]}
        upstream = [ids[e["source"]] for e in graph["edges"] if e["target"] == root and e["direction"] != "version"]
        downstream = [ids[e["target"]] for e in graph["edges"] if e["source"] == root and e["direction"] != "version"]
        loaded = Node.objects.select_related("editor").in_bulk([*upstream, *downstream])
        return ok(
            {
                "in": node_json(self.checker, [loaded[i] for i in dict.fromkeys(upstream)]),
                "out": node_json(self.checker, [loaded[i] for i in dict.fromkeys(downstream)]),
            }
        )

    def post(self, request: Request) -> Response:
        pairs = _pairs(self.body())
        with transaction.atomic():
            for source_ref, target_ref in pairs:
                source, target = find(self, source_ref), find(self, target_ref)
                if target.node.kind == Kind.RUN:
                    add_edges(checker=self.checker, run=_editable(target), inputs=[str(source.node.pk)])
                elif source.node.kind == Kind.RUN:
                    add_edges(checker=self.checker, run=_editable(source), outputs=[str(target.node.pk)])
                else:
                    raise errors.InvalidInput(
                        f"an edge joins a run to something: neither {source_ref!r} nor {target_ref!r} is a run"
                    )
        return ok({"graphs": [{"from": source, "to": target} for source, target in pairs]})


def _editable(run: Any) -> Any:
    if run.level < Level.EDIT:
        raise errors.PermissionDenied("permission denied")
    return run
