from .grants import NodeGroupObjectPermission, NodeUserObjectPermission
from .nodes import CONTAINER_KINDS, STORAGE_TYPE_OF_KIND, Kind, Node, NodeQuerySet, StorageType

__all__ = [
    "CONTAINER_KINDS",
    "STORAGE_TYPE_OF_KIND",
    "Kind",
    "Node",
    "NodeGroupObjectPermission",
    "NodeQuerySet",
    "NodeUserObjectPermission",
    "StorageType",
]
