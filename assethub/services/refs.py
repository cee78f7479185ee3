"""Refs: the one way a request names a version.

Inside an asset a ref is a branch name, a tag name or a commit id (or an unambiguous prefix of at least
four hex digits), tried in that order. Anywhere else it is written `path:ref`
(`/alice/t9k-assethub/model/cv/resnet:v1`), and `path` alone means its `main`. Node names may hold ':',
so the whole text is tried as a path first, as lineage references are (em.services.uploads). Every
endpoint that takes a ref resolves it here, so each accepts every spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from em import errors
from em.access import Access, Checker, Level
from em.models import Node
from em.services import lookup
from em.services.paths import nothing_at
from em.services.validation import check_text

from ..models import MAIN, Branch, Tag, Version
from .assets import asset_access

HEX = re.compile(r"^[0-9a-f]{4,40}$")
# Branch and tag names: what a URL segment and a `path:ref` carry without escaping; a full commit id is
# no name, so a name can never hide a commit.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Resolved:
    """What a ref names: a version (None for a branch without commits), how it was named, and the branch
    when it was one (commits go there)."""

    version: Version | None
    kind: str  # "branch", "tag" or "commit"
    name: str
    branch: Branch | None = None


@dataclass(frozen=True)
class Located:
    asset: Access
    ref: Resolved


def check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not NAME.match(name) or re.fullmatch(r"[0-9a-f]{40}", name):
        raise errors.InvalidInput(
            f"A {what} name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(and no 40-digit commit id).",
            detail={"name": str(name)[:200]},
        )
    return name


def _versions() -> Any:
    return Version.objects.select_related("manifest", "author")


def resolve(asset: Node, ref: str) -> Resolved:
    """The version `ref` names in `asset` (three indexed queries at most); NotFound naming the ref."""
    if not isinstance(ref, str) or not ref:
        raise errors.InvalidInput("A ref is a branch, a tag or a commit id.")
    check_text(ref, "A ref")
    branch = Branch.objects.filter(asset=asset, name=ref).select_related("head__manifest", "head__author").first()
    if branch is not None:
        return Resolved(branch.head, "branch", ref, branch)
    tag = Tag.objects.filter(asset=asset, name=ref).select_related("version__manifest", "version__author").first()
    if tag is not None:
        return Resolved(tag.version, "tag", ref)
    if HEX.match(ref):
        found = list(_versions().filter(asset=asset, id__startswith=ref)[:2])
        if len(found) > 1:
            raise errors.InvalidInput(f"{ref!r} is the start of more than one commit id; give more digits.")
        if found:
            return Resolved(found[0], "commit", found[0].id)
    raise errors.NotFound(f"{ref[:100]!r} is no branch, tag or commit of this asset.", detail={"ref": ref[:100]})


def split_ref(text: str) -> list[tuple[str, str]]:
    """The (path, ref) readings of `path[:ref]`: the whole text at `main` first, then split at the last ':'."""
    readings = [(text, MAIN)]
    if ":" in text:
        path, ref = text.rsplit(":", 1)
        readings.append((path, ref))
    return readings


def locate(checker: Checker, text: str, *, asset: Node | Access | None = None, need: Level = Level.VIEW) -> Located:
    """What `text` names: `path:ref` anywhere, or a plain ref inside `asset` (the asset the URL names).

    A `path:ref` must name `asset` itself when one is given: a request about one asset never reads
    another through a ref. A hidden path answers exactly as a missing one.
    """
    if not isinstance(text, str) or not text:
        raise errors.InvalidInput("A ref is a branch, tag or commit id, or `/path/to/asset:ref`.")
    check_text(text, "A ref")
    if not text.startswith("/"):
        if asset is None:
            raise errors.InvalidInput(f"Name the asset too: write the ref as `/path/to/asset:{text[:100]}`.")
        proof = asset_access(checker.user, asset, need)
        return Located(proof, resolve(proof.node, text))
    for path, ref in split_ref(text):
        try:
            proof = lookup.locate(checker, path, need=need)
        except errors.NotFound:
            continue
        proof = asset_access(checker.user, proof, need)
        if asset is not None and proof.node.pk != (asset.node.pk if isinstance(asset, Access) else asset.pk):
            raise errors.InvalidInput(f"{text[:200]!r} names another asset than the one this request is about.")
        return Located(proof, resolve(proof.node, ref))
    raise errors.NotFound(nothing_at(text))


def version_at(located: Located) -> Version:
    """The version a ref names, refusing a branch that has no commits yet."""
    if located.ref.version is None:
        raise errors.NotFound(f"Branch {located.ref.name!r} has no commits yet.", detail={"ref": located.ref.name})
    return located.ref.version
