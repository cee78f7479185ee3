"""API keys and groups: the operations behind accounts' API."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from em import errors
from em.prepared import Prepared

from .models import PUBLIC_GROUP, ApiKey, GroupManager

KEY_PREFIX = "em_"
# Touch `last_used_at` at most this often, so that reading with a key is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,149}$")


class KeyRejected(errors.EMError):
    """The bearer key is unknown, revoked or expired."""

    code = "invalid_api_key"
    status = 401


def digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def uuid_form(raw_key: str) -> str:
    """The key's UUID form, for clients that take nothing but a UUID as a key (the T9k SDK's `em`).

    Derived from the key (122 of its hash's bits, shaped as a version-4 UUID), so it is as secret as the
    key, is the same every time it is asked for, and goes with the key: revoking the key revokes it. Only
    its digest is stored, like the key's.
    """
    hashed = hashlib.sha256(b"em-api-key-uuid-form:" + raw_key.encode()).digest()
    return str(uuid.UUID(bytes=hashed[:16], version=4))


def create_key(
    *, user: Any, name: str, scope: str = ApiKey.Scope.WRITE, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise errors.InvalidInput("Name the key (1 to 100 characters).")
    if scope not in ApiKey.Scope.values:
        raise errors.InvalidInput("A key's scope is 'read' or 'write'.")
    if expires_at is not None and expires_at <= timezone.now():
        raise errors.InvalidInput("The expiry must lie in the future.")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                user=user,
                name=name,
                prefix=raw[:11],
                digest=digest(raw),
                uuid_digest=digest(uuid_form(raw)),
                scope=scope,
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        raise errors.NameClash(f"You already have a key named {name!r}.") from exc
    return key, raw


def revoke_key(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def keys_of(user: Any) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


# The key by either digest, with its user: every API request asks one of these (em.prepared).
_BY_DIGEST: Prepared[ApiKey] = Prepared(
    lambda value: ApiKey.objects.select_related("user").filter(digest=value)[:1],
    (ApiKey._meta.get_field("digest"), "sentinel:" + secrets.token_hex(16)),
)
_BY_UUID_DIGEST: Prepared[ApiKey] = Prepared(
    lambda value: ApiKey.objects.select_related("user").filter(uuid_digest=value)[:1],
    (ApiKey._meta.get_field("uuid_digest"), "sentinel:" + secrets.token_hex(16)),
)


def authenticate_key(raw_key: str) -> tuple[Any, ApiKey]:
    """The user behind a bearer key, or KeyRejected saying why it was refused."""
    key = _BY_DIGEST.first(digest(raw_key))
    user, key = _accept(key)
    if key.uuid_digest is None:  # a key older than UUID forms gets one the first time it is used
        key.uuid_digest = digest(uuid_form(raw_key))
        ApiKey.objects.filter(pk=key.pk).update(uuid_digest=key.uuid_digest)
    return user, key


def authenticate_uuid_key(text: str) -> tuple[Any, ApiKey]:
    """The user behind a key's UUID form (`uuid_form`), or KeyRejected saying why it was refused."""
    try:
        canonical = str(uuid.UUID(text))
    except (ValueError, TypeError, AttributeError) as exc:
        raise KeyRejected("This API key is not valid: a key's UUID form looks like 1b4e28ba-2fa1-4d2e-….") from exc
    return _accept(_BY_UUID_DIGEST.first(digest(canonical)))


def _accept(key: ApiKey | None) -> tuple[Any, ApiKey]:
    """The key's user if the key is live (touching `last_used_at` now and then), else KeyRejected."""
    if key is None or not key.user.is_active:
        raise KeyRejected("This API key is not valid.")
    if key.revoked_at is not None:
        raise KeyRejected("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise KeyRejected(f"This API key expired at {key.expires_at.isoformat()}.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key.user, key


# --- groups ----------------------------------------------------------------------------------------


def groups_for(user: Any) -> QuerySet[Group]:
    """The groups `user` belongs to or manages (every group for staff), never the public group."""
    groups = Group.objects.exclude(name=PUBLIC_GROUP)
    if not (user.is_staff or user.is_superuser):
        groups = groups.filter(Q(user=user) | Q(managers__user=user))
    return groups.distinct().order_by("name")


def is_manager(user: Any, group: Group) -> bool:
    return bool(user.is_staff or user.is_superuser) or GroupManager.objects.filter(group=group, user=user).exists()


def _require_manager(user: Any, group: Group) -> None:
    if not is_manager(user, group):
        raise errors.PermissionDenied("Only the group's managers may change its members.")


def _user_named(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise errors.InvalidInput(f"There is no user named {username!r}.", detail={"username": username})
    return user


def create_group(*, name: str, by: Any) -> Group:
    """A new group with its creator as member and manager."""
    if not GROUP_NAME.match(name or ""):
        raise errors.InvalidName(
            "A group name has 1 to 150 letters, digits, '.', '_' or '-', and starts with a letter or digit."
        )
    try:
        with transaction.atomic():
            group = Group.objects.create(name=name)
            group.user_set.add(by)
            GroupManager.objects.create(group=group, user=by)
    except IntegrityError as exc:
        raise errors.NameClash(f"A group named {name!r} already exists.") from exc
    return group


def add_member(*, group: Group, username: str, by: Any) -> None:
    _require_manager(by, group)
    group.user_set.add(_user_named(username))


def _keep_a_manager(group: Group, leaving: Any) -> None:
    """Refuse to take away a group's last manager. Callers hold the group's row lock, so two concurrent
    removals cannot both see another manager left."""
    managers = GroupManager.objects.filter(group=group)
    if managers.filter(user=leaving).exists() and not managers.exclude(user=leaving).exists():
        raise errors.Conflict("A group keeps at least one manager.")


def remove_member(*, group: Group, username: str, by: Any) -> None:
    _require_manager(by, group)
    user = _user_named(username)
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)  # serialise changes to this group
        _keep_a_manager(group, user)
        group.user_set.remove(user)
        GroupManager.objects.filter(group=group, user=user).delete()


def add_manager(*, group: Group, username: str, by: Any) -> None:
    _require_manager(by, group)
    user = _user_named(username)
    with transaction.atomic():
        group.user_set.add(user)
        GroupManager.objects.get_or_create(group=group, user=user)


def remove_manager(*, group: Group, username: str, by: Any) -> None:
    _require_manager(by, group)
    user = _user_named(username)
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)  # serialise changes to this group
        _keep_a_manager(group, user)
        GroupManager.objects.filter(group=group, user=user).delete()
