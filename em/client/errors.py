"""Every failure the client can meet, as one exception family the CLI turns into a message and exit 1.

The server answers errors as `{"error": {"code", "message", "detail"}}`; `ClientError` carries those
three plus the HTTP status. Failures that never reached the server (no configuration, no connection)
are `ClientError`s too, with `status=None`, so that callers need a single `except`.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """A request EM refused or could not answer; `str()` is a sentence fit to show to people."""

    def __init__(self, status: int | None, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class NotFound(ClientError):
    """404: the thing does not exist or you may not see it (EM never tells the two apart)."""


class Unauthorized(ClientError):
    """401: the API key is missing, unknown, revoked or expired."""


class PermissionDenied(ClientError):
    """403: you can see the thing but may not do this to it (e.g. a read-only key writing)."""


class Conflict(ClientError):
    """409: e.g. a name already taken in the folder."""


class TooLarge(ClientError):
    """413: the request body is past a limit of the server or of a proxy in front of it."""


class Throttled(ClientError):
    """429: too many failed attempts (or requests); `retry_after` says how many seconds to wait."""

    def __init__(
        self, status: int | None, code: str, message: str, detail: Any = None, *, retry_after: int | None = None
    ) -> None:
        super().__init__(status, code, message, detail)
        self.retry_after = retry_after


class NotSignedIn(ClientError):
    """No host or API key configured: nothing was sent."""


class Unreachable(ClientError):
    """No HTTP answer at all: DNS, refused connection, TLS failure or timeout."""


class ConfigError(ClientError):
    """The configuration file cannot be read or written."""


BY_STATUS: dict[int, type[ClientError]] = {
    401: Unauthorized,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    429: Throttled,
}

# What to do about an error answer that is not EM's own (a proxy's page, a server not answering), by status.
HINTS: dict[int, str] = {
    413: (
        "The request is larger than the server, or a proxy in front of it, accepts: send less at once "
        "(e.g. upload a big bundle as several folders), or ask the administrator to raise the limit "
        "(nginx client_max_body_size, EM_MAX_JSON_BODY_BYTES)."
    ),
    429: "Too many requests or failed sign-ins: wait a while before trying again.",
    502: "The server behind the proxy is not answering: it may be restarting; try again in a minute.",
    503: "The server is unavailable: it may be restarting or overloaded; try again in a minute.",
    504: "The server took too long to answer: try again, or send less at once.",
}


def for_status(status: int) -> type[ClientError]:
    """The most specific `ClientError` subclass for an HTTP status."""
    return BY_STATUS.get(status, ClientError)
