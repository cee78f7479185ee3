"""Content negotiation for metric histories: JSON by default, the compact form (em.runs.history_wire)
for `Accept: application/vnd.em.history`."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from em.api.json_codec import JSONRenderer
from em.runs import history_wire


class HistoryRenderer(BaseRenderer):
    """Frames of the compact form; an error (which is no history) is answered as the JSON error it is."""

    media_type = history_wire.MEDIA_TYPE
    format = "emh"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, history_wire.Frames):
            return history_wire.frames(data.reads)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


RENDERERS = [JSONRenderer, HistoryRenderer]


def wants_frames(request: Request) -> bool:
    """Whether content negotiation chose the compact form for this request."""
    return isinstance(getattr(request, "accepted_renderer", None), HistoryRenderer)
