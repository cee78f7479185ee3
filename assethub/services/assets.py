"""Creating assets and proving that a node is one.

An asset is a Model or Dataset node; it lives anywhere its creator may edit, by default under
`/<user>/t9k-assethub/{model,dataset}/` (made on first use). It is created with its `main` branch, in one
transaction, so every asset has a line to commit to.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction

from em import access, errors
from em.access import Access, Checker, Level
from em.models import Kind, Node
from em.services import lookup
from em.services.nodes import create_node

from ..models import MAIN, Branch

ASSET_KINDS = (Kind.MODEL, Kind.DATASET)
HUB_FOLDER = "t9k-assethub"


def default_parent(user: Any, kind: str) -> str:
    """Where an asset goes when its creator names no folder: `/<user>/t9k-assethub/model` (or dataset)."""
    return f"/{user.get_username()}/{HUB_FOLDER}/{kind.lower()}"


def asset_access(by: Any, asset: Node | Access, need: Level = Level.VIEW) -> Access:
    """`asset` checked for `need`, and refused unless it is a model or dataset."""
    proof = access.ensure(by, asset, need)
    if proof.node.kind not in ASSET_KINDS:
        raise errors.InvalidInput(f"This node is a {proof.node.kind}; only models and datasets have versions.")
    return proof


def create_asset(
    *,
    checker: Checker,
    kind: str,
    name: str,
    parent: UUID | str | None = None,
    make_folder: bool = False,
    labels: list[str] | None = None,
    description: str = "",
) -> Node:
    """A new model or dataset with an empty `main` branch; nothing is written when anything is refused."""
    if kind not in ASSET_KINDS:
        raise errors.InvalidInput(f"An asset is a {' or a '.join(ASSET_KINDS)}, not {kind!r}.")
    by = checker.user
    where: UUID | str = parent if parent is not None else default_parent(by, kind)
    with transaction.atomic():
        folder = lookup.locate(checker, where, need=Level.EDIT, make=make_folder or parent is None)
        node = create_node(parent=folder, name=name, kind=kind, by=by, labels=labels, description=description)
        Branch.objects.create(asset=node, name=MAIN, created_by=by)
    return node
