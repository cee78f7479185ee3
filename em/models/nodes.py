"""The node tree: one table for every kind of thing a user keeps (ARCHITECTURE.md §3 Nodes)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from em import tree


class Kind(models.TextChoices):
    FOLDER = "Folder"
    SHORTCUT = "Shortcut"
    RUN = "Run"
    ARTIFACT = "Artifact"
    AUTOTUNE = "AutoTune"
    MODEL = "Model"
    DATASET = "Dataset"


class StorageType(models.IntegerChoices):
    NONE = 0, "no files"
    FILE = 1, "one file"
    FILES = 2, "a set of files"
    VERSIONS = 3, "versions of sets of files"


STORAGE_TYPE_OF_KIND: dict[str, StorageType] = {
    Kind.FOLDER: StorageType.NONE,
    Kind.SHORTCUT: StorageType.NONE,
    Kind.RUN: StorageType.FILES,
    Kind.ARTIFACT: StorageType.FILES,
    Kind.AUTOTUNE: StorageType.FILES,
    Kind.MODEL: StorageType.VERSIONS,
    Kind.DATASET: StorageType.VERSIONS,
}

# What a node of each kind may hold: a folder holds any kind; a run holds child runs (nested runs, as
# MLflow's `mlflow.parentRunId`), which move, share and go to the trash with it. Every other kind holds
# files (or, for a shortcut, a pointer) and no nodes.
CHILD_KINDS: dict[str, frozenset[str]] = {
    Kind.FOLDER: frozenset(Kind.values),
    Kind.RUN: frozenset({Kind.RUN}),
}
CONTAINER_KINDS = frozenset(CHILD_KINDS)


class NodeQuerySet(models.QuerySet["Node"]):
    def live(self) -> NodeQuerySet:
        return self.filter(deleted_at__isnull=True)

    def subtree(self, path: str) -> NodeQuerySet:
        """The node at `path` and everything below it (an index range scan)."""
        low, high = tree.subtree_range(path)
        return self.filter(path__gte=low, path__lt=high)

    def ancestors_of(self, path: str) -> NodeQuerySet:
        """The nodes on the way from the root to `path`, the node itself included."""
        return self.filter(path__in=tree.ancestor_paths(path))


class Node(models.Model):
    """A folder, shortcut, run, artifact, AutoTune, model or dataset in somebody's tree.

    `owner` is the user whose root the node lives under; it is stored on every node (and rewritten by
    moves across trees) because the owner holds every right and is asked for on every access check.
    A deleted subtree keeps its place: every node in it carries the same `deleted_at`, and the node
    the user deleted is marked `trashed` — that is the owner's trash entry.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Subtrees are only ever deleted whole (`em.services.trash.purge_subtree`, or with their owner), so
    # Django need not look children up one level at a time; the database still checks the reference.
    # No index of its own: live children are found through `em_node_live_name_unique`, and every index
    # on this table costs a write per row on each move.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="children", db_index=False
    )
    # Unique through a constraint, not `unique=True`: that would add PostgreSQL's `varchar_pattern_ops`
    # twin index, which range queries on a "C"-collated column never use and every move must update.
    path = models.CharField(max_length=tree.MAX_PATH_LENGTH, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    target = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="shortcuts", db_index=False
    )
    labels = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    trashed = models.BooleanField(default=False)
    # The files of a node with storage type 2 (runs, artifacts, AutoTune): an immutable manifest.
    manifest = models.ForeignKey(
        "em.Manifest", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The `alternativeName` of the bundle an upload made this node from (em.services.identity): re-uploads
    # of the same bundle find it; "" for nodes made otherwise.
    bundle_id = models.CharField(max_length=255, blank=True, default="")

    objects = NodeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["path"], name="em_node_path_unique"),
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(deleted_at__isnull=True),
                name="em_node_live_name_unique",
                violation_error_message="A node with this name already exists in this folder.",
            ),
            models.UniqueConstraint(fields=["name"], condition=Q(parent__isnull=True), name="em_node_root_name_unique"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="em_node_kind_valid"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="em_node_root_depth",
            ),
        ]
        indexes = [
            models.Index(fields=["target"], name="em_node_target", condition=Q(target__isnull=False)),
            models.Index(fields=["owner", "deleted_at"], name="em_node_trash", condition=Q(trashed=True)),
            models.Index(fields=["owner"], name="em_node_root_owner", condition=Q(parent__isnull=True)),
            models.Index(fields=["parent", "bundle_id"], name="em_node_bundle", condition=~Q(bundle_id="")),
            # Run search scopes by path range; with the id alongside, PostgreSQL answers from the index.
            models.Index(
                fields=["path"],
                include=["id"],
                name="em_node_live_runs",
                condition=Q(kind="Run", deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.id})"

    @property
    def storage_type(self) -> StorageType:
        return STORAGE_TYPE_OF_KIND[self.kind]

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINER_KINDS

    def may_hold(self, kind: str) -> bool:
        """Whether a child of `kind` may live here (`CHILD_KINDS`)."""
        return kind in CHILD_KINDS.get(self.kind, frozenset())

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None

    def ancestor_paths(self) -> list[str]:
        return tree.ancestor_paths(self.path)

    def is_within(self, other: Node) -> bool:
        """Whether this node is `other` or lies below it."""
        return tree.is_within(self.path, other.path)
