"""Lists shared by the web and the API: query-string parsing and paging.

Query arguments are parsed once, by a marshmallow schema, whether they come from
the overview's filter form or from an API call; both adapters turn the same
``Invalid`` into field errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from collector.core.errors import Invalid
from collector.extensions import db

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
# A row id as the database holds it (PostgreSQL ``integer``): larger is a 400, not a 500.
ROW_ID = validate.Range(min=1, max=2**31 - 1)


class QueryArgsSchema(Schema):
    """Query-string input: an unknown name is an error, a blank value means "not given"
    (an HTML form sends every field, filled in or not)."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _drop_blanks(self, data, **_kwargs):
        cleaned = {}
        for name, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[name] = value
        return cleaned


class PageArgsSchema(QueryArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )


def load_args(schema: Schema, args: Mapping[str, str]) -> dict:
    """``args`` loaded by ``schema``; a bad or unknown argument raises ``Invalid``."""
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise Invalid(exc.messages, "The query has invalid arguments.") from exc


def search_args(schema: Schema, args: Mapping[str, str]) -> dict:
    """``args`` loaded by ``schema`` as keyword arguments for a search function: every
    argument the schema declares, None when not given; raises ``Invalid`` like ``load_args``."""
    return {**dict.fromkeys(schema.fields, None), **load_args(schema, args)}


@dataclass(frozen=True)
class Page:
    """One page of a list, and where it sits in the whole."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are; an empty list still has one (empty) page."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def prev_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def paginate(query: sa.Select, count_query: sa.Select, page: int, per_page: int) -> Page:
    """Run ``query`` for one page; ``count_query`` (a ``count(*)`` with the same
    filters) only when the page itself cannot tell the total."""
    offset = (page - 1) * per_page
    items = list(db.session.scalars(query.limit(per_page).offset(offset)))
    partial = 0 < len(items) < per_page
    if partial or (page == 1 and not items):
        # The last page: the total follows, and counting would cost a second scan.
        total = offset + len(items)
    else:
        total = db.session.scalar(count_query)
    return Page(items=items, total=total, page=page, per_page=per_page)


def text_match(q: str | None, *columns) -> list:
    """The condition "one of ``columns`` contains ``q``" (case-insensitive), as a list to
    spread into ``where``: empty when ``q`` is blank."""
    if not q or not q.strip():
        return []
    pattern = contains(q.strip())
    return [sa.or_(*(column.ilike(pattern, escape="\\") for column in columns))]


def latest(model, limit: int) -> list:
    """The ``limit`` newest rows of ``model`` (highest id first): a page's "recent" list."""
    return list(db.session.scalars(sa.select(model).order_by(model.id.desc()).limit(limit)))


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def dates_in_order(data: Mapping, start: str, end: str) -> None:
    """A list schema's check that its date range ``start``–``end`` (both optional) does not
    end before it starts; the refusal names ``end``."""
    first, last = data.get(start), data.get(end)
    if first and last and first > last:
        later = gettext("The end date comes before the start date (%(day)s).", day=first)
        raise ValidationError(later, end)
