"""Upload sessions: the manifest a client announced, kept until it commits (docs/runs-api.md).

A session records what the client wants to create (kind, where, under what name, with which conflict
strategy, metadata and lineage) and the files it holds. The blobs themselves arrive separately, by
digest; committing the session turns the announced files into a `Manifest` on a new node. Sessions are
short-lived: `em.services.blobs.collect_garbage` drops old ones.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .nodes import Node


class Upload(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        COMMITTED = "committed"

    class Conflict(models.TextChoices):
        SKIP = "skip"
        ERROR = "error"
        NEW = "new"
        REPLACE = "replace"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    parent = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    conflict_strategy = models.CharField(max_length=8, choices=Conflict.choices, default=Conflict.ERROR)
    metadata = models.JSONField(default=dict, blank=True)
    lineage = models.JSONField(default=dict, blank=True, help_text='{"input": [refs], "output": [refs]}')
    files = models.JSONField(default=list, help_text="[{path, size, sha256, mtime}] as validated.")
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="em_upload_created")]

    def __str__(self) -> str:
        return f"upload {self.id} of {self.kind} {self.name!r} ({self.state})"
