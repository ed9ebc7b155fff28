"""Reminders: the dunning steps' mails, owed by the daily run on each profile's schedule
(``dunning.schedule``) or at once by a person's "send reminder now"; delivered like the
invitations (``invitations.deliver``), each step once per document.

A step's row is keyed ``reminder:<days>`` with ``days_overdue`` = the step's days (the
keys the old ``reminder_days`` wrote, so nothing sent before an upgrade goes out again);
a step sent again by a person is ``reminder:<days>:again:<n>``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from collector.core import clock
from collector.documents.models import DocumentMail, DocumentMailKind, Invoice, Profile
from collector.dunning import schedule
from collector.dunning.models import DunningStep
from collector.extensions import db
from collector.mail.invitations import OPEN, RECEIVED, owe


def queue_reminders(
    today: date, *, actor: str = "job:send_reminders", now: datetime | None = None
) -> int:
    """Owe each document the latest mail step of its profile it reached, if dunning's
    policy lets it be chased ``now`` (held, a debit announced or under way, or today's
    bank statement still to come: see ``dunning.policy``). Commits."""
    now = now or clock.now()
    queued = 0
    for profile_id in db.session.scalars(sa.select(Profile.id)).all():
        for step in schedule.mail_steps(profile_id):
            queued += _queue_step(step, today, now, actor)
    db.session.commit()
    return queued


def _queue_step(step: DunningStep, today: date, now: datetime, actor: str) -> int:
    queued = 0
    for invoice in db.session.scalars(schedule.candidates(step, today, now)).all():
        if not schedule.may_chase(invoice, today):
            continue
        key = f"reminder:{step.days}"
        queued += owe(invoice, DocumentMailKind.REMINDER, key, actor, days=step.days) is not None
    return queued


def request_reminders(invoice_ids: list[int], today: date, *, actor: str) -> list[int]:
    """A person's "send reminder now": the rows to deliver at once. Each document that
    may be chased is owed its next mail step now, ahead of the schedule (which then does
    not send it again), or the last one again when none is left. A reminder still owed
    is delivered as it is. Commits."""
    owed = []
    invoices = db.session.scalars(sa.select(Invoice).where(Invoice.id.in_(invoice_ids))).all()
    reached = schedule.reminded_days([i.id for i in invoices])
    for invoice in invoices:
        open_row = _open_reminder(invoice.id)
        if open_row is not None:
            owed.append(open_row.id)
            continue
        if not schedule.may_chase(invoice, today) or invoice.profile is None:
            continue
        row = _owe_now(invoice, reached.get(invoice.id, 0), actor)
        if row is not None:
            owed.append(row.id)
    db.session.commit()
    return owed


def _owe_now(invoice: Invoice, reminded: int, actor: str) -> DocumentMail | None:
    steps = [s for s in invoice.profile.dunning_steps if s.sends_mail]
    if not steps:
        return None
    coming = [s for s in steps if s.days > reminded]
    step = coming[0] if coming else steps[-1]
    key = f"reminder:{step.days}"
    if not coming:
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(DocumentMail)
            .where(DocumentMail.invoice_id == invoice.id, DocumentMail.key.like(f"{key}%"))
        )
        key = f"{key}:again:{count + 1}"
    return owe(invoice, DocumentMailKind.REMINDER, key, actor, days=step.days)


def _open_reminder(invoice_id: int) -> DocumentMail | None:
    query = (
        sa.select(DocumentMail)
        .where(DocumentMail.invoice_id == invoice_id)
        .where(DocumentMail.kind == DocumentMailKind.REMINDER, DocumentMail.status.in_(OPEN))
        .order_by(DocumentMail.id.desc())
    )
    return db.session.scalars(query).first()


def recently_reminded(
    invoice_ids: list[int], now: datetime, within_days: int
) -> list[tuple[Invoice, DocumentMail]]:
    """(document, its last reminder) for those reminded — or maybe reminded — in the last
    ``within_days`` days: the ones a person is asked about before sending another."""
    since = now - timedelta(days=within_days)
    rows = db.session.scalars(
        sa.select(DocumentMail)
        .where(DocumentMail.invoice_id.in_(invoice_ids))
        .where(DocumentMail.kind == DocumentMailKind.REMINDER)
        .where(DocumentMail.status.in_(RECEIVED))
        .where(sa.func.coalesce(DocumentMail.sent_at, DocumentMail.updated_at) >= since)
        .order_by(DocumentMail.id)
    ).all()
    last = {row.invoice_id: row for row in rows}
    return [(row.invoice, row) for _, row in sorted(last.items())]
