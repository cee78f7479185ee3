"""The OpenAPI schema says what the API really answers, refusals included.

drf-spectacular derives each operation's success answer from its serializer; the error answers are the
same everywhere (em.api.errors maps every failure to one shape), so this postprocessing hook documents
them once: the `Error` component and, for every operation, the statuses it can meet. An operation that
documents a status itself (e.g. `400` with a description of its own) keeps its description and gains
the shape.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "detail"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs: `not_found`, `name_clash`, …"},
                "message": {"type": "string", "description": "A sentence for people."},
                "detail": {"nullable": True, "description": "Anything more: the field, the limit, the setting…"},
            },
        }
    },
}

# What each status means across the API (ARCHITECTURE.md §3: a node the caller may not see is a 404).
ERRORS: dict[str, str] = {
    "400": "The request is malformed or invalid (`invalid`, `parse_error`, …); `detail` names the field.",
    "401": "Not signed in, or the API key is unknown, revoked or expired.",
    "403": "You can see the thing but may not do this to it (e.g. a viewer writing, a read-only key).",
    "404": "It does not exist, or you may not see it: the two answer alike.",
    "409": "A conflict, e.g. the name is taken in that folder.",
    "413": "The body is larger than the server accepts (`body_too_large`; EM_MAX_JSON_BODY_BYTES).",
    "415": "The body's Content-Type is not one this operation reads.",
    "429": "Too many failed sign-ins or invalid API keys: wait `Retry-After` seconds.",
}
# Statuses that only a request with a body can meet.
BODY_ONLY = {"413", "415"}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            takes_body = method in {"post", "put", "patch"}
            for status, description in ERRORS.items():
                if status in BODY_ONLY and not takes_body:
                    continue
                response = operation["responses"].setdefault(status, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
    return result
