"""OData query options of a list request: ``$filter``, ``$select``, ``$orderby``, ``$top``,
``$skiptoken``, ``$inlinecount`` — and Exact's paging.

A page holds at most PAGE_SIZE rows. While rows remain, the answer carries ``__next``: the
request URL with ``$skiptoken`` set to the key of the last row. A ``$top`` above the page
size still yields one page, and ``__next`` carries the rest of ``$top`` (``$top=100`` →
60 rows and ``$top=40`` in ``__next``, reference §2.4).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .entities import Entity
from .errors import query_syntax
from .odata import bad_query, parse_filter, sort_key

SKIPTOKEN = re.compile(r"^guid'([0-9a-fA-F-]{36})'$|^(\d+)$")


@dataclass
class Query:
    """The parsed options of one request."""

    entity: Entity
    predicate: Callable[[dict], bool] | None = None
    select: list[str] | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skiptoken: object = None
    inlinecount: bool = False

    @classmethod
    def parse(cls, args: Mapping[str, str], entity: Entity) -> Query:
        """Read the ``$`` options; a malformed one is a 400."""
        query = cls(entity)
        if args.get("$filter"):
            query.predicate = parse_filter(args["$filter"], entity)
        if args.get("$select"):
            query.select = [s.strip() for s in args["$select"].split(",") if s.strip()]
            for name in query.select:
                if name != "*" and name not in entity.fields:
                    raise bad_query(f"No property '{name}' exists in type '{entity.odata_type}'.")
        if args.get("$orderby"):
            query.orderby = [_order(part, entity) for part in args["$orderby"].split(",")]
        if args.get("$top") is not None:
            query.top = _non_negative(args["$top"], "$top")
        if args.get("$skiptoken"):
            query.skiptoken = _skiptoken(args["$skiptoken"])
        query.inlinecount = args.get("$inlinecount") == "allpages"
        return query

    def matching(self, records: list[dict]) -> list[dict]:
        """The filtered rows in their order (``$orderby``, then creation order)."""
        rows = [r for r in records if self.predicate is None or self.predicate(r)]
        for name, descending in reversed(self.orderby):
            rows.sort(key=lambda r, n=name: sort_key(r.get(n)), reverse=descending)
        return rows

    def page(self, rows: list[dict], page_size: int) -> tuple[list[dict], dict | None]:
        """One page of ``rows`` and the options of the next request (None on the last)."""
        start = 0
        if self.skiptoken is not None:
            keys = [r[self.entity.key] for r in rows]
            start = keys.index(self.skiptoken) + 1 if self.skiptoken in keys else len(rows)
        wanted = len(rows) - start if self.top is None else min(self.top, len(rows) - start)
        size = min(wanted, page_size)
        chunk = rows[start : start + size]
        if size >= wanted or not chunk:
            return chunk, None
        following = {"$skiptoken": self.entity.key_literal(chunk[-1][self.entity.key])}
        if self.top is not None:
            following["$top"] = str(self.top - size)
        return chunk, following


def _order(part: str, entity: Entity) -> tuple[str, bool]:
    words = part.split()
    if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise query_syntax()
    if words[0] not in entity.properties:
        raise bad_query(f"No property '{words[0]}' exists in type '{entity.odata_type}'.")
    return words[0], len(words) == 2 and words[1] == "desc"


def _non_negative(text: str, option: str) -> int:
    if not text.isdigit():
        raise bad_query(f"Invalid value '{text}' for {option}: a non-negative integer is required.")
    return int(text)


def _skiptoken(text: str) -> object:
    match = SKIPTOKEN.match(text)
    if match is None:
        raise bad_query(f"Invalid $skiptoken '{text}'.")
    return uuid.UUID(match.group(1)) if match.group(1) else int(match.group(2))
