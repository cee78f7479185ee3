"""Keep `?apikey=` values out of every log line: the T9k SDK sends its key in the URL, and a URL is what
access logs write down.

`redact` is the one rule; `RedactApiKeys` applies it to Django's log records (the dev server's request
lines, anything else that logs a URL: em.settings LOGGING puts it on the console handler) and
`GunicornLogger` to gunicorn's access-log atoms (deploy/gunicorn.conf.py). This module imports nothing
of Django, so gunicorn can load it before the application.
"""

from __future__ import annotations

import logging
import re
from typing import Any

try:  # gunicorn is a server dependency; the logging filter works without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn absent where only the filter is used
    _GunicornLogger = object  # type: ignore[assignment,misc]

# `apikey=` as a query parameter (percent-encoded or not), whatever case, up to the next separator.
_KEY = re.compile(r"((?:^|[?&;\s\"'])apikey(?:=|%3[dD]))[^&;\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the value of every `apikey=` parameter replaced."""
    return _KEY.sub(rf"\g<1>{REDACTED}", text) if "apikey" in text.lower() else text


class RedactApiKeys(logging.Filter):
    """A logging filter that rewrites a record's message with its key values redacted (and never drops
    a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """Gunicorn's logger with the request line, query string and referrer of access lines redacted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q", "f", "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
