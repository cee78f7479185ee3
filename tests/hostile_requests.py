"""Hostile values and a sender that survives them, for the API fuzz tests (tests/test_hostile_api.py).

A request body is written as JSON text by hand (`to_json`) so that what no JSON encoder emits can be
sent too: NaN, `1e400`, lone surrogates as `\\ud800` escapes, nesting far past Python's recursion
limit. Every request runs in a savepoint, so one that breaks the database transaction (as an
unguarded NUL does on PostgreSQL) shows as its own failure instead of failing every request after it.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from django.db import transaction
from rest_framework.test import APIClient


@dataclass(frozen=True)
class Raw:
    """JSON text sent as it is (what `json.dumps` would refuse or write differently)."""

    text: str


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


# Values put in place of each field of a valid body, one at a time.
HOSTILE_VALUES: dict[str, Any] = {
    "nul": "a\x00b",
    "lone surrogate": "a\ud800b",
    "bidi override": "a\u202eb",
    "oversized string": "x" * 70_000,  # past every text limit (64 KiB of `extra` the largest)
    "huge int": 10**40,
    "huge negative int": -(10**40),
    "int64 overflow": 2**63,
    "huge float": 1e308,
    "float overflowing to inf": Raw("1e400"),
    "NaN": Raw("NaN"),
    "-Infinity": Raw("-Infinity"),
    "nesting past the recursion limit": Raw("[" * 5_000 + "]" * 5_000),
    "nested 200 deep": _nested(200),
    "null": None,
    "true": True,
    "zero": 0,
    "float": 1.5,
    "string": "x",
    "empty string": "",
    "list": [1, "x"],
    "object": {"a": {"b": 1}},
    "far-future date with odd offset": "9999-12-31T23:59:59-23:59",
    "timestamp in milliseconds": 1.7e12,
}
# Keys added to each object of a valid body (free-form mappings take them as data).
HOSTILE_KEYS: dict[str, str] = {
    "nul key": "k\x00",
    "lone surrogate key": "k\udfff",
    "oversized key": "k" * 100_000,
    "dotted nul key": "train.\x00",
}
# Values of query parameters and path segments, already percent-encoded.
HOSTILE_QUERY: dict[str, str] = {
    "nul": quote("a\x00b"),
    "invalid utf-8 (a surrogate)": "%ED%A0%80",
    "huge number": "9" * 40,
    "negative": "-1",
    "NaN": "NaN",
    "overflowing float": "1e400",
    "oversized": "x" * 20_000,
    "brackets": quote("[" * 1000),
    "quote": quote("' OR 1=1 --"),
    "empty": "",
    "percent": "%",
    "far-future date": quote("9999-12-31T23:59:59-23:59"),
}


def to_json(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


Path = tuple[str | int, ...]


def leaf_paths(value: Any, at: Path = ()) -> Iterator[Path]:
    """Every field of a body: each key of each object and the first item of each list, outermost first."""
    if at:
        yield at
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaf_paths(inner, (*at, key))
    elif isinstance(value, list) and value:
        yield from leaf_paths(value[0], (*at, 0))


def object_paths(value: Any, at: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        yield at
        for key, inner in value.items():
            yield from object_paths(inner, (*at, key))
    elif isinstance(value, list) and value:
        yield from object_paths(value[0], (*at, 0))


def replaced(body: Any, path: Path, new: Any) -> Any:
    """A copy of `body` with the value at `path` replaced."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        assert isinstance(head, str)
        return {**body, head: replaced(body[head], rest, new)}
    assert isinstance(head, int)
    return [replaced(item, rest, new) if i == head else item for i, item in enumerate(body)]


def with_key(body: Any, path: Path, key: str) -> Any:
    """A copy of `body` whose object at `path` holds one more key."""
    if not path:
        return {**body, key: 1}
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: with_key(body[head], rest, key)}
    return [with_key(item, rest, key) if i == head else item for i, item in enumerate(body)]


def fill(value: Any, ids: dict[str, str]) -> Any:
    """`value` with `{name}` placeholders in its strings replaced by the ids of a test's world."""
    if isinstance(value, str):
        return value.format(**ids) if value.startswith("{") or "/{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def mutations(body: Any) -> list[tuple[str, Any]]:
    """(what was done, the body) for each hostile value in place of each field (and of the whole body),
    and each hostile key added to each object."""
    cases: list[tuple[str, Any]] = []
    for path in [(), *leaf_paths(body)]:
        for name, value in HOSTILE_VALUES.items():
            cases.append((f"{'.'.join(map(str, path)) or 'body'} = {name}", replaced(body, path, value)))
    for path in object_paths(body):
        for name, key in HOSTILE_KEYS.items():
            cases.append((f"{'.'.join(map(str, path)) or 'body'} + {name}", with_key(body, path, key)))
    return cases


@dataclass
class Outcome:
    status: int
    problem: str | None  # why the answer is wrong, or None


def send(client: APIClient, method: str, url: str, body: str | None = None, **headers: str) -> Outcome:
    """Send one request; a 5xx, an exception or an error that is not the API's error shape is a problem."""
    client.raise_request_exception = True
    kwargs: dict[str, Any] = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    if body is not None:
        kwargs.update(data=body.encode("utf-8", "surrogatepass"), content_type="application/json")
    try:
        with transaction.atomic():
            response = client.generic(method, url, **kwargs)
    except Exception as exc:  # the point: any exception is a finding
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome(500, f"raised {type(exc).__name__}: {str(exc)[:200]} at {where.filename}:{where.lineno}")
    status = response.status_code
    if status >= 500:
        return Outcome(status, f"answered {status}")
    if status >= 400 and method != "HEAD":
        try:
            raw = b"".join(cast(Any, response).streaming_content) if response.streaming else response.content
            error = json.loads(raw)
            error = error["error"]
            shaped = isinstance(error["code"], str) and isinstance(error["message"], str) and "detail" in error
        except (ValueError, KeyError, TypeError):
            shaped = False
        if not shaped:
            return Outcome(status, f"answered {status} outside the error shape: {response.content[:200]!r}")
    return Outcome(status, None)
