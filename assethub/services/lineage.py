"""The Asset Hub's side of lineage: em's edges point at versions, which only this app knows.

em must not import the Asset Hub, so it keeps a registry of version resolvers (em.services.lineage.refs) and this
module fills it in for models and datasets (`AssethubConfig.ready()`): a lineage reference such as
`/alice/t9k-assethub/model/cv/resnet:v1` is resolved by the same `refs.resolve` as every other ref.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from em import errors
from em.models import Node
from em.services.lineage.refs import VersionInfo, register_ref_resolver

from ..models import MAIN, Tag, Version
from .assets import ASSET_KINDS
from .refs import resolve


class AssetVersions:
    """Versions of models and datasets: `path` alone is `main`'s head; a branch is its head now."""

    def resolve(self, asset: Node, ref: str | None) -> str:
        found = resolve(asset, ref or MAIN)
        if found.version is None:
            raise errors.NotFound(f"Branch {found.name!r} has no commits yet.", detail={"ref": found.name})
        return found.version.pk

    def describe(self, asset_versions: Iterable[tuple[Node, str]]) -> dict[str, VersionInfo]:
        ids = {version for _, version in asset_versions}
        tags: dict[str, list[str]] = defaultdict(list)
        for version_id, name in (
            Tag.objects.filter(version_id__in=ids).order_by("name").values_list("version_id", "name")
        ):
            tags[version_id].append(name)
        rows = Version.objects.filter(pk__in=ids).values_list("pk", "message", "created_at")
        return {
            pk: VersionInfo(pk, pk[:8], message, tuple(tags[pk]), created_at.isoformat())
            for pk, message, created_at in rows
        }


def register() -> None:
    resolver = AssetVersions()
    for kind in ASSET_KINDS:
        register_ref_resolver(kind, resolver)
