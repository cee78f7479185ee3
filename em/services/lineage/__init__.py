"""Lineage: which runs read and wrote which artifacts, model and dataset versions (docs/lineage.md).

`refs` resolves what a reference names (versions through a registry the Asset Hub fills in), `edges`
makes, removes and lists a run's edges, `graph` walks the neighbourhood of any node for the caller.
"""

from .edges import add_edges, remove_edge, run_lineage
from .graph import neighbourhood
from .refs import Target, VersionInfo, VersionResolver, register_ref_resolver

__all__ = [
    "Target",
    "VersionInfo",
    "VersionResolver",
    "add_edges",
    "neighbourhood",
    "register_ref_resolver",
    "remove_edge",
    "run_lineage",
]
