"""`Authorization: Bearer <api key>` for the CLI, the SDK and scripts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from . import services, throttle


class ApiKeyAuthentication(BaseAuthentication):
    """Bearer keys, with invalid ones counted per client IP and key prefix (accounts.throttle)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        sent = parts[1] if len(parts) == 2 else b" ".join(parts[1:])
        key_prefix = sent[: len(services.KEY_PREFIX) + 8].decode("ascii", "replace")
        wait = throttle.key_attempts_blocked(request._request, key_prefix)
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait,
                detail=(
                    f"Too many invalid API keys from this address or for this key "
                    f"(EM_API_KEY_FAILURE_LIMIT={settings.EM_API_KEY_FAILURE_LIMIT} within "
                    f"EM_AUTH_LOCKOUT_MINUTES={settings.EM_AUTH_LOCKOUT_MINUTES})."
                ),
            )
        try:
            if len(parts) != 2:
                raise services.KeyRejected("Send the key as `Authorization: Bearer <key>`.")
            return services.authenticate_key(parts[1].decode("ascii"))
        except UnicodeDecodeError as exc:
            throttle.record_key_failure(request._request, key_prefix)
            raise exceptions.AuthenticationFailed("This API key is not valid.") from exc
        except services.KeyRejected as exc:
            throttle.record_key_failure(request._request, key_prefix)
            raise exceptions.AuthenticationFailed(exc.message) from exc

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 to unauthenticated requests.
        return 'Bearer realm="em"'
