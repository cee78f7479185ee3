"""Request-level rules: who must be signed in, and what a read-only key may do.

Object rules (who may see or change which node) live in `em.access`, not here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import ApiKey


class ApiKeyScope(BasePermission):
    """Signed in (session or key), and a `read` key only reads."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return False
        key = request.auth
        if isinstance(key, ApiKey) and key.scope == ApiKey.Scope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("This API key has the 'read' scope: it cannot change anything.")
        return True


class ApiKeyScopeOrPublicRead(ApiKeyScope):
    """As `ApiKeyScope`, and anonymous reads too when EM_PUBLIC_ANONYMOUS is on (of public nodes only,
    which `em.access` sees to)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user.is_authenticated:
            return settings.EM_PUBLIC_ANONYMOUS and request.method in SAFE_METHODS
        return super().has_permission(request, view)
