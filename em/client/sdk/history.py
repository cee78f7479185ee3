"""Reading metric histories back from the server, in the compact form (docs/runs-api.md "Compact histories").

    from em.client.sdk.history import metric_history
    loss = metric_history(run_id, "train.loss", max_points=100_000)   # the whole series, up to 100,000
    loss["step"], loss["value"]                                       # lists, null points as None

The SDK asks for `application/vnd.em.history` — the stored 8-byte arrays behind a small JSON header,
several times faster to send and to read than JSON numbers — and reads the frames with `struct` and
`array` alone (no NumPy needed); a server that answers JSON instead is read as JSON. A history is the
same dict either way: `key`, `count`, `downsampled`, `step`, `epoch`, `timestamp`, `value`, `min`, `max`
(and `run` from `metric_histories`).
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from typing import Any
from urllib.parse import quote

from em.client import config
from em.client.errors import ClientError
from em.client.http import Client

MEDIA_TYPE = "application/vnd.em.history"
# Anything else only as a last resort: a server that does not know the compact form answers JSON.
ACCEPT = f"{MEDIA_TYPE}, */*;q=0.1"
MAGIC = b"EMH1"
NO_EPOCH = -(2**63)
_TYPECODES = {"<i8": "q", "<f8": "d"}


def _column(raw: memoryview, dtype: str, name: str) -> list[Any]:
    """A column's values, null where the compact form spells null (NaN, or NO_EPOCH for epochs)."""
    if dtype not in _TYPECODES:
        raise ClientError(None, "bad_response", f"The history column {name!r} has an unknown type {dtype!r}.")
    values = array(_TYPECODES[dtype])
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    items: list[Any] = values.tolist()
    if dtype == "<f8":
        return [None if v != v else v for v in items]  # NaN is the only value unequal to itself
    if name == "epoch":
        return [None if v == NO_EPOCH else v for v in items]
    return items


def decode(body: bytes) -> list[dict[str, Any]]:
    """The histories in an answer of the compact form, in order."""
    view = memoryview(body)
    out: list[dict[str, Any]] = []
    at = 0
    while at < len(view):
        if bytes(view[at : at + 4]) != MAGIC or at + 8 > len(view):
            raise ClientError(None, "bad_response", "The server's history answer is not in the compact form.")
        (length,) = struct.unpack_from("<I", view, at + 4)
        header = json.loads(bytes(view[at + 8 : at + 8 + length]))
        at += 8 + length
        history: dict[str, Any] = {k: header[k] for k in ("key", "count", "downsampled") if k in header}
        if "run" in header:
            history["run"] = header["run"]
        history["min"] = history["max"] = None
        size = 8 * int(header["points"])
        for column in header["columns"]:
            name, dtype = column.split(":", 1)
            if at + size > len(view):
                raise ClientError(None, "bad_response", "The server's history answer was cut short.")
            history[name] = _column(view[at : at + size], dtype, name)
            at += size
        out.append(history)
    return out


def _read(response: Any) -> list[dict[str, Any]]:
    with response:
        body = response.content
        compact = response.headers.get("Content-Type", "").startswith(MEDIA_TYPE)
    if compact:
        return decode(body)
    answer = json.loads(body)
    return list(answer["series"]) if isinstance(answer, dict) and "series" in answer else [answer]


def _call(client: Client | None, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    if client is not None:
        return _read(client.transfer(method, path, **kwargs))
    with Client.from_config(config.load()) as own:
        return _read(own.transfer(method, path, **kwargs))


def metric_history(
    run_id: str, key: str, *, max_points: int = 1000, x: str = "step", client: Client | None = None
) -> dict[str, Any]:
    """One metric of one run, downsampled by the server to at most `max_points` (≤ 100,000) points."""
    path = f"runs/{run_id}/metrics/{quote(key, safe='/')}"
    params = {"max_points": max_points, "x": x}
    return _call(client, "GET", path, params=params, headers={"Accept": ACCEPT})[0]


def metric_histories(
    runs: list[str], keys: list[str], *, max_points: int = 1000, x: str = "step", client: Client | None = None
) -> list[dict[str, Any]]:
    """Every (run, key) pair that exists, for overlaid charts: at most 1,000 pairs a call."""
    body = json.dumps({"runs": runs, "keys": keys, "max_points": max_points, "x": x}).encode()
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    return _call(client, "POST", "metrics/history", data=body, headers=headers)
