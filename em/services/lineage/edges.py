"""Making, removing and listing a run's lineage edges: input -> run -> output.

Every way an edge is made (a bundle's associations through an upload, the SDK, `POST runs/{id}/lineage`)
resolves its references here, so each is checked alike when the edge is made: the other end must be a
node the caller may view (a run, an artifact, a folder; not a shortcut), a model or dataset always at
one real version (its `main` when no ref is given). Anything else is a 400 naming the reference; a
hidden node reads exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from em import access, errors
from em.access import Access, Checker, Level
from em.models import Kind, LineageEdge, Node
from em.services.paths import display_paths

from .refs import LINEAGE_KINDS, NoSuchVersion, Target, describe, locate

DIRECTIONS = tuple(LineageEdge.Direction.values)
MAX_REFS = 1000  # references one request (or one upload) may name


@dataclass(frozen=True)
class Planned:
    """One edge to make: the direction, and what its reference resolved to."""

    direction: str
    target: Target


def resolve(checker: Checker, lineage: Mapping[str, Sequence[str]]) -> list[Planned]:
    """Each reference of `{input: [...], output: [...]}` resolved and checked; 400 at the first bad one."""
    if sum(len(values) for values in lineage.values()) > MAX_REFS:
        raise errors.InvalidInput(f"Name at most {MAX_REFS} lineage references at once.")
    planned: list[Planned] = []
    for direction, texts in lineage.items():
        if direction not in DIRECTIONS:
            raise errors.InvalidInput(f"A lineage direction is `input` or `output`, not {direction!r}.")
        for text in texts:
            planned.append(Planned(direction, _target(checker, direction, text)))
    return planned


def _target(checker: Checker, direction: str, text: str) -> Target:
    shown = text[:300] if isinstance(text, str) else repr(text)[:300]
    try:
        target = locate(checker, text)
    except NoSuchVersion as exc:
        raise errors.InvalidInput(f"Lineage {direction} {shown!r}: {exc.message}", detail={"ref": shown}) from exc
    except errors.NotFound as exc:
        raise errors.InvalidInput(
            f"Lineage {direction} {shown!r} names nothing you can see.", detail={"ref": shown}
        ) from exc
    if target.node.kind not in LINEAGE_KINDS:
        raise errors.InvalidInput(
            f"Lineage {direction} {shown!r} is a {target.node.kind}; name the node it points to instead.",
            detail={"ref": shown},
        )
    return target


def edge_rows(run: Node, planned: Sequence[Planned]) -> list[LineageEdge]:
    """Unsaved edges of `run` for what `resolve` found (a run is never its own input or output)."""
    rows = []
    for plan in planned:
        if plan.target.node.pk == run.pk:
            raise errors.InvalidInput("A run cannot be its own input or output.")
        rows.append(
            LineageEdge(
                run=run,
                direction=plan.direction,
                other=plan.target.node,
                version=plan.target.version,
                ref=plan.target.ref,
            )
        )
    return rows


def _editable(checker: Checker, run: Node | Access) -> Access:
    """The run checked for edit: a view's proof is trusted, a bare node checked with the request's grants."""
    return access.ensure(checker.user, run if isinstance(run, Access) else checker.check(run, Level.EDIT), Level.EDIT)


def add_edges(
    *, checker: Checker, run: Node | Access, inputs: Sequence[str] = (), outputs: Sequence[str] = ()
) -> list[LineageEdge]:
    """Add edges to a run the caller may edit; an edge already there is kept as it is (idempotent)."""
    proof = _editable(checker, run)
    if proof.node.kind != Kind.RUN:
        raise errors.InvalidInput(f"Only runs have lineage edges; this is a {proof.node.kind}.")
    rows = edge_rows(proof.node, resolve(checker, {"input": list(inputs), "output": list(outputs)}))
    with transaction.atomic():
        LineageEdge.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def remove_edge(*, checker: Checker, run: Node | Access, edge_id: int) -> None:
    """Remove one edge of a run the caller may edit. An edge whose other end they cannot see is not
    there for them (404, as for no edge at all)."""
    proof = _editable(checker, run)
    edge = (
        LineageEdge.objects.filter(pk=edge_id, run_id=proof.node.pk, other__deleted_at__isnull=True)
        .select_related("other")
        .first()
    )
    if edge is None or checker.level(edge.other) < Level.VIEW:
        raise errors.NotFound("No such lineage edge on this run.")
    edge.delete()


def run_lineage(checker: Checker, run: Node) -> dict[str, list[dict[str, Any]]]:
    """A run's inputs and outputs the caller may see (the others are left out, as if not there):
    four queries whatever the number of edges (edges, grants, paths, versions)."""
    edges = list(
        LineageEdge.objects.filter(run_id=run.pk, other__deleted_at__isnull=True)
        .select_related("other")
        .order_by("direction", "other__name", "version", "pk")
    )
    levels = checker.levels([edge.other for edge in edges]) if edges else {}
    visible = [edge for edge in edges if levels[edge.other_id] >= Level.VIEW]
    paths = display_paths([edge.other for edge in visible])
    versions = describe((edge.other, edge.version) for edge in visible if edge.version)
    result: dict[str, list[dict[str, Any]]] = {direction: [] for direction in DIRECTIONS}
    for edge in visible:
        other = edge.other
        result[edge.direction].append(
            {
                "edge": edge.pk,
                "id": other.pk,
                "name": other.name,
                "kind": other.kind,
                "path": paths[other.pk],
                "ref": edge.ref,
                "version": versions[edge.version].as_json() if edge.version else None,
            }
        )
    return result
