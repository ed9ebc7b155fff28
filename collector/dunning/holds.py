"""Holds: pause chasing and debiting of a document, of many, or of a whole customer,
with a reason (disputed, promise to pay, payment plan) and why; lift them again.

Every hold placed or lifted is told on the timeline of the documents it pauses (a
customer's hold on each of its open invoices), in the reader's language. ``policy``
decides what a standing hold stops; this module only keeps them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from collector.accounts import audit
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, NotFound
from collector.documents import ledger, timeline
from collector.documents.models import Customer, DocumentKind, Invoice
from collector.dunning import wording
from collector.dunning.models import Hold, HoldReason
from collector.dunning.policy import standing
from collector.extensions import db
from collector.runtime.wordings import Sentence, date_value, says, word

NOTE_LIMIT = 500
# A dispute or a payment plan this old is shown on the dashboard for a person to review.
REVIEW_AFTER = timedelta(days=30)
MAX_SELECTED = 500
# Who placed a hold the customer asked for themselves (the portal's "I have paid" and
# "I dispute this"); the team reviews those while they stand.
CUSTOMER = "customer"


def check_hold(reason: str, until: date | None, note: str, today: date) -> tuple:
    """The reason, date and note of a new hold, checked; ``Invalid`` names each field wrong."""
    errors: dict[str, list[str]] = {}
    try:
        reason = HoldReason(reason)
    except ValueError:
        errors["reason"] = [_("Choose why: disputed, promise to pay or payment plan.")]
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Say why: it is kept with the hold and on the timeline.")]
    elif len(note) > NOTE_LIMIT:
        errors["note"] = [_("Keep it under %(num)s characters.", num=NOTE_LIMIT)]
    if reason == HoldReason.PROMISE:
        if until is None:
            errors["until"] = [_("A promise to pay needs the day the customer will pay by.")]
        elif until < today:
            errors["until"] = [_("That day has passed: give a day from today on.")]
    else:
        until = None  # only a promise ends by itself
    if errors:
        raise Invalid(errors)
    return reason, until, note


def hold_documents(
    invoice_ids: list[int], reason: str, until: date | None, note: str, actor: str, today: date
) -> list[Hold]:
    """Hold each of these invoices (credit notes are never chased: left out). One that
    was held already gets the new hold instead. Commits."""
    reason, until, note = check_hold(reason, until, note, today)
    invoices = db.session.scalars(
        sa.select(Invoice).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id)
    ).all()
    if len(invoices) != len(set(invoice_ids)):
        raise NotFound(_("A selected document no longer exists; reload the page."))
    invoices = [i for i in invoices if i.kind == DocumentKind.INVOICE]
    if not invoices:
        raise Conflict(_("Credit notes are never chased nor debited: there is nothing to hold."))
    placed = []
    for invoice in invoices:
        _replace(sa.and_(Hold.invoice_id == invoice.id), actor)
        hold = Hold(invoice=invoice, reason=reason, until=until, note=note, placed_by=actor[:128])
        db.session.add(hold)
        timeline.record(invoice, timeline.HOLD_PLACED, _placed_text(hold), actor=actor)
        placed.append(hold)
    _record_placed([i.id for i in invoices], reason, until)
    db.session.commit()
    return placed


def hold_customer(
    customer_id: int, reason: str, until: date | None, note: str, actor: str, today: date
) -> Hold:
    """Hold a whole customer: every document of theirs, now and to come. Commits."""
    reason, until, note = check_hold(reason, until, note, today)
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.")
    _replace(Hold.customer_id == customer.id, actor)
    hold = Hold(customer=customer, reason=reason, until=until, note=note, placed_by=actor[:128])
    db.session.add(hold)
    for invoice in open_invoices(customer.id):
        timeline.record(invoice, timeline.HOLD_PLACED, _placed_text(hold), actor=actor)
    details = {"reason": str(reason), "until": until}
    audit.record("hold.placed", target=f"customer:{customer.id}", details=details)
    db.session.commit()
    return hold


def lift(hold_id: int, actor: str, note: str = "") -> Hold:
    """Lift a hold by hand: chasing and debiting resume. Commits."""
    hold = db.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"No hold with id {hold_id}.")
    if hold.lifted_at is not None:
        raise Conflict(_("This hold was lifted already."))
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise Invalid({"note": [_("Keep it under %(num)s characters.", num=NOTE_LIMIT)]})
    _lift(hold, actor, note)
    if hold.invoice_id is not None:
        target = f"invoice:{hold.invoice_id}"
    else:
        target = f"customer:{hold.customer_id}"
    audit.record("hold.lifted", target=target, details={"hold": hold.id, "note": note})
    db.session.commit()
    return hold


def lift_documents(invoice_ids: list[int], actor: str) -> int:
    """Lift the holds placed on these documents themselves (their customers' stay). Commits."""
    rows = db.session.scalars(
        sa.select(Hold)
        .where(Hold.invoice_id.in_(invoice_ids), Hold.lifted_at.is_(None))
        .order_by(Hold.id)
    ).all()
    for hold in rows:
        _lift(hold, actor, "")
    if rows:
        ids = [hold.invoice_id for hold in rows]
        target = f"invoice:{ids[0]}" if len(ids) == 1 else ""
        details = {"count": len(ids), "invoice_ids": ids[:AUDIT_IDS]}
        audit.record("hold.lifted", target=target, details=details)
    db.session.commit()
    return len(rows)


# A bulk change lists at most this many document ids in its audit row (and counts all).
AUDIT_IDS = 200


def _record_placed(invoice_ids: list[int], reason, until: date | None) -> None:
    target = f"invoice:{invoice_ids[0]}" if len(invoice_ids) == 1 else ""
    details = {
        "reason": str(reason),
        "until": until,
        "count": len(invoice_ids),
        "invoice_ids": invoice_ids[:AUDIT_IDS],
    }
    audit.record("hold.placed", target=target, details=details)


def tell_resumed(today: date) -> int:
    """Tell the timelines of promises whose day passed that chasing resumed, once each.
    The policy resumed it already, by the date; this only says so. Commits."""
    rows = db.session.scalars(
        sa.select(Hold).where(lapsed(today), Hold.resume_told_at.is_(None)).order_by(Hold.id)
    ).all()
    for hold in rows:
        until = date_value(hold.until)
        if hold.customer_id is not None:
            text = says(wording.CUSTOMER_RESUMED, name=hold.customer.name, until=until)
            invoices = open_invoices(hold.customer_id)
        else:
            text, invoices = says(wording.RESUMED, until=until), [hold.invoice]
        for invoice in invoices:
            timeline.record(invoice, timeline.CHASING_RESUMED, text, actor="system")
        hold.resume_told_at = utcnow()
    db.session.commit()
    return len(rows)


def _replace(subject: sa.ColumnElement[bool], actor: str) -> None:
    # One hold per subject at a time: a new one (a new promise date) ends the old one.
    for old in db.session.scalars(sa.select(Hold).where(subject, Hold.lifted_at.is_(None))):
        _lift(old, actor, _("replaced by a new hold"))


def _lift(hold: Hold, actor: str, note: str) -> None:
    hold.lifted_at, hold.lifted_by, hold.lift_note = utcnow(), actor[:128], note or None
    reason = word(wording.REASONS[hold.reason])
    if hold.customer_id is not None:
        text = says(wording.CUSTOMER_LIFTED, name=hold.customer.name, reason=reason)
        invoices = open_invoices(hold.customer_id)
    else:
        text, invoices = says(wording.LIFTED, reason=reason), [hold.invoice]
    if note:
        text = says(wording.WHY, text=text, note=note)
    for invoice in invoices:
        timeline.record(invoice, timeline.HOLD_LIFTED, text, actor=actor)


def _placed_text(hold: Hold) -> Sentence:
    reason = word(wording.REASONS[hold.reason])
    until = date_value(hold.until) if hold.until else None
    if hold.customer is not None:
        name = hold.customer.name
        text = (
            says(wording.CUSTOMER_PLACED_PROMISE, name=name, until=until)
            if until
            else says(wording.CUSTOMER_PLACED, name=name, reason=reason)
        )
    else:
        text = (
            says(wording.PLACED_PROMISE, until=until)
            if until
            else says(wording.PLACED, reason=reason)
        )
    return says(wording.WHY, text=text, note=hold.note)


def open_invoices(customer_id: int) -> list[Invoice]:
    """The customer's invoices still owed: those a customer's hold pauses today."""
    return list(
        db.session.scalars(
            sa.select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.kind == DocumentKind.INVOICE)
            .where(Invoice.state.in_(ledger.PAYABLE), Invoice.amount_due > 0)
            .order_by(Invoice.id)
        )
    )


# -- reading ----------------------------------------------------------------------------


def holds_of_invoice(invoice: Invoice) -> list[Hold]:
    """The document's holds and its customer's, newest first, lifted ones too."""
    return list(
        db.session.scalars(
            sa.select(Hold)
            .where((Hold.invoice_id == invoice.id) | (Hold.customer_id == invoice.customer_id))
            .order_by(Hold.placed_at.desc(), Hold.id.desc())
        )
    )


def holds_of_customer(customer_id: int) -> list[Hold]:
    """The customer's holds and those of its documents, newest first, lifted ones too."""
    documents = sa.select(Invoice.id).where(Invoice.customer_id == customer_id)
    return list(
        db.session.scalars(
            sa.select(Hold)
            .where((Hold.customer_id == customer_id) | Hold.invoice_id.in_(documents))
            .options(*_shown_with())
            .order_by(Hold.placed_at.desc(), Hold.id.desc())
        )
    )


def lapsed(today: date) -> sa.ColumnElement[bool]:
    """Promises whose day passed, not lifted: chasing resumed by itself; a person looks."""
    return Hold.lifted_at.is_(None) & Hold.until.isnot(None) & (Hold.until < today)


def for_review(now: datetime) -> sa.ColumnElement[bool]:
    """Disputes and payment plans standing for longer than ``REVIEW_AFTER``."""
    return (
        Hold.lifted_at.is_(None)
        & Hold.reason.in_((HoldReason.DISPUTED, HoldReason.PAYMENT_PLAN))
        & (Hold.placed_at < now - REVIEW_AFTER)
    )


def from_customers(today: date) -> sa.ColumnElement[bool]:
    """Standing holds the customers placed themselves, from their portal: a person looks."""
    return standing(today) & (Hold.placed_by == CUSTOMER)


SHOWS = ("standing", "lapsed", "review", "customers")


# What a list of holds shows of each: its document and that document's customer, or its
# customer (one query, not one per hold).
def _shown_with() -> tuple:
    # Built when asked: building loader options at import would configure the mappers
    # before every domain's models are imported.
    return (joinedload(Hold.invoice).joinedload(Invoice.customer), joinedload(Hold.customer))


def list_holds(show: str, today: date, now: datetime) -> list[Hold]:
    """The holds a person asked for: standing ones, lapsed promises, or those to review."""
    where = {
        "standing": standing(today),
        "lapsed": lapsed(today),
        "review": for_review(now),
        "customers": from_customers(today),
    }
    if show not in where:
        raise Invalid({"show": [_("Unknown list.")]})
    return list(
        db.session.scalars(
            sa.select(Hold)
            .where(where[show])
            .options(*_shown_with())
            .order_by(Hold.placed_at, Hold.id)
            .limit(1000)
        )
    )
