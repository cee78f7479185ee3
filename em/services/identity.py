"""A bundle's own identity: how a re-upload finds the node an earlier upload of the same bundle made.

The SDK names every bundle folder uniquely (`<name>_<yymmdd>_<HHMMSS>_<6 chars>`) and writes that name
as `alternativeName` in its `metadata.yaml`. The server records it on the node the upload creates
(`Node.bundle_id`), so uploading the same bundle into the same folder again is idempotent without the
client writing anything into the user's files, and a *different* bundle that merely shares a display
name is never mistaken for it.
"""

from __future__ import annotations

from typing import Any

from em.models import Node

MAX_BUNDLE_ID = 255


def bundle_identity(metadata: dict[str, Any]) -> str:
    """The bundle's `alternativeName`, or "" when it has none usable (then names decide, as before)."""
    value = metadata.get("alternativeName")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_BUNDLE_ID:
        return ""
    return value.strip()


def same_bundle(parent: Node, identity: str) -> Node | None:
    """The live node in `parent` an earlier upload of the bundle `identity` made, if any."""
    if not identity:
        return None
    return (
        Node.objects.live()
        .filter(parent=parent, bundle_id=identity)
        .select_related("owner", "created_by", "editor")
        .order_by("created_at")
        .first()
    )
