"""Timestamps read from PostgreSQL through psycopg's C loader (`em.pg_times`) are the datetimes Django's
own loader gives: same instant, same time zone object, microseconds kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from em import pg_times
from em.models import Node
from tests.factories import folder, root

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TEXTS = (
    "2026-12-01 10:08:02.988037+00",
    "2026-01-01 00:00:00+00",  # no fraction: Python's isoformat leaves it out too
    "2026-06-01 12:34:56.5+02",  # another zone: the same instant, in the connection's
    "1999-12-31 23:59:59.000001-07:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
)


def _read(texts: tuple[str, ...], *, django_loader: bool) -> list[datetime]:
    with connection.cursor() as cursor:
        if django_loader:  # what Django registers on a connection, on this cursor only
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute("SELECT " + ", ".join(f"%s::timestamptz AS t{i}" for i in range(len(texts))), texts)
        return list(cursor.fetchone())


def test_connections_parse_timestamps_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(pg_times._TIMESTAMPTZ, pg_times.Format.TEXT)
    assert issubclass(loader, pg_times.FastTzLoader) and loader.timezone == connection.timezone


def test_the_fast_loader_reads_what_djangos_reads():
    fast, django = _read(TEXTS, django_loader=False), _read(TEXTS, django_loader=True)
    assert fast == django
    assert [value.tzinfo for value in fast] == [value.tzinfo for value in django] == [UTC] * len(TEXTS)
    assert [value.isoformat() for value in fast] == [value.isoformat() for value in django]
    assert fast[0].microsecond == 988037 and fast[2] == datetime(2026, 6, 1, 10, 34, 56, 500000, tzinfo=UTC)


def test_a_session_in_another_time_zone_still_reads_instants_in_the_connections():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Asia/Kolkata'")
        cursor.execute("SELECT %s::timestamptz", ["2026-01-01 00:00:00+00"])
        (value,) = cursor.fetchone()
    assert value == datetime(2026, 1, 1, tzinfo=UTC) and value.tzinfo is connection.timezone


def test_model_times_round_trip(alice):
    node = folder(root(alice), "f")
    fresh = Node.objects.get(pk=node.pk)
    assert (fresh.created_at, fresh.modified_at) == (node.created_at, node.modified_at)
    assert fresh.created_at.tzinfo is UTC
