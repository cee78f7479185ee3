"""Errors a user can meet, one type per failure; `em.api.errors` maps them to the API's error shape.

Services raise these; nothing below the API layer knows about HTTP except through `status`.
"""

from __future__ import annotations

from typing import Any


class EMError(Exception):
    """Base of every user-facing error: a stable `code`, a sentence for people, optional detail."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(EMError):
    code = "invalid"
    status = 400


class InvalidName(InvalidInput):
    code = "invalid_name"


class NotFound(EMError):
    """The thing does not exist *or the caller may not see it*: the two are indistinguishable."""

    code = "not_found"
    status = 404


class PermissionDenied(EMError):
    """The caller can see the thing but may not do this to it."""

    code = "permission_denied"
    status = 403


class Conflict(EMError):
    code = "conflict"
    status = 409


class NameClash(Conflict):
    code = "name_clash"


class InvalidMove(EMError):
    code = "invalid_move"
    status = 400


class TreeTooDeep(InvalidInput):
    code = "too_deep"
