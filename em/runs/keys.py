"""The keys a filter can name: what the runs in a search's scope hold, for autocompletion and warnings.

The portal's filter box completes `params.`, `metrics.` and `tags.` from these and warns about a key no
run in scope has (which would match nothing, silently). Three queries, each a DISTINCT over an index
on (run, key), cut at `limit` keys per kind: a list to choose from, not an export.
"""

from __future__ import annotations

from typing import Any, TypedDict

from em.models import MetricSeries, NodeQuerySet, Param, Tag
from em.search.compiler import ATTRIBUTES

KEY_LIMIT = 1000


class KnownKeys(TypedDict):
    attributes: list[str]
    params: list[str]
    metrics: list[str]
    tags: list[str]
    truncated: bool


def known_keys(runs: NodeQuerySet, *, limit: int = KEY_LIMIT) -> KnownKeys:
    """The sorted param, metric and tag keys of `runs` (already scoped to the caller), and the
    attributes every run has; `truncated` when a kind had more than `limit` keys."""
    ids = runs.order_by().values("pk")
    found: dict[str, list[str]] = {}
    for kind, model in (("params", Param), ("metrics", MetricSeries), ("tags", Tag)):
        keys: Any = model.objects.filter(run_id__in=ids).order_by("key").values_list("key", flat=True).distinct()
        found[kind] = list(keys[: limit + 1])
    return KnownKeys(
        attributes=sorted(ATTRIBUTES),
        params=found["params"][:limit],
        metrics=found["metrics"][:limit],
        tags=found["tags"][:limit],
        truncated=any(len(keys) > limit for keys in found.values()),
    )
