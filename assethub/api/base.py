"""The base of every view whose URL names an asset, and how versions are presented."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from rest_framework.request import Request

from accounts.permissions import ApiKeyScopeOrPublicRead
from em.api.base import NodeView

from ..models import Tag, Version
from ..services.assets import asset_access
from ..services.refs import Located
from .serializers import VersionSerializer


class AssetView(NodeView):
    """A view of one model or dataset (em's NodeView: loaded and checked at the level the HTTP method
    needs before the handler runs), refused unless the node is an asset."""

    not_found = "Asset not found."
    permission_classes = [ApiKeyScopeOrPublicRead]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if hasattr(self, "access"):
            asset_access(request.user, self.access)


def present_versions(versions: Sequence[Version]) -> list[dict[str, Any]]:
    """Version JSON for a page: the versions' tags in one query (select `manifest` and `author` first)."""
    tags: dict[str, list[str]] = defaultdict(list)
    for version_id, name in Tag.objects.filter(version__in=[v.pk for v in versions]).values_list("version_id", "name"):
        tags[version_id].append(name)
    return list(VersionSerializer(versions, many=True, context={"tags": tags}).data)


def present_version(version: Version | None) -> dict[str, Any] | None:
    return present_versions([version])[0] if version is not None else None


def present_ref(located: Located) -> dict[str, Any]:
    ref = located.ref
    return {"kind": ref.kind, "name": ref.name, "commit": ref.version.pk if ref.version is not None else None}
