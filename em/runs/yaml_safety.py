"""Loading YAML that strangers wrote: safe tags only, no aliases, bounded size, depth and node count.

PyYAML's safe loader still accepts anchors and aliases, which make a few hundred bytes expand into
billions of nodes once anything walks them (the "billion laughs"), and libyaml's C composer recurses
on the C stack, so a few hundred thousand nested brackets crash the process. `load` therefore takes
libyaml's *events* (fast, non-recursive) and composes them with PyYAML's Python composer, extended to
refuse anchors and aliases, to stop at `MAX_DEPTH` nesting levels and `MAX_NODES` nodes, before the
safe constructor builds plain Python values. Every refusal is a `YAMLRefused` naming line and column.

PyYAML reads YAML 1.1, where a float needs a dot and a signed exponent: `1e-06` or `1.0e5` are text
there, although every YAML 1.2 and JSON writer means a number. `load(..., yaml12_numbers=True)` (for
metric values and hyper-parameters, never for git.yaml, whose commit ids must stay text) reads such
plain scalars as floats; quoted ones stay text.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import Node

MAX_DEPTH = 64
MAX_NODES = 4_000_000
MAX_LINE_BYTES = 1 << 20

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YAMLRefused(ValueError):
    """The document is not acceptable; `line`/`column` are 1-based, or None when not about a place."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where)
        self.line = line
        self.column = column


class StrictSafeLoader(Composer, _BaseLoader):
    """libyaml's parser, PyYAML's composer (refusing aliases, deep nesting, huge node counts), safe tags."""

    def __init__(self, stream: Any) -> None:
        _BaseLoader.__init__(self, stream)
        Composer.__init__(self)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise YAMLRefused("YAML anchors and aliases are not accepted", line=line, column=column)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YAMLRefused(f"more than {MAX_NODES:,} YAML nodes", line=line, column=column)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YAMLRefused(f"nested deeper than {MAX_DEPTH} levels", line=line, column=column)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class NumericResolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types, and YAML 1.2's exponent floats (`1e-06`, `2E5`, `1.0e5`) as floats."""


NumericResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class NumericLoader(StrictSafeLoader):
    """`StrictSafeLoader` resolving plain scalars as `NumericResolver` does."""

    yaml_implicit_resolvers = NumericResolver.yaml_implicit_resolvers


def longest_line(data: bytes) -> tuple[int, int]:
    """(1-based number, length in bytes) of the longest line; vectorised, since files may be large."""
    if not data:
        return 1, 0
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(data)]))
    lengths = np.diff(bounds) - 1
    where = int(np.argmax(lengths))
    return where + 1, int(lengths[where])


def load(data: bytes, *, yaml12_numbers: bool = False) -> Any:
    """The single document in `data` as plain Python values (None when empty).

    Raises `YAMLRefused` for an over-long line, anchors/aliases, too deep or too many nodes, text that
    is not UTF-8, and any YAML syntax error or unsafe tag (with its place).
    """
    text = decode(data)
    loader = NumericLoader if yaml12_numbers else StrictSafeLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeConstructor-based loader
    except yaml.YAMLError as exc:
        raise refusal(exc) from None


def decode(data: bytes) -> str:
    """`data` as text, once its lines are known to be short enough; `YAMLRefused` otherwise."""
    number, length = longest_line(data)
    if length > MAX_LINE_BYTES:
        raise YAMLRefused(f"line {number} is {length:,} bytes long; the limit is {MAX_LINE_BYTES:,}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLRefused(f"not UTF-8 text (byte {exc.start})") from None


def refusal(exc: yaml.YAMLError) -> YAMLRefused:
    """A parser's error as a `YAMLRefused` with its place."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        if "maximum nesting depth" in message:  # libyaml >= 0.2.6 stops at 1,000 levels while scanning ahead
            message = f"nested deeper than {MAX_DEPTH} levels"
        if mark is None:
            return YAMLRefused(message)
        return YAMLRefused(message, line=mark.line + 1, column=mark.column + 1)
    return YAMLRefused(f"invalid YAML: {exc}")
