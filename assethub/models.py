"""Versions of Model and Dataset nodes: commits, branches, tags and a branch's staged changes.

An asset is an `em.models.Node` of kind Model or Dataset (storage type 3); everything here hangs off that
node with `on_delete=CASCADE`, so the asset goes to the trash, comes back and is purged with all its
versions by `em.services.trash` like any node. A version's files are an immutable `em.models.Manifest`
(PROTECT: a manifest outlives its last version only until `em.services.blobs.collect_garbage`, which
finds the reference below by itself). Refs inside an asset (a branch's head, a tag's version) are
RESTRICT: a version something points at is never deleted alone, only with its asset.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from em.models import Node

MAIN = "main"


class Version(models.Model):
    """One commit: the files (a manifest), who made it, when, why, and the commit(s) it follows.

    `id` is 40 random hex digits, written like a git commit id (and abbreviated like one). A merge has
    two parents: `parent` is the branch merged into, `merged` the branch merged from.
    """

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    asset = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+", db_index=False)
    manifest = models.ForeignKey("em.Manifest", on_delete=models.PROTECT, related_name="+", db_index=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["asset", "created_at"], name="assethub_version_log")]

    def __str__(self) -> str:
        return f"version {self.id[:8]} of {self.asset_id}"


class Branch(models.Model):
    """A movable name for a line of versions; `head` is null until its first commit."""

    asset = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    head = models.ForeignKey(Version, null=True, blank=True, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "name"], name="assethub_branch_unique")]

    def __str__(self) -> str:
        return f"branch {self.name} of {self.asset_id}"


class Tag(models.Model):
    """An immutable name for one version (`v1`, `best`), unique within its asset."""

    asset = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    version = models.ForeignKey(Version, on_delete=models.RESTRICT, related_name="tags")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "name"], name="assethub_tag_unique")]

    def __str__(self) -> str:
        return f"tag {self.name} of {self.asset_id}"


class StagedChange(models.Model):
    """A change waiting on a branch for the next commit: a file added or replaced, or a path deleted.

    Like an upload session, a staged file names its blob by digest only (no foreign key): the bytes may
    not have arrived yet, and whoever staged them (`staged_by`) must have sent them before the commit.
    """

    class Op(models.TextChoices):
        ADD = "add"
        DELETE = "delete"

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="staged", db_index=False)
    path = models.CharField(max_length=1024)
    op = models.CharField(max_length=8, choices=Op.choices)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField(default=0)
    mtime = models.DateTimeField(null=True, blank=True)
    staged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    staged_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "path"], name="assethub_staged_path_unique"),
            models.CheckConstraint(condition=Q(op="delete") | ~Q(sha256=""), name="assethub_staged_add_has_blob"),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.path}"
