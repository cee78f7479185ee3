"""The items of a long YAML list, one at a time, in memory bounded by the largest item.

`yaml_safety.load` composes a whole node graph first: a 15 MB metrics file not in the SDK's layout
became a million Python node objects (1 GB, 46 s). Here libyaml's events are turned straight into plain
values — no nodes, no graph — and each list item is handed over as soon as it is complete, so the caller
can fold it into packed arrays and drop it. The same rules as `yaml_safety` hold: safe tags only, no
anchors or aliases, at most `MAX_DEPTH` levels and `MAX_NODES` nodes, places in every refusal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

from .yaml_safety import MAX_DEPTH, MAX_NODES, NumericLoader, StrictSafeLoader, YAMLRefused, decode, refusal

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_T}{name}" for name in ("null", "bool", "int", "float", "str", "timestamp")}
_COLLECTION_TAGS = {None, "!", f"{_T}seq", f"{_T}map"}
_NO_KEY = object()
_STR, _INT, _FLOAT = f"{_T}str", f"{_T}int", f"{_T}float"
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
_TAG_CACHE = 10_000


class NotAList(ValueError):
    """The document is not a list; `kind` says what it is ("a mapping", "text", "int", ...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def kind_of(value: Any) -> str:
    """How an error message names the type of a YAML value."""
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "text"}
    return kinds.get(type(value), type(value).__name__)


def list_items(data: bytes, *, yaml12_numbers: bool = False) -> Iterator[Any]:
    """Each item of the list that `data` holds (nothing for an empty document), as plain values.

    Raises `NotAList` when the document is something else and `YAMLRefused` for anything `yaml_safety`
    refuses; an error comes when the reader reaches it, after the items before it were given.
    """
    loader = (NumericLoader if yaml12_numbers else StrictSafeLoader)(decode(data))
    try:
        yield from _Reader(loader).items()
    except yaml.YAMLError as exc:
        raise refusal(exc) from None
    finally:
        loader.dispose()


class _Reader:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.nodes = 0
        self.tags: dict[str, str] = {}

    def items(self) -> Iterator[Any]:
        self._expect(StreamStartEvent)
        if self.loader.check_event(StreamEndEvent):
            return
        self._expect(DocumentStartEvent)
        first = self.loader.peek_event()
        if isinstance(first, SequenceStartEvent):
            self._count(self.loader.get_event(), depth=1)
            while not self.loader.check_event(SequenceEndEvent):
                yield self._value()
            self.loader.get_event()
        elif isinstance(first, MappingStartEvent):
            raise NotAList("a mapping")
        else:
            value = self._value()
            if value is not None:
                raise NotAList(kind_of(value))
        self._expect(DocumentEndEvent)
        if not self.loader.check_event(StreamEndEvent):
            event = self.loader.peek_event()
            raise _refused("expected a single document in the stream, but found another document", event)

    def _expect(self, kind: type[Event]) -> None:
        event = self.loader.get_event()
        if not isinstance(event, kind):  # the parser itself guarantees this shape; kept as a guard
            raise _refused(f"unexpected {type(event).__name__}", event)

    def _count(self, event: Event, depth: int) -> None:
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _refused("YAML anchors and aliases are not accepted", event)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _refused(f"more than {MAX_NODES:,} YAML nodes", event)
        if depth > MAX_DEPTH:
            raise _refused(f"nested deeper than {MAX_DEPTH} levels", event)
        if isinstance(event, CollectionStartEvent) and event.tag not in _COLLECTION_TAGS:
            raise _refused(f"the tag {event.tag!r} is not accepted", event)

    def _value(self) -> Any:
        """The next whole value (one list item) built from events, without recursion."""
        stack: list[tuple[Any, Any]] = []  # (list or dict, the pending key of a dict)
        get_event = self.loader.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None or len(stack) + 2 > MAX_DEPTH:
                    self._count(event, depth=len(stack) + 2)  # raises, naming which
                self.nodes += 1
                value = self._scalar(event)
            elif kind is SequenceStartEvent or kind is MappingStartEvent:
                self._count(event, depth=len(stack) + 2)  # the list holding the items is depth 1
                if stack and stack[-1][1] is _NO_KEY:
                    raise _refused("a mapping key must be a scalar", event)
                stack.append(([], None) if kind is SequenceStartEvent else ({}, _NO_KEY))
                continue
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                value = stack.pop()[0]
            else:
                self._count(event, depth=len(stack) + 2)  # refuses an alias
                raise _refused(f"unexpected {kind.__name__}", event)
            if not stack:
                if self.nodes > MAX_NODES:
                    raise _refused(f"more than {MAX_NODES:,} YAML nodes", event)
                return value
            container, key = stack[-1]
            if key is None:
                container.append(value)
            elif key is _NO_KEY:
                stack[-1] = (container, value)
            else:
                container[key] = value  # a repeated key keeps the last value, as PyYAML does
                stack[-1] = (container, _NO_KEY)

    def _scalar(self, event: ScalarEvent) -> Any:
        """The value of a scalar; plain ones resolved once per distinct text (names repeat in every point)."""
        text = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted, untagged: text
                return text
            tag = self.tags.get(text)
            if tag is None:
                tag = self.loader.resolve(ScalarNode, text, event.implicit)
                if len(self.tags) < _TAG_CACHE:
                    self.tags[text] = tag
        if tag == _STR:
            return text
        if tag == _FLOAT and "_" not in text and ":" not in text:
            try:
                return float(text)  # YAML's float syntax is Python's, but for .inf/.nan, `_` and `:`
            except ValueError:
                pass
        elif tag == _INT and _DECIMAL.fullmatch(text):
            return int(text)  # plain decimal; 0o17, 0x1f, 017 (octal in YAML 1.1) and 1:30 go below
        if tag not in _SCALAR_TAGS:
            raise _refused(f"the tag {tag!r} is not accepted here", event)
        node = ScalarNode(tag, text, cast(Any, event.start_mark), cast(Any, event.end_mark), event.style)
        return SafeConstructor.yaml_constructors[tag](self.loader, node)


def _refused(message: str, event: Event) -> YAMLRefused:
    mark = event.start_mark
    if mark is None:
        return YAMLRefused(message)
    return YAMLRefused(message, line=mark.line + 1, column=mark.column + 1)
