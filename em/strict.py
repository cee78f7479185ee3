"""Requests say only what the endpoint reads: the strict base of every request serializer.

It imports nothing of EM (only DRF), so every app's API uses it, `accounts` included, without an
import running up a layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from rest_framework import serializers

__all__ = ["StrictSerializer", "refuse_unknown"]


def refuse_unknown(data: Any, known: Iterable[str]) -> None:
    """A 400 naming every key of `data` outside `known`: a request says only what the endpoint reads.

    Why: a key the endpoint does not read changes what the request means without a word; `folder_path`
    sent to bulk delete (which takes `folder`) was dropped, and the caller's runs went to the trash
    everywhere instead of in one folder (issue 8). Bodies parsed by hand call this; serializers derive
    from `StrictSerializer`, which does.
    """
    if not isinstance(data, Mapping):
        return
    allowed = set(known)
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        takes = ", ".join(f"`{name}`" for name in sorted(allowed)) or "no fields"
        raise serializers.ValidationError({key: [f"Unknown field; this endpoint takes {takes}."] for key in unknown})


class StrictSerializer(serializers.Serializer):
    """The base of every request serializer (body or query): a key no field names is refused, not dropped.

    `read_elsewhere` names keys that arrive in the same mapping but are read by someone else, such as
    pagination's `page` and `page_size` beside a search's query.
    """

    read_elsewhere: ClassVar[frozenset[str]] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        writable = [name for name, field in self.fields.items() if not field.read_only]
        refuse_unknown(data, [*writable, *self.read_elsewhere])
        return super().to_internal_value(data)
