"""Content-addressed files (ARCHITECTURE.md "Files, artifacts and the Asset Hub").

Every file is a `Blob` named by its SHA-256 and stored once, however many nodes or versions hold it.
What a node holds is a `Manifest`: an immutable list of (path → blob, size, mtime) entries, itself
identified by a digest of its entries, so uploading an unchanged folder again finds the same manifest.
A blob is deleted only when no manifest entry refers to it any more (`em.services.blobs.collect_garbage`).

Knowing a digest grants nothing: a blob is *owned* by each user who sent its bytes (`BlobOwner`), and to
anyone else it does not exist — their upload must send the bytes once (verified, then deduplicated in
storage), as Sentry owns blobs per organisation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Blob(models.Model):
    sha256 = models.CharField(max_length=64, primary_key=True)
    md5 = models.CharField(max_length=32)
    size = models.BigIntegerField()
    # Where the bytes are in the default storage; derived from the digest, kept for storage migrations.
    storage_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size} bytes)"


class BlobOwner(models.Model):
    """`user` has sent the bytes of `blob` (or was given them by a node they could read, on migration)."""

    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="owners")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "blob"], name="em_blob_owner_unique")]
        indexes = [models.Index(fields=["blob"], name="em_blob_owner_blob")]

    def __str__(self) -> str:
        return f"{self.blob_id[:12]}… owned by user {self.user_id}"


class Manifest(models.Model):
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the sorted entries.")
    file_count = models.PositiveIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"manifest {self.digest[:12]}… ({self.file_count} files)"


class ManifestEntry(models.Model):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="entries", db_index=False)
    path = models.CharField(max_length=1024)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    size = models.BigIntegerField()
    mtime = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manifest", "path"], name="em_manifest_path_unique")]
        indexes = [models.Index(fields=["blob"], name="em_manifest_entry_blob")]

    def __str__(self) -> str:
        return self.path
