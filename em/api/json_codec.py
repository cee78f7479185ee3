"""The API's JSON in and out: DRF's parser and renderer, made safe for hostile text.

In: a JSON body may spell things Python parses but PostgreSQL cannot store or our code cannot walk:
`\\u0000` (text columns refuse NUL), a lone surrogate `\\ud800` (not Unicode, so not UTF-8), `1e400`
(parses as infinity), or nesting deep enough to exhaust the stack. Each would fail somewhere deep in a
view as a 500; the parser makes it one 400 naming where in the body it was. Services check the same
things again for callers that do not come through the API (`em.services.validation.check_json`).

Out: an error that quotes what the client sent (an unknown field's name, say) must still render when
that text holds a lone surrogate, which UTF-8 cannot encode: such an answer is written with `\\uXXXX`
escapes instead, which is the same JSON.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from rest_framework import parsers, renderers
from rest_framework.utils import encoders

from em import errors
from em.services.validation import MAX_JSON_DEPTH, check_json


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise errors.InvalidInput(
                f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.", detail={"depth": MAX_JSON_DEPTH}
            ) from None
        return check_json(data, "body")


class RawJSON:
    """JSON text written elsewhere, put into an answer as it is: a search page's rows, which PostgreSQL
    writes (`em.runs.row_json`), are not parsed only to be written again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text!r})"


class _Encoder(encoders.JSONEncoder):
    """DRF's encoder, which also writes `RawJSON` (parsed: its path is the rare one)."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, RawJSON):
            return json.loads(obj.text)
        return super().default(obj)


_ENCODER = _Encoder()


def _default(value: Any) -> Any:
    """What orjson does not know: `RawJSON` as it is, the rest as DRF's encoder writes it."""
    if isinstance(value, RawJSON):
        return orjson.Fragment(value.text)
    return _ENCODER.default(value)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: a search page of 100 runs (100 KB) took 1.8 ms to encode, a twelfth
    of the request, and takes a fifth of that. The same text as DRF's encoder writes: times in UTC end in
    `Z`, what orjson does not know (Decimal, lazy text, numpy scalars) goes through DRF's encoder's
    `default`, U+2028/U+2029 are escaped. DRF's own path still writes what orjson refuses (a lone
    surrogate, an integer past 64 bits) and indented JSON (the browsable API). A NaN, which DRF's strict
    encoder refused with a 500, is written as null, as the API writes non-finite points anyway. `RawJSON`
    goes in as it is."""

    encoder_class = _Encoder

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is not None and self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                text = orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)
            except orjson.JSONEncodeError:
                pass
            else:
                if b"\xe2\x80\xa8" in text or b"\xe2\x80\xa9" in text:
                    text = text.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
                return text
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _EscapingJSONRenderer().render(data, accepted_media_type, renderer_context)


class _EscapingJSONRenderer(renderers.JSONRenderer):
    encoder_class = _Encoder
    ensure_ascii = True
