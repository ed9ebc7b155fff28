"""The demo outbox: the emails kept as ``MailMessage`` rows, to read back."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from marshmallow import fields, validate

from collector.core.errors import NotFound
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.runtime.listing import (
    Page,
    PageArgsSchema,
    paginate,
    search_args,
    text_match,
)


class OutboxQueryArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.Length(max=32))
    q = fields.String(validate=validate.Length(max=100))


def search_messages(args: Mapping[str, str]) -> Page:
    """One page of messages, newest first, as the query-string ``args`` ask: of ``kind``,
    to a recipient containing ``q``; raises ``Invalid`` per argument."""
    wanted = search_args(OutboxQueryArgsSchema(), args)
    conditions = _conditions(wanted["kind"], wanted["q"])
    query = (
        sa.select(MailMessage)
        .where(*conditions)
        .order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    )
    count = sa.select(sa.func.count()).select_from(MailMessage).where(*conditions)
    return paginate(query, count, wanted["page"], wanted["per_page"])


def _conditions(kind: str | None, q: str | None) -> list:
    conditions = [MailMessage.kind == kind] if kind else []
    return conditions + text_match(q, MailMessage.recipient)


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
