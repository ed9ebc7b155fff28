"""The overview's pages by position, not by count: "Next" carries the last row's sort value
and id, "Previous" the first row's, and the page is read from there through the sort's
index — as quick at page 10,000 as at page 1, where an OFFSET reads and drops every row
before the page (``bench/overview.py``: a million documents, page 1,000 and beyond).

A page typed in by number (``page=7``, no position) is still read with an OFFSET: fine
for the shallow pages people type. The page number a link carries is only shown.

A sort whose value can be missing (due date, days overdue, profile) lists the rows with
a value first and those without after, each part read in its own index order: one
statement per part a page touches, where one ORDER BY … NULLS LAST against the index's
direction sorted every document."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, post_load

from collector.core.money import cents
from collector.documents.models import Customer, Invoice, Profile
from collector.extensions import db
from collector.runtime.listing import Page, load_args
from collector.web.invoice_query import (
    SORTS,
    InvoiceFilter,
    InvoiceQueryArgsSchema,
    SortKey,
    ordering,
)

MAX_TOKEN = 400  # a position is a sort value of at most 255 characters and an id
MAX_ID = 2**31 - 1
BAD_POSITION = _l(
    "This page link is damaged or belongs to another order of the list. "
    "Start again from the first page."
)


@dataclass(frozen=True)
class Position:
    """Where a page starts (after this row) or, ``before``, where it ends."""

    value: object  # the row's sort value; None: among the rows without one
    id: int
    before: bool = False


@dataclass(frozen=True)
class ListPage(Page):
    """A page of the overview, with the positions its Previous and Next links carry and
    whether a row follows it (``more``); ``total`` is None: not counted (the totals are
    their own request)."""

    first: str | None = None
    last: str | None = None
    more: bool = False

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.more else None


# -- positions in a link --------------------------------------------------------------------


def encode(sort: str, value: object, row_id: int) -> str:
    """The link's token for the row (``value``, ``row_id``) in ``sort`` order."""
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, date | Decimal):
        value = str(value) if isinstance(value, Decimal) else value.isoformat()
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, sort: str, before: bool = False) -> Position:
    """The position ``token`` names in ``sort`` order; ValueError when it was not made by
    ``encode`` for this sort (edited, cut short, or from another order)."""
    if len(token) > MAX_TOKEN:
        raise ValueError("too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        token_sort, value, row_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise ValueError("not a position") from exc
    if token_sort != sort or type(row_id) is not int or not 1 <= row_id <= MAX_ID:
        raise ValueError("another order, or no row")
    return Position(_value(SORTS[sort.removeprefix("-")], value), row_id, before)


def _value(key: SortKey, raw: object) -> object:
    if raw is None:
        if not key.nullable:
            raise ValueError("this sort has a value on every row")
        return None
    kind = _python_type(key.expression.type)
    if kind is bool:
        if type(raw) is not bool:
            raise ValueError("not a yes/no")
        return raw
    if not isinstance(raw, str) or "\x00" in raw or len(raw) > 255:
        raise ValueError("not a value of this sort")
    if kind is date:
        return date.fromisoformat(raw)
    if kind is Decimal:
        return cents(raw)  # what the Money column binds: whole cents
    if issubclass(kind, enum.Enum):
        return kind(raw)
    return raw


def _python_type(column_type) -> type:
    if isinstance(column_type, sa.types.TypeDecorator):  # Money: a Numeric underneath
        column_type = column_type.impl_instance
    return column_type.python_type


class InvoiceListArgsSchema(InvoiceQueryArgsSchema):
    """The web overview's query string: the API's, and the position of a Previous or Next
    link (``after`` or ``before``)."""

    after = fields.String()
    before = fields.String()

    @post_load
    def _position(self, data, **_kwargs):
        # Reported on "page": the link as a whole is what a person can make sense of.
        if "after" in data and "before" in data:
            raise ValidationError(str(BAD_POSITION), "page")
        for name in ("after", "before"):
            if name in data:
                try:
                    data[name] = decode(data[name], data["sort"], before=name == "before")
                except ValueError:
                    raise ValidationError(str(BAD_POSITION), "page") from None
        return data


def parse_list_query(args) -> dict:
    """Query-string ``args`` as keyword arguments for ``overview.list_invoices``
    (``criteria``, ``page``, ``per_page``, ``sort``, ``position``); raises ``Invalid``."""
    data = load_args(InvoiceListArgsSchema(), args)
    position = data.pop("after", None) or data.pop("before", None)
    data.pop("before", None)
    page, per_page, sort = data.pop("page"), data.pop("per_page"), data.pop("sort")
    return {
        "criteria": InvoiceFilter(**data),
        "page": page,
        "per_page": per_page,
        "sort": sort,
        "position": position,
    }


# -- reading a page from a position ---------------------------------------------------------


def joined(query: sa.Select, key: SortKey) -> sa.Select:
    """``query`` with the table ``key`` sorts by joined."""
    if key.join is Customer:
        return query.join(Customer, Invoice.customer_id == Customer.id)
    if key.join is Profile:
        return query.outerjoin(Profile, Invoice.profile_id == Profile.id)
    return query


@dataclass(frozen=True)
class _Part:
    """Rows with a sort value (``valued``) or without, and their order's directions."""

    valued: bool
    value_desc: bool
    id_desc: bool

    def turned(self) -> _Part:
        return _Part(self.valued, not self.value_desc, not self.id_desc)


def _parts(key: SortKey, sort: str, backwards: bool) -> list[_Part]:
    descending = sort.startswith("-")
    parts = [_Part(True, descending != key.inverted, descending)]
    if key.nullable:
        parts.append(_Part(False, False, descending))  # rows without a value go last
    if backwards:
        parts = [part.turned() for part in reversed(parts)]
    return parts


def keys_from(
    where: list, sort: str, per_page: int, position: Position | None
) -> list[tuple[int, object]]:
    """(id, sort value) of the page that starts after ``position`` (from the start when
    None), or ends before it; in ``sort`` order, ties by id."""
    key = SORTS[sort.removeprefix("-")]
    if key.join is Profile:
        return _by_profile(where, sort, per_page, position)
    backwards = position is not None and position.before
    rows: list[tuple[int, object]] = []
    started = position is None
    for part in _parts(key, sort, backwards):
        here = position is not None and (position.value is not None) == part.valued
        if not (started or here):
            continue  # the position lies in a later part
        started = True
        query = _part_query(where, key, part, position if here else None)
        rows += db.session.execute(query.limit(per_page - len(rows))).all()
        if len(rows) == per_page:
            break
    return rows[::-1] if backwards else rows


def _part_query(where: list, key: SortKey, part: _Part, position: Position | None) -> sa.Select:
    column = key.expression
    query = joined(sa.select(Invoice.id, column).where(*where), key)
    if key.nullable:
        query = query.where(column.is_not(None) if part.valued else column.is_(None))
    if position is not None:
        query = query.where(_beyond(column, part, position, key.join is None))
    by_id = Invoice.id.desc() if part.id_desc else Invoice.id.asc()
    if not part.valued:
        return query.order_by(by_id)
    return query.order_by(column.desc() if part.value_desc else column.asc(), by_id)


def _beyond(column, part: _Part, position: Position, own: bool):
    """The rows after ``position`` in ``part``'s order; ``own``: ``column`` is the
    document's (not a joined table's)."""
    # Bound as the column's own type (Money binds whole cents, an enum its value).
    value, row_id = sa.literal(position.value, column.type), position.id
    id_beyond = Invoice.id < row_id if part.id_desc else Invoice.id > row_id
    if not part.valued:
        return id_beyond
    if part.value_desc == part.id_desc and own:
        # One range of the (value, id) index: no tie group read to be skipped.
        pair, bound = sa.tuple_(column, Invoice.id), sa.tuple_(value, row_id)
        return pair < bound if part.id_desc else pair > bound
    # Directions that differ, or a value of a joined table: the value's bound is the
    # index's range, and the tie group at the bound is filtered by id.
    if part.value_desc:
        return sa.and_(column <= value, sa.or_(column < value, id_beyond))
    return sa.and_(column >= value, sa.or_(column > value, id_beyond))


def _by_profile(
    where: list, sort: str, per_page: int, position: Position | None
) -> list[tuple[int, object]]:
    """``keys_from`` for the sort by profile: profile by profile in name order (names are
    unique), each profile's documents in id order from (profile_id, id), those without a
    profile last — where one statement would sort a whole profile's documents."""
    descending = sort.startswith("-")
    backwards = position is not None and position.before
    named = db.session.execute(sa.select(Profile.id, Profile.name).order_by(Profile.name)).all()
    parts = [*(named[::-1] if descending else named), (None, None)]
    here = _rank(parts, position, descending) if position is not None else -0.5
    # The parts from the position's on (back to it, for Previous), the position's own
    # read from the position's id.
    ranked = list(enumerate(parts))
    if backwards:
        ahead = [(rank, part) for rank, part in ranked[::-1] if rank <= here]
    else:
        ahead = [(rank, part) for rank, part in ranked if rank >= here]
    id_desc = descending != backwards
    rows: list[tuple[int, object]] = []
    for rank, (profile_id, name) in ahead:
        mine = (
            Invoice.profile_id.is_(None) if profile_id is None else Invoice.profile_id == profile_id
        )
        query = sa.select(Invoice.id).where(*where, mine)
        if rank == here:
            query = query.where(Invoice.id < position.id if id_desc else Invoice.id > position.id)
        query = query.order_by(Invoice.id.desc() if id_desc else Invoice.id.asc())
        rows += [(i, name) for i in db.session.scalars(query.limit(per_page - len(rows)))]
        if len(rows) == per_page:
            break
    return rows[::-1] if backwards else rows


def _rank(parts: list, position: Position, descending: bool) -> float:
    """Where ``position`` lies among the profile ``parts`` (their index; between two: a
    half, as when its profile was renamed or removed since the link was made)."""
    if position.value is None:
        return len(parts) - 1
    for rank, (_profile_id, name) in enumerate(parts[:-1]):
        if name == position.value:
            return rank
        if (name < position.value) if descending else (name > position.value):
            return rank - 0.5
    return len(parts) - 1.5


def keys_at(
    where: list, sort: str, page: int, per_page: int, extra: int = 0
) -> list[tuple[int, object]]:
    """(id, sort value) of page ``page`` counted from the start: an OFFSET, for a page
    number typed in; and ``extra`` rows after it (1: whether a Next page exists)."""
    key = SORTS[sort.removeprefix("-")]
    order, _join = ordering(sort)
    query = joined(sa.select(Invoice.id, key.expression).where(*where), key).order_by(*order)
    query = query.limit(per_page + extra).offset((page - 1) * per_page)
    return db.session.execute(query).all()
