"""API keys and group managers. Users and groups themselves are Django's."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The group that stands for "every signed-in user" in grants (and, with EM_PUBLIC_ANONYMOUS, everyone).
# Group names chosen by users cannot start with an underscore, so this one cannot be taken.
PUBLIC_GROUP = "__public__"


class ApiKey(models.Model):
    """A named secret a client sends as `Authorization: Bearer <key>`.

    Only the SHA-256 digest of the key is stored. A key is 256 random bits, so a fast hash is as safe
    as a slow one here (there is nothing to guess), and it lets the digest be looked up by index.
    """

    class Scope(models.TextChoices):
        READ = "read", "read only"
        WRITE = "write", "read and write"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    # SHA-256 of the key's UUID form (`accounts.services.uuid_form`), for clients that accept only UUID keys
    # (the T9k SDK, em/api/t9k). Null for keys made before UUID forms existed, until first used as a bearer.
    uuid_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="accounts_apikey_live_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class GroupManager(models.Model):
    """A user who may add and remove a group's members (and managers), so teams run their own groups."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="managers", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_groups")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="accounts_groupmanager_unique")]

    def __str__(self) -> str:
        return f"{self.user} manages {self.group}"
