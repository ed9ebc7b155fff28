"""The dry run: what the schedule would mail to customers in the next 24 hours.

Read-only, and computed by the very functions that send, so it cannot drift from them:
``invitations.deliverable`` (what the delivery job picks up), ``dunning.schedule``'s
``candidates`` and ``may_chase`` (what the reminder run owes), ``invitations.not_owed``
(what delivery refuses at send time) and ``composing.planned_announcement`` (the
direct-debit pre-notification a mail carries). Held invitations are not in it: they go
only when a person sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from croniter import croniter

from collector.core import clock
from collector.documents.models import (
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    Profile,
)
from collector.dunning import schedule
from collector.extensions import db
from collector.mail import invitations
from collector.mail.composing import planned_announcement

HORIZON = timedelta(hours=24)
SAMPLE = 10
INVITATION, REMINDER, PRENOTIFICATION = "invitation", "reminder", "prenotification"
KINDS = (INVITATION, REMINDER, PRENOTIFICATION)


@dataclass(frozen=True)
class Upcoming:
    """One mail that would go out: to whom, for which document, about how much, when."""

    kind: str  # invitation | reminder
    invoice: Invoice
    at: datetime
    days_overdue: int | None = None
    debit_on: date | None = None  # the direct debit it pre-notifies


@dataclass
class Outlook:
    since: datetime
    until: datetime
    mails: list[Upcoming] = field(default_factory=list)
    waiting_for_pdf: int = 0  # invitations that go once their PDF is fetched
    held: int = 0  # invitations held for a person

    def of(self, kind: str) -> list[Upcoming]:
        if kind == PRENOTIFICATION:
            return [m for m in self.mails if m.debit_on is not None]
        return [m for m in self.mails if m.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in KINDS}

    def samples(self) -> dict[str, list[Upcoming]]:
        return {kind: self.of(kind)[:SAMPLE] for kind in KINDS}


def next_day(now: datetime, reminder_cron: str) -> Outlook:
    """What would go out from ``now`` to 24 hours later; ``reminder_cron`` is when the
    reminder run starts (the schedule's crontab, UTC). Writes nothing."""
    outlook = Outlook(since=now, until=now + HORIZON)
    _owed_now(outlook, now)
    _retries(outlook, now)
    for run_at in _runs(reminder_cron, now, outlook.until):
        _reminder_run(outlook, run_at)
    outlook.mails.sort(key=lambda m: (m.at, m.invoice.id))
    outlook.waiting_for_pdf, outlook.held = _waiting_for_pdf(), _held()
    return outlook


def _owed_now(outlook: Outlook, now: datetime) -> None:
    """Rows the delivery job would send at its next pass (every five minutes)."""
    ids = invitations.deliverable(now, limit=100_000)
    rows = db.session.scalars(
        sa.select(DocumentMail).where(
            DocumentMail.id.in_(ids), DocumentMail.status == DocumentMailStatus.WAITING
        )
    ).all()
    for row in rows:
        _add(outlook, row, now)


def _retries(outlook: Outlook, now: datetime) -> None:
    """Failed rows whose next try falls within the horizon."""
    rows = db.session.scalars(
        sa.select(DocumentMail)
        .where(DocumentMail.status == DocumentMailStatus.FAILED)
        .where(DocumentMail.retry_at.isnot(None), DocumentMail.retry_at <= outlook.until)
    ).all()
    for row in rows:
        _add(outlook, row, max(now, row.retry_at))


def _add(outlook: Outlook, row: DocumentMail, at: datetime) -> None:
    if row.kind == DocumentMailKind.MANDATE_UNUSABLE:
        return  # not an invitation or a reminder: it goes out within minutes of being owed
    invoice = row.invoice
    today = clock.local_date(at)
    if invitations.not_owed(row.kind, invoice, today) is not None:
        return  # delivery would cancel it, not send it
    debit = planned_announcement(invoice, today)
    kind = INVITATION if row.kind == DocumentMailKind.INVITATION else REMINDER
    outlook.mails.append(
        Upcoming(kind, invoice, at, row.days_overdue, debit.on if debit is not None else None)
    )


def _reminder_run(outlook: Outlook, run_at: datetime) -> None:
    """The reminders the run at ``run_at`` would owe and send: per document, the latest
    mail step reached, as ``reminders.queue_reminders`` chooses it."""
    today = clock.local_date(run_at)
    # The run is hourly: a document a run earlier in the window owes is not owed again.
    owed_before = {m.invoice.id for m in outlook.mails if m.kind == REMINDER}
    chosen: dict[int, tuple[int, Invoice]] = {}
    for profile_id in db.session.scalars(sa.select(Profile.id).order_by(Profile.id)).all():
        for step in schedule.mail_steps(profile_id):  # latest first: the run owes that one
            for invoice in db.session.scalars(schedule.candidates(step, today, run_at)):
                if invoice.id not in owed_before and schedule.may_chase(invoice, today):
                    chosen.setdefault(invoice.id, (step.days, invoice))
    for day, invoice in chosen.values():
        if invitations.not_owed(DocumentMailKind.REMINDER, invoice, today) is not None:
            continue
        debit = planned_announcement(invoice, today)
        on = debit.on if debit is not None else None
        outlook.mails.append(Upcoming(REMINDER, invoice, run_at, day, on))


def _runs(cron: str, since: datetime, until: datetime) -> list[datetime]:
    """The times ``cron`` (UTC) fires after ``since`` and up to ``until``."""
    times, it = [], croniter(cron, since)
    while (at := it.get_next(datetime)) <= until:
        times.append(at)
    return times


def _waiting_for_pdf() -> int:
    has_pdf = sa.exists().where(Invoice.id == DocumentMail.invoice_id, Invoice.pdf_key.isnot(None))
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentMail)
        .where(DocumentMail.status == DocumentMailStatus.WAITING)
        .where(DocumentMail.needs_pdf.is_(True), ~has_pdf)
    )


def _held() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentMail)
        .where(DocumentMail.status == DocumentMailStatus.HELD)
    )
