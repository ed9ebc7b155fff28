"""The hand-off step reached: no mail, one event on the document's timeline saying a
person takes over. Written once per document, by the daily run, for documents that
reached it within the grace period (as the mail steps)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from collector.documents import timeline
from collector.documents.models import InvoiceEvent
from collector.dunning import schedule
from collector.dunning.models import DunningStep, StepKind
from collector.extensions import db
from collector.runtime.wordings import N_, says

REACHED = N_(
    "Dunning reached step %(number)s, the hand-off (%(days)s days after the due date): a "
    "person takes over; no more reminders."
)
SENTENCES = (REACHED,)


def record_hand_offs(today: date, *, actor: str = "job:send_reminders") -> int:
    """Put the hand-off on the timeline of each document that reached it. Commits."""
    recorded = 0
    steps = db.session.scalars(sa.select(DunningStep).filter_by(kind=StepKind.HAND_OFF))
    for step in steps.all():
        for invoice in db.session.scalars(_reached(step, today)).all():
            if not schedule.may_chase(invoice, today):
                continue
            text = says(REACHED, number=schedule.step_number(step), days=step.days)
            timeline.record(invoice, timeline.DUNNING_HAND_OFF, text, actor=actor)
            recorded += 1
    db.session.commit()
    return recorded


def _reached(step: DunningStep, today: date) -> sa.Select:
    latest_due = today - timedelta(days=step.days)
    told = sa.select(InvoiceEvent.id).where(
        InvoiceEvent.invoice_id == schedule.Invoice.id,
        InvoiceEvent.kind == timeline.DUNNING_HAND_OFF,
    )
    return (
        sa.select(schedule.Invoice)
        .where(schedule.chased(step.profile_id))
        .where(schedule.Invoice.due_date <= latest_due)
        .where(schedule.Invoice.due_date > latest_due - schedule.GRACE)
        .where(~sa.exists(told))
    )
