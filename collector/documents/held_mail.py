"""Invitations an import holds back until a person says "send" (issue 19: safe mail).

An import — by hand, a Teamleader webhook or the sweep — never mails a document that is
already overdue, or whose invoice date lies further back than the connection's
``hold_mail_after_days``: its invitation row is ``held``. A person who starts an import
may opt in to mail those too. Held rows are listed on their import's page and on the
held list, and go out only when a person releases exactly the ones ticked.

One rule (``holds``) decides, for the import, the import dialog's count and the dry run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from collector.core.columns import utcnow
from collector.documents import timeline
from collector.documents.models import (
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
)
from collector.extensions import db
from collector.runtime.wordings import N_, date_value, says

DEFAULT_HOLD_AFTER_DAYS = 14
# A reminder more than this late is skipped: an old unpaid invoice imported today should
# not get a "7 days overdue" mail, nor a stack of them after an outage.
REMINDER_GRACE = timedelta(days=14)
MAX_HOLD_AFTER_DAYS = 365
MAX_RELEASED = 500

HELD_OVERDUE = N_(
    "Invitation held: the document was already overdue when it was imported (due %(due)s). "
    "It goes out only when a person sends it."
)
HELD_OLD = N_(
    "Invitation held: the invoice date %(day)s lies before %(since)s, more than %(days)s "
    "days back. It goes out only when a person sends it."
)
RELEASED = N_("Held invitation released by %(who)s: it goes out now.")
SENTENCES = (HELD_OVERDUE, HELD_OLD, RELEASED)


@dataclass(frozen=True)
class HoldRule:
    """What an import mails: documents dated on or after ``mail_from`` and not overdue on
    ``today``. ``mail_from`` None: everything (the person opted in)."""

    today: date
    mail_from: date | None
    days: int = DEFAULT_HOLD_AFTER_DAYS

    @classmethod
    def of(cls, today: date, hold_after_days: int | None, opted_in: bool) -> HoldRule:
        """The rule of an import started ``today`` with the connection's setting."""
        days = DEFAULT_HOLD_AFTER_DAYS if hold_after_days is None else hold_after_days
        mail_from = None if opted_in else today - timedelta(days=days)
        return cls(today=today, mail_from=mail_from, days=days)

    def holds(self, invoice_date: date | None, due_date: date | None) -> bool:
        """Whether a document of these dates is held rather than mailed."""
        if self.mail_from is None:
            return False
        overdue = due_date is not None and due_date < self.today
        return overdue or invoice_date is None or invoice_date < self.mail_from

    def reason(self, invoice: Invoice):
        """The timeline's sentence for a held invitation of ``invoice``."""
        if invoice.due_date is not None and invoice.due_date < self.today:
            return says(HELD_OVERDUE, due=date_value(invoice.due_date))
        since = date_value(self.mail_from) if self.mail_from else ""
        day = date_value(invoice.invoice_date)
        return says(HELD_OLD, day=day, since=since, days=self.days)


def reminder_reached(due_date: date, day: int, today: date) -> bool:
    """Whether the ``day``-days reminder of a document due ``due_date`` is owed on
    ``today``: reached, and not so long ago that it is stale (``REMINDER_GRACE``)."""
    latest_due = today - timedelta(days=day)
    return latest_due - REMINDER_GRACE < due_date <= latest_due


def note_held(row: DocumentMail, invoice: Invoice, rule: HoldRule, actor: str) -> None:
    """Say on the document's timeline that its invitation is held, and why."""
    timeline.record(invoice, timeline.MAIL_HELD, rule.reason(invoice), actor=actor, mail=row.key)


def release(mail_ids: list[int], *, actor: str, now: datetime | None = None) -> list[int]:
    """Held invitations → waiting, for a person who chose exactly these; the ids released.

    One conditional UPDATE per row, so a double click or two people release each once; a
    row no longer held (released already, or never) is left alone. Commits.
    """
    now = now or utcnow()
    released = []
    for mail_id in list(dict.fromkeys(mail_ids))[:MAX_RELEASED]:
        changed = db.session.execute(
            sa.update(DocumentMail)
            .where(DocumentMail.id == mail_id, DocumentMail.status == DocumentMailStatus.HELD)
            .values(status=DocumentMailStatus.WAITING, actor=actor[:128], updated_at=now)
        ).rowcount
        if changed:
            row = db.session.get(DocumentMail, mail_id)
            text = says(RELEASED, who=actor.removeprefix("user:"))
            timeline.record(row.invoice, timeline.MAIL_RELEASED, text, actor=actor)
            released.append(mail_id)
    db.session.commit()
    return released


@dataclass(frozen=True)
class ImportMail:
    """What an import's documents were owed by mail, by status, for its result page."""

    rows: list[DocumentMail]

    def having(self, *statuses: DocumentMailStatus) -> list[DocumentMail]:
        return [r for r in self.rows if r.status in statuses]

    @property
    def held(self) -> list[DocumentMail]:
        return self.having(DocumentMailStatus.HELD)

    @property
    def sent(self) -> list[DocumentMail]:
        return self.having(DocumentMailStatus.SENT, DocumentMailStatus.UNCERTAIN)

    @property
    def waiting(self) -> list[DocumentMail]:
        pending = (DocumentMailStatus.WAITING, DocumentMailStatus.SENDING)
        return self.having(*pending, DocumentMailStatus.FAILED)

    @property
    def cancelled(self) -> list[DocumentMail]:
        return self.having(DocumentMailStatus.CANCELLED)


def mail_of_import(import_id: int) -> ImportMail:
    """The invitations and reminders of the documents import ``import_id`` brought in."""
    rows = db.session.scalars(
        sa.select(DocumentMail)
        .join(Invoice, DocumentMail.invoice_id == Invoice.id)
        .where(Invoice.import_id == import_id)
        .options(joinedload(DocumentMail.invoice).joinedload(Invoice.customer))
        .order_by(Invoice.invoice_date, DocumentMail.id)
    ).all()
    return ImportMail(list(rows))


def held_invitations(limit: int = MAX_RELEASED) -> list[DocumentMail]:
    """Every held invitation, oldest document first: what automatic imports held too."""
    return list(
        db.session.scalars(
            sa.select(DocumentMail)
            .join(Invoice, DocumentMail.invoice_id == Invoice.id)
            .where(DocumentMail.status == DocumentMailStatus.HELD)
            .where(DocumentMail.kind == DocumentMailKind.INVITATION)
            .options(joinedload(DocumentMail.invoice).joinedload(Invoice.customer))
            .order_by(Invoice.invoice_date, DocumentMail.id)
            .limit(limit)
        )
    )


def held_count() -> int:
    """How many invitations wait for a person to release them."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentMail)
        .where(DocumentMail.status == DocumentMailStatus.HELD)
    )
