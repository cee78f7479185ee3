"""The run filter language (MLflow's, plus OR, NOT and parentheses) and its syntax tree.

    metrics.val.acc > 0.9 AND params.optimizer IN ('adam', 'sgd')
    (tags.`my tag` = "x" OR MIN(metrics.train.loss) <= 1e-3) AND attributes.status != 'Error'

Everything after `metrics.`/`params.`/`tags.`/`attributes.` up to a space, parenthesis, quote, comma or
operator is the key (`metrics.train.loss` is the key `train.loss`); a key holding other characters is
written in backticks or quotes. Keywords are case-insensitive. The grammar is LALR(1), so parsing is
linear and never recursive however long the input; every node of the tree keeps the token it came from,
so the compiler's type errors point at the right column too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from .errors import FilterError, OrderByError

GRAMMAR = r"""
?filter: or_expr
?or_expr: and_expr
        | or_expr _OR and_expr -> or_
?and_expr: not_expr
         | and_expr _AND not_expr -> and_
?not_expr: atom
         | NOT not_expr -> not_
?atom: comparison
     | _LPAR or_expr _RPAR
comparison: operand OP value
          | operand IN _LPAR values _RPAR -> in_
          | operand NOT IN _LPAR values _RPAR -> not_in
values: value (_COMMA value)*
?value: STRING | NUMBER
operand: entity
       | FUNC _LPAR entity _RPAR
entity: PREFIX (BARE_KEY | QUOTED_KEY | STRING)

order_list: order_term (_COMMA order_term)*
order_term: operand DIRECTION?

PREFIX: /(metrics?|params?|tags?|attributes?)\./i
FUNC: /(min|max|latest)\b/i
BARE_KEY: /[^\s()`'",=!<>]+/
QUOTED_KEY: /`[^`]*`/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
OP: /!=|<>|<=|>=|==|=|<|>|ilike\b|like\b/i
IN: /in\b/i
NOT: /not\b/i
_AND: /and\b/i
_OR: /or\b/i
DIRECTION: /(asc|desc)\b/i
_LPAR: "("
_RPAR: ")"
_COMMA: ","
%ignore /\s+/
"""

KINDS = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}
MAX_LENGTH = 10_000

# What a person should read for each terminal the parser expected next.
_EXPECTED = {
    "PREFIX": "a key (metrics.<key>, params.<key>, tags.<key> or attributes.<name>)",
    "FUNC": "a key (metrics.<key>, params.<key>, tags.<key> or attributes.<name>)",
    "NOT": "NOT",
    "_LPAR": "'('",
    "BARE_KEY": "a key name",
    "QUOTED_KEY": "a key name",
    "STRING": "a value",
    "NUMBER": "a value",
    "OP": "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)",
    "IN": "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)",
    "_AND": "AND or OR",
    "_OR": "AND or OR",
    "_RPAR": "')'",
    "_COMMA": "','",
    "DIRECTION": "ASC or DESC",
    "$END": "the end",
}


@dataclass(frozen=True)
class Span:
    """Where a piece of the input starts (`position` from 0; `line`, `column` from 1) and its text."""

    position: int
    line: int
    column: int
    text: str

    @classmethod
    def of(cls, token: Token) -> Span:
        return cls(token.start_pos or 0, token.line or 1, token.column or 1, str(token))

    def error(self, message: str, error: type[FilterError] = FilterError) -> FilterError:
        return error(message, position=self.position, line=self.line, column=self.column, token=self.text)


@dataclass(frozen=True)
class Entity:
    """`kind` is metrics, params, tags or attributes; `aggregate` is min, max or latest, or None."""

    kind: str
    key: str
    span: Span
    aggregate: str | None = None
    aggregate_span: Span | None = None

    @property
    def label(self) -> str:
        name = f"{self.kind}.{self.key}"
        return f"{self.aggregate.upper()}({name})" if self.aggregate else name


@dataclass(frozen=True)
class Literal:
    value: str | float
    span: Span


@dataclass(frozen=True)
class Comparison:
    """`op` is one of = != < <= > >= LIKE ILIKE IN NOT IN; `values` has one literal except for IN."""

    entity: Entity
    op: str
    op_span: Span
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND or OR
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr
    span: Span


Expr = Comparison | BoolOp | Not


@dataclass(frozen=True)
class OrderTerm:
    entity: Entity
    descending: bool


def _unquote(text: str) -> str:
    """The value of a quoted string. `\\'`, `\\"`, `\\\\`, `\\n`, `\\t` and `\\r` are escapes; any other backslash
    stays, as in Python, so a LIKE pattern's `\\%` and `\\_` reach the pattern as written."""
    escapes = {"n": "\n", "t": "\t", "r": "\r", "'": "'", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text[1:-1], flags=re.S)


class _ToAst(Transformer_NonRecursive):
    """Lark's parse tree to the dataclasses above; AND and OR chains become flat lists."""

    def STRING(self, token: Token) -> Literal:  # lark calls terminal callbacks by name
        return Literal(_unquote(str(token)), Span.of(token))

    def NUMBER(self, token: Token) -> Literal:
        number = float(token)
        if not math.isfinite(number):
            raise Span.of(token).error(f"The number {token} is too large.")
        return Literal(number, Span.of(token))

    def entity(self, children: list[Any]) -> Entity:
        prefix, key = children
        kind = KINDS.get(prefix.lower().rstrip(".").rstrip("s"), "")
        span = Span.of(prefix)
        if isinstance(key, Literal):
            name = str(key.value)
            span = Span(span.position, span.line, span.column, span.text + key.span.text)
        else:
            name = key[1:-1] if key.type == "QUOTED_KEY" else str(key)
            span = Span(span.position, span.line, span.column, span.text + str(key))
        if not name:
            raise span.error(f"{span.text} names no key.")
        return Entity(kind, name, span)

    def operand(self, children: list[Any]) -> Entity:
        if len(children) == 1:
            entity: Entity = children[0]
            return entity
        func, entity = children
        return Entity(entity.kind, entity.key, entity.span, str(func).lower(), Span.of(func))

    def comparison(self, children: list[Any]) -> Comparison:
        entity, op, value = children
        return Comparison(entity, _normal_op(str(op)), Span.of(op), (value,))

    def in_(self, children: list[Any]) -> Comparison:
        entity, op, values = children
        return Comparison(entity, "IN", Span.of(op), tuple(values))

    def not_in(self, children: list[Any]) -> Comparison:
        entity, op, _, values = children
        return Comparison(entity, "NOT IN", Span.of(op), tuple(values))

    def values(self, children: list[Literal]) -> list[Literal]:
        return children

    def and_(self, children: list[Expr]) -> BoolOp:
        return _chain("AND", children)

    def or_(self, children: list[Expr]) -> BoolOp:
        return _chain("OR", children)

    def not_(self, children: list[Any]) -> Not:
        token, item = children
        return Not(item, Span.of(token))

    def order_term(self, children: list[Any]) -> OrderTerm:
        entity = children[0]
        return OrderTerm(entity, len(children) > 1 and str(children[1]).lower() == "desc")

    def order_list(self, children: list[OrderTerm]) -> list[OrderTerm]:
        return children


def _normal_op(op: str) -> str:
    return {"==": "=", "<>": "!="}.get(op, op.upper())


def _chain(op: str, children: list[Expr]) -> BoolOp:
    """`a AND b AND c` parses as `(a AND b) AND c`; keep it as one flat AND of three."""
    first = children[0]
    items = first.items if isinstance(first, BoolOp) and first.op == op else (first,)
    return BoolOp(op, (*items, *children[1:]))


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", start=["filter", "order_list"], lexer="contextual")


@lru_cache(maxsize=512)
def _tree(text: str, start: str) -> Any:
    """The syntax tree of `text`, parsed once: the portal sends the same filter again for every page, sort
    and refresh (0.4 ms a parse), and the tree is frozen dataclasses that no reader changes (lists are
    copied out, `parse_order`). A text that fails to parse raises every time: only trees are kept."""
    return _ToAst().transform(_parser().parse(text, start=start))


def _parse(text: str, start: str, error: type[FilterError]) -> Any:
    if len(text) > MAX_LENGTH:
        raise error(
            f"The filter is {len(text)} characters long; at most {MAX_LENGTH}.",
            position=MAX_LENGTH,
            line=text.count("\n", 0, MAX_LENGTH) + 1,
            column=MAX_LENGTH - text.rfind("\n", 0, MAX_LENGTH),
            token=text[MAX_LENGTH : MAX_LENGTH + 10],
        )
    try:
        return _tree(text, start)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, error) from None
    except VisitError as exc:  # a literal or key the transformer refused
        if isinstance(exc.orig_exc, FilterError):
            raise _retyped(exc.orig_exc, error) from None
        raise


def parse_filter(text: str) -> Expr | None:
    """The syntax tree of a filter, or None when it is blank (everything matches)."""
    if not text.strip():
        return None
    expr: Expr = _parse(text, "filter", FilterError)
    return expr


def parse_order(text: str) -> list[OrderTerm]:
    """`metrics.val.acc DESC, params.lr` as ordering terms (ascending unless DESC)."""
    terms: list[OrderTerm] = _parse(text, "order_list", OrderByError)
    return list(terms)


def _retyped(exc: FilterError, error: type[FilterError]) -> FilterError:
    if isinstance(exc, error):
        return exc
    return error(exc.message, position=exc.position, line=exc.line, column=exc.column, token=exc.token)


def _syntax_error(exc: UnexpectedInput, text: str, error: type[FilterError]) -> FilterError:
    """'Unexpected ')' at column 17: expected a value' — the first bad token and what would fit there."""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        position = len(text)
        line = text.count("\n") + 1
        column = position - text.rfind("\n")
        token, shown = "", "end of filter"
        expected: set[str] = set(exc.accepts or exc.expected)
    else:
        position = exc.pos_in_stream or 0
        line, column = exc.line, exc.column
        if isinstance(exc, UnexpectedToken):
            token = str(exc.token)
            expected = set(exc.accepts or exc.expected)
        else:
            token = _word_at(text, position)
            expected = set(exc.allowed) if isinstance(exc, UnexpectedCharacters) else set()
        shown = repr(token)
    if "BARE_KEY" in expected:  # a quoted key is a STRING token, but a person expects a key there
        expected.discard("STRING")
    if "OP" in expected:  # NOT can only start NOT IN here, which the operators' label names
        expected.discard("NOT")
    wanted = sorted({_EXPECTED.get(name, name) for name in expected})
    message = f"Unexpected {shown} at column {column}"
    if line > 1:
        message += f" of line {line}"
    if wanted:
        message += ": expected " + " or ".join(wanted)
    return error(message, position=position, line=line, column=column, token=token, expected=wanted or None)


def _word_at(text: str, position: int) -> str:
    """The run of characters a person would call the bad token (at least one character)."""
    match = re.compile(r"[\w.]+|\S").match(text, position)
    return match.group(0) if match else text[position : position + 1]
