"""EM's JSON renderer writes with orjson what DRF's encoder would write, and falls back to DRF's path for
what orjson refuses (em/api/json_codec.py)."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

import numpy as np
from rest_framework.renderers import JSONRenderer as DRFRenderer

from em.api.json_codec import JSONRenderer

UTC = datetime.UTC


def _both(data: object) -> tuple[bytes, bytes]:
    return JSONRenderer().render(data), DRFRenderer().render(data)


def test_what_drf_writes_is_written_alike():
    data = {
        "at": datetime.datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        "precise": datetime.datetime(2026, 11, 30, 10, 0, 0, 456, tzinfo=UTC),
        "day": datetime.date(2026, 11, 30),
        "id": uuid.UUID(int=7),
        "amount": decimal.Decimal("1.5"),
        "numpy": [np.float64(0.25), np.int64(3), np.arange(2)],
        "text": "é ✓",
        "nested": {"list": [1, None, True, 1e-5]},
        3: "a number key",
    }
    ours, drf = _both(data)
    assert json.loads(ours) == json.loads(drf)
    parsed = json.loads(ours)
    assert (parsed["at"], parsed["precise"]) == ("2026-11-30T10:00:00Z", "2026-11-30T10:00:00.000456Z")
    assert "é ✓".encode() in ours  # UTF-8, not \\u escapes, as DRF writes it


def test_line_and_paragraph_separators_are_escaped_as_drf_escapes_them():
    ours, drf = _both({"text": "a\u2028b\u2029c"})
    assert ours == drf == b'{"text":"a\\u2028b\\u2029c"}'


def test_what_orjson_refuses_is_written_by_drfs_path():
    assert json.loads(JSONRenderer().render({"big": 2**70})) == {"big": 2**70}
    assert JSONRenderer().render({"text": "a\ud800b"}) == b'{"text":"a\\ud800b"}'


def test_a_nan_is_written_as_null_not_refused():
    assert JSONRenderer().render({"loss": float("nan"), "inf": float("inf")}) == b'{"loss":null,"inf":null}'


def test_nothing_is_an_empty_body_and_indented_json_is_drfs():
    assert JSONRenderer().render(None) == b""
    indented = JSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert indented == DRFRenderer().render({"a": 1}, "application/json; indent=2") == b'{\n  "a": 1\n}'
