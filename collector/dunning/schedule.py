"""The dunning schedule: which step a document has reached, which comes next and when,
and the one rule that says whether a document may be chased at all.

A step is reached ``days`` after the due date. The daily run owes a document the latest
mail step it reached, unless that step or a later one was owed already, and never one
more than ``GRACE`` late: an old unpaid invoice imported today gets no "7 days overdue"
mail, nor a stack of them after an outage. A hand-off step sends nothing: the document is
"to hand off", for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
)
from collector.dunning import policy
from collector.dunning.models import DunningStep, StepKind
from collector.extensions import db

GRACE = timedelta(days=14)
CHASEABLE = (InvoiceState.BOOKED, InvoiceState.EXPIRED)
MAX_DAYS = 365


def may_chase(invoice: Invoice, today: date) -> bool:
    """Whether ``invoice`` may be reminded today: an invoice, BOOKED or EXPIRED, with
    something due, past its due date, whose invitation no import holds (a person first
    decides to mail it), and that dunning's policy lets be chased (``policy``: no hold, no
    direct debit announced or under way). The one place this is decided (the daily run, a
    person's "send reminder now", and delivery all ask it)."""
    if invoice.kind != DocumentKind.INVOICE or invoice.state not in CHASEABLE:
        return False
    if invoice.amount_due <= 0 or invoice.due_date is None or invoice.due_date >= today:
        return False
    if db.session.scalar(sa.select(_held().exists()).where(Invoice.id == invoice.id)):
        return False
    return policy.chase_blocker(invoice, today) is None


def candidates(step: DunningStep, today: date, now: datetime | None = None) -> sa.Select:
    """Documents of the step's profile that reached it within the grace period, were owed
    neither this step nor a later one, and that the policy lets be chased (with ``now``,
    also waiting for today's bank statement): the daily run's question, in SQL (the rows
    still go through ``may_chase``)."""
    return sa.select(Invoice).where(_owed(step, today, now))


def _owed(step: DunningStep, today: date, now: datetime | None = None) -> sa.ColumnElement:
    latest_due = today - timedelta(days=step.days)
    later = sa.select(DocumentMail.id).where(
        DocumentMail.invoice_id == Invoice.id,
        DocumentMail.kind == DocumentMailKind.REMINDER,
        DocumentMail.days_overdue >= step.days,
    )
    return sa.and_(
        chased(step.profile_id),
        Invoice.due_date <= latest_due,
        Invoice.due_date > latest_due - GRACE,
        ~sa.exists(later),
        policy.chase_allowed(today, now),
    )


def chased(profile_id: int) -> sa.ColumnElement:
    """Open invoices of the profile with something due, in SQL (``may_chase`` says the rest)."""
    return sa.and_(
        Invoice.profile_id == profile_id,
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_(CHASEABLE),
        Invoice.amount_due > 0,
        ~_held().exists(),
    )


def _held() -> sa.Select:
    """The document's invitation an import held (``documents.held_mail``): not chased
    before a person releases it."""
    return sa.select(DocumentMail.id).where(
        DocumentMail.invoice_id == Invoice.id, DocumentMail.status == DocumentMailStatus.HELD
    )


DUE = "due"  # a mail step reached that the next daily run sends
HAND_OFF = "hand_off"  # a hand-off step reached: for a person
FILTERS = (DUE, HAND_OFF)


def filter_condition(wanted: str, today: date) -> sa.ColumnElement:
    """The invoice list's "dunning" filter: documents whose next step is due (``DUE``)
    or to hand off (``HAND_OFF``). One branch per step: there are a handful."""
    steps = db.session.scalars(sa.select(DunningStep)).all()
    if wanted == HAND_OFF:
        reached = [
            sa.and_(chased(s.profile_id), Invoice.due_date <= today - timedelta(days=s.days))
            for s in steps
            if not s.sends_mail
        ]
    else:
        reached = [_owed(s, today) for s in steps if s.sends_mail]
    return sa.or_(*reached) if reached else sa.false()


def mail_steps(profile_id: int) -> list[DunningStep]:
    """The profile's steps that send a mail, latest first (the order the run owes them)."""
    query = (
        sa.select(DunningStep)
        .where(DunningStep.profile_id == profile_id, DunningStep.kind != StepKind.HAND_OFF)
        .order_by(DunningStep.days.desc())
    )
    return list(db.session.scalars(query))


def step_for(profile_id: int | None, days: int | None) -> DunningStep | None:
    """The step a reminder row stands for (its ``days_overdue``), if it still exists."""
    if profile_id is None or days is None:
        return None
    query = sa.select(DunningStep).filter_by(profile_id=profile_id, days=days)
    return db.session.scalars(query).first()


def step_number(step: DunningStep) -> int:
    """The step's place in its profile's schedule, from 1."""
    return [s.id for s in step.profile.dunning_steps].index(step.id) + 1


@dataclass(frozen=True)
class NextStep:
    """What dunning does next with a document: ``step`` on ``on`` (a day already past
    when the step is due now), or a hand-off reached (``hand_off`` true)."""

    step: DunningStep
    number: int
    on: date

    @property
    def hand_off(self) -> bool:
        return self.step.kind == StepKind.HAND_OFF

    def due(self, today: date) -> bool:
        """Reached: the mail goes out in the next daily run, or a person takes over."""
        return self.on <= today


def reminded_days(invoice_ids: list[int]) -> dict[int, int]:
    """The latest step (in days) each document was owed a reminder for."""
    query = (
        sa.select(DocumentMail.invoice_id, sa.func.max(DocumentMail.days_overdue))
        .where(DocumentMail.invoice_id.in_(invoice_ids))
        .where(DocumentMail.kind == DocumentMailKind.REMINDER)
        .group_by(DocumentMail.invoice_id)
    )
    return {invoice_id: days for invoice_id, days in db.session.execute(query) if days}


def next_steps(invoices: list[Invoice], today: date) -> dict[int, NextStep]:
    """The next step of each document that may be chased (see ``next_step``)."""
    reached = reminded_days([i.id for i in invoices])
    on_hold = policy.holds_on([i.id for i in invoices], today)  # one query for the page
    found = {}
    for invoice in invoices:
        if invoice.id in on_hold:
            continue
        step = next_step(invoice, reached.get(invoice.id, 0), today)
        if step is not None:
            found[invoice.id] = step
    return found


def next_step(invoice: Invoice, reminded: int, today: date) -> NextStep | None:
    """The step dunning takes next for ``invoice``, already owed reminders up to
    ``reminded`` days: a reached step the run still sends (or a reached hand-off), else
    the first step to come. None when nothing is left or the document is not chased."""
    if invoice.profile is None or invoice.due_date is None or not _open(invoice):
        return None
    steps = [s for s in invoice.profile.dunning_steps if s.days > reminded]
    numbers = {s.id: n for n, s in enumerate(invoice.profile.dunning_steps, start=1)}
    reached = [s for s in steps if invoice.due_date + timedelta(days=s.days) <= today]
    hand_off = [s for s in reached if not s.sends_mail]
    if hand_off:
        return NextStep(hand_off[0], numbers[hand_off[0].id], _on(invoice, hand_off[0]))
    live = [s for s in reached if _on(invoice, s) + GRACE > today]
    coming = [s for s in steps if _on(invoice, s) > today]
    chosen = live[-1] if live else (coming[0] if coming else None)
    if chosen is None:
        return None
    return NextStep(chosen, numbers[chosen.id], _on(invoice, chosen))


def _on(invoice: Invoice, step: DunningStep) -> date:
    return invoice.due_date + timedelta(days=step.days)


def _open(invoice: Invoice) -> bool:
    # Not yet overdue is still "open" for the next step's date: may_chase says when.
    return (
        invoice.kind == DocumentKind.INVOICE
        and invoice.state in CHASEABLE
        and invoice.amount_due > 0
    )
