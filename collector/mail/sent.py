"""The demo outbox: the emails kept as ``MailMessage`` rows, to read back."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from marshmallow import fields, validate

from collector.core.errors import NotFound
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.runtime.listing import (
    DEFAULT_PER_PAGE,
    Page,
    PageArgsSchema,
    contains,
    load_args,
    paginate,
)


class OutboxQueryArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.Length(max=32))
    q = fields.String(validate=validate.Length(max=100))


def parse_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as keyword arguments for ``search_messages``
    (``kind``, ``q``, ``page``, ``per_page``); raises ``Invalid`` per argument."""
    data = load_args(OutboxQueryArgsSchema(), args)
    return {"kind": None, "q": None, **data}


def search_messages(
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """One page of messages, newest first, of ``kind`` and to a recipient containing ``q``."""
    conditions = _conditions(kind, q)
    query = (
        sa.select(MailMessage)
        .where(*conditions)
        .order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    )
    count = sa.select(sa.func.count()).select_from(MailMessage).where(*conditions)
    return paginate(query, count, page, per_page)


def _conditions(kind: str | None, q: str | None) -> list:
    conditions = []
    if kind:
        conditions.append(MailMessage.kind == kind)
    if q and q.strip():
        conditions.append(MailMessage.recipient.ilike(contains(q.strip()), escape="\\"))
    return conditions


def message_kinds() -> list[str]:
    """The kinds of message there are, alphabetically: the choices of the kind filter."""
    query = sa.select(MailMessage.kind).distinct().order_by(MailMessage.kind)
    return list(db.session.scalars(query))


def get_message(message_id: int) -> MailMessage:
    """The message with this id, or ``NotFound``."""
    message = db.session.get(MailMessage, message_id)
    if message is None:
        raise NotFound(f"No message with id {message_id}.")
    return message
