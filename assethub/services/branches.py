"""Branches (models only, beside `main`) and tags (any asset): names for versions.

A branch starts at any ref (the head of `main` by default) or, with `orphan`, empty: a line of its own
that shares no history (merging it later is refused as unrelated). A tag names one version for good:
it is never moved, and a name taken already is a clear conflict. Branch and tag names never coincide,
so a ref always reads one way.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from em import access, errors
from em.access import Access, Level
from em.models import Kind, Node

from ..models import MAIN, Branch, Tag
from . import refs
from .assets import asset_access


class RefExists(errors.Conflict):
    code = "ref_exists"


def _ensure_free(asset: Node, name: str, what: str) -> None:
    for model, kind in ((Branch, "branch"), (Tag, "tag")):
        if model.objects.filter(asset=asset, name=name).exists():
            raise RefExists(
                f"This asset has a {kind} named {name!r} already; a {what} needs a name of its own.",
                detail={"name": name, "kind": kind},
            )


def create_branch(
    *, asset: Node | Access, by: Any, name: Any, start: str | None = None, orphan: bool = False
) -> Branch:
    proof = asset_access(by, asset, Level.EDIT)
    if proof.node.kind != Kind.MODEL:
        raise errors.InvalidInput("A dataset has one branch, `main`; only models have more.")
    name = refs.check_name(name, "branch")
    if orphan and start is not None:
        raise errors.InvalidInput("An orphan branch starts empty: give no `from`.")
    head = None if orphan else refs.locate(access.checker_for(by), start or MAIN, asset=proof).ref.version
    try:
        with transaction.atomic():
            _ensure_free(proof.node, name, "branch")
            return Branch.objects.create(asset=proof.node, name=name, head=head, created_by=by)
    except IntegrityError as exc:  # made meanwhile by a concurrent request
        raise RefExists(f"This asset has a branch named {name!r} already.", detail={"name": name}) from exc


def delete_branch(*, asset: Node | Access, by: Any, name: str) -> None:
    """Drop a branch and what is staged on it; its versions stay (tags and other branches may hold them)."""
    proof = asset_access(by, asset, Level.EDIT)
    if name == MAIN:
        raise errors.InvalidInput("`main` cannot be deleted.")
    deleted, _ = Branch.objects.filter(asset=proof.node, name=name).delete()
    if not deleted:
        raise errors.NotFound(f"This asset has no branch {name[:100]!r}.")


def create_tag(*, asset: Node | Access, by: Any, name: Any, ref: str = MAIN) -> Tag:
    proof = asset_access(by, asset, Level.EDIT)
    name = refs.check_name(name, "tag")
    version = refs.version_at(refs.locate(access.checker_for(by), ref, asset=proof))
    try:
        with transaction.atomic():
            _ensure_free(proof.node, name, "tag")
            return Tag.objects.create(asset=proof.node, name=name, version=version, created_by=by)
    except IntegrityError as exc:
        raise RefExists(
            f"This asset has a tag named {name!r} already; tags never move.", detail={"name": name}
        ) from exc
