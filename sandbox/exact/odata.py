"""The OData v2 subset Exact's REST API understands (reference §2.3, §2.4).

``$filter`` is parsed into a predicate: ``eq ne gt ge lt le``, ``and or not``,
parentheses, literals (``'it''s'``, ``guid'…'``, ``datetime'…'``, numbers, ``true``,
``false``, ``null``) and the functions ``substringof``, ``startswith``, ``endswith``,
``trim``, ``tolower``, ``toupper``. Operand types are checked like OData does (a Guid
property needs a ``guid'…'`` literal). String comparisons ignore case (Exact runs on SQL
Server's case-insensitive collation) but not padding or separators: ``Code eq '25'`` does
not find ``'                25'``, and ``VATNumber eq 'BE0477472701'`` does not find an
account holding ``'BE 0477.472.701'`` (Exact keeps a VAT number as it was typed).
``$select``, ``$orderby``, ``$top``, ``$skiptoken`` and ``$inlinecount`` are handled by
``Query``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from .clock import parse_datetime
from .entities import Entity
from .errors import ExactError, query_syntax

TOKEN = re.compile(
    r"\s*(?:(?P<guid>guid'(?P<g>[^']*)')|(?P<datetime>datetime'(?P<dt>[^']*)')"
    r"|(?P<string>'(?P<s>(?:[^']|'')*)')|(?P<number>-?\d+(?:\.\d+)?)[mMdDlLfF]?"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w/]*))"
)
COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
LITERAL_TYPES = {"string": "String", "guid": "Guid", "datetime": "DateTime", "number": "Number"}
EDM = {"Int32": "Number", "Double": "Number", "Byte[]": "Binary"}
FUNCTIONS = {
    "substringof": (("String", "String"), "Boolean", lambda a, b: a.casefold() in b.casefold()),
    "startswith": (
        ("String", "String"),
        "Boolean",
        lambda a, b: a.casefold().startswith(b.casefold()),
    ),
    "endswith": (("String", "String"), "Boolean", lambda a, b: a.casefold().endswith(b.casefold())),
    "trim": (("String",), "String", lambda a: a.strip()),
    "tolower": (("String",), "String", lambda a: a.lower()),
    "toupper": (("String",), "String", lambda a: a.upper()),
}


def bad_query(message: str) -> ExactError:
    """A query option Exact could not parse: HTTP 400."""
    return ExactError(400, message)


@dataclass(frozen=True)
class Node:
    """A parsed expression: its type and how to evaluate it against a record."""

    type: str
    eval: Callable[[dict], object]


class FilterParser:
    """Recursive descent over the tokens of one ``$filter``."""

    def __init__(self, text: str, entity: Entity) -> None:
        self.entity, self.tokens, self.pos = entity, self._tokenize(text), 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, object]]:
        tokens, at = [], 0
        while at < len(text.rstrip()):
            match = TOKEN.match(text, at)
            if match is None or match.end() == at:
                raise query_syntax()
            at, kind = match.end(), match.lastgroup
            kind = {"g": "guid", "dt": "datetime", "s": "string"}.get(kind, kind)
            tokens.append((kind, _literal(kind, match)))
        return tokens

    def parse(self) -> Node:
        """The whole filter, which must be a boolean expression."""
        node = self._or()
        if self.pos != len(self.tokens):
            raise query_syntax()
        if node.type != "Boolean":
            raise bad_query("The $filter expression must evaluate to a single boolean value.")
        return node

    def _peek(self) -> tuple[str, object] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, object]:
        token = self._peek()
        if token is None or (value is not None and token[1] != value):
            raise query_syntax()
        self.pos += 1
        return token

    def _keyword(self, *words: str) -> str | None:
        token = self._peek()
        if token and token[0] == "word" and str(token[1]).lower() in words:
            self.pos += 1
            return str(token[1]).lower()
        return None

    def _or(self) -> Node:
        node = self._and()
        while self._keyword("or"):
            node = _logical(node, self._and(), any)
        return node

    def _and(self) -> Node:
        node = self._comparison()
        while self._keyword("and"):
            node = _logical(node, self._comparison(), all)
        return node

    def _comparison(self) -> Node:
        left = self._unary()
        op = self._keyword(*COMPARE)
        if op is None:
            return left
        right = self._unary()
        if "Null" not in (left.type, right.type) and left.type != right.type:
            raise bad_query(
                f"Operator '{op}' incompatible with operand types "
                f"'{_system(left.type)}' and '{_system(right.type)}'."
            )
        return Node("Boolean", _comparer(op, left, right))

    def _unary(self) -> Node:
        if self._keyword("not"):
            inner = self._unary()
            return Node("Boolean", lambda r: not inner.eval(r))
        return self._primary()

    def _primary(self) -> Node:
        kind, value = self._take()
        if kind == "punct" and value == "(":
            node = self._or()
            self._take(")")
            return node
        if kind in ("string", "guid", "datetime", "number"):
            return Node(LITERAL_TYPES[kind], lambda r: value)
        if kind != "word":
            raise query_syntax()
        lowered = str(value).lower()
        if lowered in ("true", "false"):
            return Node("Boolean", lambda r: lowered == "true")
        if lowered == "null":
            return Node("Null", lambda r: None)
        if lowered in FUNCTIONS and self._peek() == ("punct", "("):
            return self._function(lowered)
        return self._property(str(value))

    def _function(self, name: str) -> Node:
        params, result, apply = FUNCTIONS[name]
        self._take("(")
        args = [self._or()]
        while self._peek() == ("punct", ","):
            self._take(",")
            args.append(self._or())
        self._take(")")
        if tuple(a.type for a in args) != params:
            raise bad_query(f"No function signature for the function '{name}' matches.")

        def call(record: dict) -> object:
            values = [a.eval(record) for a in args]
            return None if None in values else apply(*values)

        return Node(result, call)

    def _property(self, name: str) -> Node:
        if name not in self.entity.properties:
            raise bad_query(f"No property '{name}' exists in type '{self.entity.odata_type}'.")
        edm = self.entity.type_of(name)
        return Node(EDM.get(edm, edm), lambda r: r.get(name))


def _literal(kind: str, match: re.Match) -> object:
    try:
        if kind == "guid":
            return uuid.UUID(match.group("g"))
        if kind == "datetime":
            return parse_datetime(match.group("dt"))
        if kind == "number":
            return Decimal(match.group("number"))
    except (ValueError, InvalidOperation) as exc:
        raise bad_query(f"Unrecognized '{kind}' literal '{match.group(0).strip()}'.") from exc
    if kind == "string":
        return match.group("s").replace("''", "'")
    return match.group(kind)


def _system(kind: str) -> str:
    return {"Number": "System.Decimal", "Guid": "System.Guid"}.get(kind, f"System.{kind}")


def _logical(left: Node, right: Node, combine) -> Node:
    if left.type != "Boolean" or right.type != "Boolean":
        raise bad_query("Operands of 'and'/'or' must be boolean expressions.")
    return Node("Boolean", lambda r: combine((left.eval(r), right.eval(r))))


def _comparer(op: str, left: Node, right: Node) -> Callable[[dict], bool]:
    def compare(record: dict) -> bool:
        a, b = _fold(left.eval(record)), _fold(right.eval(record))
        if a is None or b is None:
            return COMPARE[op](a is None, b is None) if op in ("eq", "ne") else False
        return COMPARE[op](a, b)

    return compare


def _fold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def parse_filter(text: str, entity: Entity) -> Callable[[dict], bool]:
    """A predicate over records for a ``$filter`` expression."""
    node = FilterParser(text, entity).parse()
    return lambda record: bool(node.eval(record))


def sort_key(value: object) -> tuple:
    """Nulls first, then the value (strings case-insensitive)."""
    if value is None:
        return (0, 0)
    if isinstance(value, datetime):
        return (1, value.timestamp())
    return (1, _fold(value) if not isinstance(value, uuid.UUID) else str(value))
