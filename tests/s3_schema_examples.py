"""Requests for the presigned-transfer operations, for tests/test_schema_conformance.py's table.

The table's world stores blobs on disk, where `POST /blobs/transfers` answers no plans and completing a
transfer is a clear 400; tests/test_s3_transfers.py drives both against a real S3-compatible server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

J = {"format": "json"}
_DIGEST = hashlib.sha256(b"transfer example").hexdigest()

TRANSFER_EXAMPLES: dict[str, list[Callable[[APIClient, Any], Any]]] = {
    "POST /api/v1/blobs/transfers": [
        lambda c, w: c.post("/api/v1/blobs/transfers", {"blobs": [{"sha256": _DIGEST, "size": 16}]}, **J),
        lambda c, w: c.post("/api/v1/blobs/transfers", {"blobs": [{"sha256": "nope", "size": 1}]}, **J),  # 400
    ],
    "POST /api/v1/blobs/{sha256}/complete": [
        lambda c, w: c.post(f"/api/v1/blobs/{_DIGEST}/complete", {"transfer": "1"}, **J),  # 400: a file store
    ],
}
