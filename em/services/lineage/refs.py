"""What a lineage reference names: a node (by id or path), or one version of a model or dataset.

em sits below the Asset Hub and must not import it, yet a lineage edge to a model must point at a real
version. So versions are resolved through a registry: an app that gives some node kinds versions
registers a `VersionResolver` for them (the Asset Hub does, in `AssethubConfig.ready()`), and em asks the
registry. A kind with no resolver has no versions: `path:ref` on it is refused.

A reference is written as anywhere else in EM: `<id>` or `/alice/a/b`, optionally `:ref`
(`/alice/t9k-assethub/model/cv/resnet:v1`). Node names may hold ':', so the whole text is tried as a
node first, then split at the last ':'. A model or dataset named without a ref means its default line
(the Asset Hub's `main`). A hidden node answers exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from em import errors
from em.access import Access, Checker, Level
from em.models import Kind, Node
from em.services import lookup
from em.services.paths import nothing_at
from em.services.validation import check_text

# The kinds a lineage edge may point at: every kind but a shortcut, which would give another node's
# lineage a second name (name its target instead). Runs, artifacts and versions are the usual ends; a
# folder is accepted as a run's destination ("wrote into /alice/models"), as bundles have it.
LINEAGE_KINDS = frozenset(Kind.values) - {Kind.SHORTCUT}
MAX_REF_CHARS = 2_000


@dataclass(frozen=True)
class VersionInfo:
    """A version as the graph shows it: its id, a short name for people, the tags that name it."""

    id: str
    short: str
    message: str = ""
    tags: tuple[str, ...] = ()
    created_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short": self.short,
            "message": self.message,
            "tags": list(self.tags),
            "created_at": self.created_at,
        }


class VersionResolver(Protocol):
    """What an app that gives a node kind versions tells em about them."""

    def resolve(self, asset: Node, ref: str | None) -> str:
        """The id of the version `ref` names in `asset` (None: the default line's head).

        Raises `errors.NotFound` (or InvalidInput) with a message naming the ref when it names none."""
        ...

    def describe(self, asset_versions: Iterable[tuple[Node, str]]) -> dict[str, VersionInfo]:
        """Version id -> what to show of it, for many versions at once (a constant number of queries)."""
        ...


class NoSuchVersion(errors.NotFound):
    """The asset is there and visible, but the ref names none of its versions."""

    code = "no_such_version"


_resolvers: dict[str, VersionResolver] = {}


def register_ref_resolver(kind: str, resolver: VersionResolver) -> None:
    """Give `kind` versions: `path:ref` on a node of that kind is resolved by `resolver` from now on."""
    _resolvers[kind] = resolver


def resolver_for(kind: str) -> VersionResolver | None:
    return _resolvers.get(kind)


def has_versions(kind: str) -> bool:
    return kind in _resolvers


@dataclass(frozen=True)
class Target:
    """What a reference names, checked: the node (with the caller's access), and the version if any.

    `ref` is the ref text as written ("" when none was), kept for display; `version` is what it resolved
    to, "" for runs and artifacts, or for a whole asset named as a graph's starting point.
    """

    access: Access
    version: str = ""
    ref: str = ""

    @property
    def node(self) -> Node:
        return self.access.node


def readings(text: str) -> list[tuple[str, str | None]]:
    """The (node reference, ref) readings of `text`: the whole text first, then split at the last ':'."""
    found: list[tuple[str, str | None]] = [(text, None)]
    if ":" in text:
        head, ref = text.rsplit(":", 1)
        if head and ref:
            found.append((head, ref))
    return found


def locate(checker: Checker, text: Any, *, need: Level = Level.VIEW, whole_asset: bool = False) -> Target:
    """The node and version `text` names, which the caller may see (and reach `need` on).

    A model or dataset named without a ref resolves to its default version, unless `whole_asset` (a
    graph may start at the asset itself). NotFound when nothing visible is named, alike for hidden and
    missing; the resolver's own NotFound when a visible asset has no such version.
    """
    if not isinstance(text, str) or not text.strip():
        raise errors.InvalidInput("A lineage reference is a node id or path, optionally `:ref` (`/alice/m:v1`).")
    if len(text) > MAX_REF_CHARS:
        raise errors.InvalidInput(f"A lineage reference is at most {MAX_REF_CHARS} characters.")
    check_text(text, "A lineage reference")
    text = text.strip()
    for where, ref in readings(text):
        try:
            found = lookup.locate(checker, where, need=need)
        except errors.NotFound:
            continue
        return _versioned(found, ref, whole_asset=whole_asset)
    raise errors.NotFound(nothing_at(text) if text.startswith("/") else "Node not found.", detail={"ref": text[:300]})


def _versioned(found: Access, ref: str | None, *, whole_asset: bool) -> Target:
    node = found.node
    resolver = resolver_for(node.kind)
    if resolver is None:
        if ref is not None:
            raise errors.InvalidInput(
                f"{node.name!r} is a {node.kind}; only models and datasets have versions (`:{ref[:100]}`).",
                detail={"ref": ref[:100]},
            )
        return Target(found)
    if ref is None and whole_asset:
        return Target(found)
    try:
        version = resolver.resolve(node, ref)
    except errors.NotFound as exc:
        raise NoSuchVersion(exc.message, detail=exc.detail) from exc
    return Target(found, version, ref or "")


def describe(asset_versions: Iterable[tuple[Node, str]]) -> dict[str, VersionInfo]:
    """What to show of each (asset, version id): each resolver is asked once for all of its versions."""
    by_resolver: dict[int, tuple[VersionResolver, list[tuple[Node, str]]]] = {}
    unknown: list[str] = []
    for asset, version in asset_versions:
        resolver = resolver_for(asset.kind)
        if resolver is None:
            unknown.append(version)
        else:
            by_resolver.setdefault(id(resolver), (resolver, []))[1].append((asset, version))
    shown: dict[str, VersionInfo] = {}
    for resolver, pairs in by_resolver.values():
        shown.update(resolver.describe(pairs))
        unknown += [version for _, version in pairs]
    for version in unknown:
        shown.setdefault(version, VersionInfo(version, version[:8]))
    return shown
