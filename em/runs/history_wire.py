"""The compact wire form of metric histories (docs/runs-api.md "Compact histories").

A long series in JSON is ~20 bytes a number to write, send and parse; the portal and the SDK ask for
`Accept: application/vnd.em.history` instead and get the arrays as they are stored: little-endian
8-byte columns behind a small JSON header. An answer is one frame per series, back to back:

    b"EMH1"                  magic and version
    uint32 LE                length H of the header that follows
    H bytes                  UTF-8 JSON: {"key", "count", "downsampled", "points": n,
                             "columns": ["step:<i8", "epoch:<i8", "timestamp:<f8", "value:<f8",
                                         ("min:<f8", "max:<f8" when downsampled)], "run"?}
                             padded with spaces so that the columns start 8-byte aligned
    8n bytes per column      in the order the header names them

Null is spelt in the column's own type: an epoch of -2**63 (`NO_EPOCH`), a timestamp, value, min or max
of NaN (infinities are sent as NaN too, as JSON sends them as null). The JSON form stays the default.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np

from .metrics import Sampled

MEDIA_TYPE = "application/vnd.em.history"
MAGIC = b"EMH1"
_ALIGN = 8


@dataclass
class Frames:
    """What a history view answers when the compact form was asked for: (run, read) pairs."""

    reads: list[tuple[UUID | None, Sampled]]


def _nan_for_null(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    return values if finite.all() else np.where(finite, values, np.nan)


def frame(read: Sampled, run: UUID | None = None) -> bytes:
    """One series as a frame of the compact form."""
    points = read.points
    columns: list[tuple[str, str, np.ndarray]] = [
        ("step", "<i8", points.steps),
        ("epoch", "<i8", points.epochs),
        ("timestamp", "<f8", points.timestamps),
        ("value", "<f8", _nan_for_null(points.values)),
    ]
    if read.lows is not None and read.highs is not None:
        columns += [("min", "<f8", _nan_for_null(read.lows)), ("max", "<f8", _nan_for_null(read.highs))]
    header: dict[str, Any] = {
        "key": read.key,
        "count": read.count,
        "downsampled": read.downsampled,
        "points": len(points),
        "columns": [f"{name}:{dtype}" for name, dtype, _ in columns],
    }
    if run is not None:
        header["run"] = str(run)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % _ALIGN)
    parts = [MAGIC, struct.pack("<I", len(text)), text]
    parts += [np.ascontiguousarray(array, dtype=dtype).tobytes() for _, dtype, array in columns]
    return b"".join(parts)


def frames(reads: Iterable[tuple[UUID | None, Sampled]]) -> bytes:
    return b"".join(frame(read, run) for run, read in reads)
