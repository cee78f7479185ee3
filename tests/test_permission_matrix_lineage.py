"""The permission matrix over the lineage endpoints (tests/matrix.py: every caller of ARCHITECTURE.md §7).

The run is the place's `run`; its other end is the place's `other_run`, which every caller who sees the
place sees too. A refused request must change nothing, edges included.
"""

from __future__ import annotations

from typing import Any

import pytest

from em.models import LineageEdge
from tests.matrix import ROLES, Endpoint, Place, World, check, reads, world, writes

__all__ = ["world"]  # the module-scoped fixture
pytestmark = pytest.mark.django_db


def _edge(place: Place) -> LineageEdge:
    """An edge the owner made (other_run -> run), for a caller to delete or to see."""
    edge, _ = LineageEdge.objects.get_or_create(run=place.run.node, direction="input", other=place.other_run.node)
    return edge


def _delete(c: Any, p: Place) -> Any:
    edge = _edge(p)
    response = c.delete(f"/api/v1/runs/{p.run.node.pk}/lineage/{edge.pk}")
    gone = not LineageEdge.objects.filter(pk=edge.pk).exists()
    assert gone == (response.status_code == 204), "an edge went although the delete was refused (or stayed)"
    return response


def _add(c: Any, p: Place) -> Any:
    response = c.post(f"/api/v1/runs/{p.run.node.pk}/lineage", {"input": [str(p.other_run.node.pk)]}, format="json")
    made = LineageEdge.objects.filter(run=p.run.node, other=p.other_run.node).exists()
    assert made == (response.status_code == 201), "an edge was made although the request was refused (or not)"
    return response


def _sees_the_edge(response: Any, role: str, place: Place, world: World) -> None:
    assert [e["id"] for e in response.json()["input"]] == [str(place.other_run.node.pk)]


def _graph_holds_both(response: Any, role: str, place: Place, world: World) -> None:
    keys = {n["key"] for n in response.json()["nodes"]}
    assert keys == {str(place.run.node.pk), str(place.other_run.node.pk)}


ENDPOINTS: dict[str, Endpoint] = {
    "a run's lineage": Endpoint(
        lambda c, p, w, r: (_edge(p), c.get(f"/api/v1/runs/{p.run.node.pk}/lineage"))[1], reads(), _sees_the_edge
    ),
    "add lineage to a run": Endpoint(lambda c, p, w, r: _add(c, p), writes(201), _sees_the_edge),
    "remove a lineage edge": Endpoint(lambda c, p, w, r: _delete(c, p), writes(204)),
    "the lineage graph": Endpoint(
        lambda c, p, w, r: (_edge(p), c.get("/api/v1/lineage", {"node": str(p.run.node.pk), "depth": 2}))[1],
        reads(),
        _graph_holds_both,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(endpoint: str, role: str, world: World, settings: Any) -> None:
    check(ENDPOINTS[endpoint], role, world, settings)
