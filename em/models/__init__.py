from .blobs import Blob, BlobOwner, Manifest, ManifestEntry
from .grants import NodeGroupObjectPermission, NodeUserObjectPermission
from .nodes import CONTAINER_KINDS, STORAGE_TYPE_OF_KIND, Kind, Node, NodeQuerySet, StorageType
from .runs import IndexState, LineageEdge, MetricChunk, MetricSeries, Param, Run, RunStatus, Tag
from .uploads import Upload

from .autotune import AutoTune, Trial, TrialParam  # isort: skip  # it builds on nodes and runs

__all__ = [
    "CONTAINER_KINDS",
    "STORAGE_TYPE_OF_KIND",
    "AutoTune",
    "Blob",
    "BlobOwner",
    "IndexState",
    "Kind",
    "LineageEdge",
    "Manifest",
    "ManifestEntry",
    "MetricChunk",
    "MetricSeries",
    "Node",
    "NodeGroupObjectPermission",
    "NodeQuerySet",
    "NodeUserObjectPermission",
    "Param",
    "Run",
    "RunStatus",
    "StorageType",
    "Tag",
    "Trial",
    "TrialParam",
    "Upload",
]
