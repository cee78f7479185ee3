"""PostgreSQL `timestamptz` values parsed by psycopg's C loader instead of Django's Python one.

Django 5.2 reads every `timestamptz` through `BaseTzLoader`, a subclass of psycopg's pure-Python
`TimestamptzLoader` (so that it can set the connection's time zone on each value): a regular expression
and a `datetime.replace` per value, ~6 µs here. A 100-run search page holds 400 such values (2.6 ms),
and a folder listing four a node. psycopg's C loader (`psycopg[binary]`) parses the same text in
~0.5 µs but cannot be subclassed, so `FastTzLoader` wraps it: the same aware datetime, in the time zone
Django gives the connection (`connection.timezone`, the one its session is set to), converted only if
the server answered in another. Registered on each new PostgreSQL connection (`register`), where
Django registered its own; the class keeps Django's `timezone` attribute, which Django compares on
every cursor to decide whether to register its loader again.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format

_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own loader: the C one when psycopg[binary] is installed (`psycopg.pq.__impl__ == "binary"`).
_PARSER = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class FastTzLoader(Loader):
    """A `timestamptz` as an aware datetime in `timezone` (set on a subclass made per time zone)."""

    timezone: tzinfo | None = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        assert _PARSER is not None  # noqa: S101 — psycopg always has a timestamptz loader
        self._parse = _PARSER(oid, context).load

    def load(self, data: Any) -> datetime:
        value: datetime = self._parse(data)
        zone = self.timezone
        if zone is None:  # as Django's loader: naive, for USE_TZ = False
            return value.replace(tzinfo=None)
        return value if value.tzinfo is zone else value.astimezone(zone)


def register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: parse timestamps in C on a new PostgreSQL connection (psycopg 3
    with its C implementation only; elsewhere Django's loader stays)."""
    if connection.vendor != "postgresql" or psycopg.pq.__impl__ == "python":
        return
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection):  # psycopg2, which Django also supports
        return
    raw.adapters.register_loader(_TIMESTAMPTZ, _loader_for(connection.timezone))


@cache
def _loader_for(zone: tzinfo | None) -> type[FastTzLoader]:
    return type("ZoneTzLoader", (FastTzLoader,), {"timezone": zone})
