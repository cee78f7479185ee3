"""An asset's history as a graph: ancestors, the merge base, and the log of a ref.

The whole graph of an asset (id, parents, time) is read in one query and walked in memory: an asset's
versions number in the thousands at most, and one query beats one per generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ..models import Version


@dataclass(frozen=True)
class Graph:
    parents: dict[str, tuple[str, ...]]
    created: dict[str, datetime]

    def ancestors(self, start: str) -> set[str]:
        """`start` and every version it descends from."""
        seen = {start}
        stack = [start]
        while stack:
            for parent in self.parents.get(stack.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def merge_base(self, ours: str, theirs: str) -> str | None:
        """The newest version both descend from (a lowest common ancestor: a child is always younger
        than its parents), or None for unrelated histories."""
        common = self.ancestors(ours) & self.ancestors(theirs)
        return max(common, key=lambda v: (self.created[v], v)) if common else None


def graph_of(asset_id: UUID) -> Graph:
    rows = Version.objects.filter(asset_id=asset_id).values_list("id", "parent_id", "merged_id", "created_at")
    parents: dict[str, tuple[str, ...]] = {}
    created: dict[str, datetime] = {}
    for vid, parent, merged, at in rows:
        parents[vid] = tuple(p for p in (parent, merged) if p)
        created[vid] = at
    return Graph(parents, created)
