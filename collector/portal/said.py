"""What a customer says about a document from their portal: "I have paid" or "I dispute
this". Either pauses chasing under the dunning policy (a hold, ``dunning.holds``), which
the document's timeline tells; the team finds it on the dashboard ("Customers who said
they paid or dispute an invoice", the holds list's ``customers`` view) and, when the
company entity has a contact address, by mail.

- "I have paid on <day>": a promise-to-pay hold until ``PAYMENT_ARRIVES`` after that day
  (or after today, if later), so a transfer under way reaches the bank before the next
  reminder; chasing resumes by itself after it.
- "I dispute this, because …": a disputed hold, standing until a person lifts it.

A hold the team placed on the document stands: what the customer says is then kept as a
note beside it (and mailed), never replacing it. The portal is public, so each customer
may say this ``DAILY_LIMIT`` times in a day; more is refused (``TooMany``) before
anything is written.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from collector.accounts import alerts, entities, languages
from collector.core import clock
from collector.core.errors import Conflict, Invalid
from collector.documents.models import Customer, DocumentKind, Invoice
from collector.dunning import holds, notes, policy
from collector.dunning.models import Hold, HoldReason, Note
from collector.extensions import db

ACTOR = holds.CUSTOMER  # who placed the hold, as the timeline names them
PAYMENT_ARRIVES = timedelta(days=7)  # a transfer's days on the way, with a margin
OLDEST_PAYMENT = timedelta(days=120)  # "paid" that long ago is not a transfer under way
DAILY_LIMIT = 10
NOTE_LIMIT = 400  # within the hold's 500, with the words around it
MAIL_KIND = "portal_said"


class TooMany(Conflict):
    """The customer said too much today; nothing was written."""


def said_paid(customer: Customer, invoice: Invoice, paid_on: date | None, note: str) -> Hold:
    """The customer says they paid ``invoice`` on ``paid_on``: chasing pauses until the
    money can have arrived. Commits; ``Invalid`` names the field that is wrong."""
    today = clock.local_today()
    note = (note or "").strip()
    errors = {}
    if paid_on is None:
        errors["paid_on"] = [_("Give the day you paid.")]
    elif paid_on > today:
        errors["paid_on"] = [_("That day is still to come: give the day you paid.")]
    elif paid_on < today - OLDEST_PAYMENT:
        errors["paid_on"] = [_("That is long ago: please contact us instead.")]
    if len(note) > NOTE_LIMIT:
        errors["note"] = [_("Keep it under %(num)s characters.", num=NOTE_LIMIT)]
    if errors:
        raise Invalid(errors)
    until = max(paid_on, today) + PAYMENT_ARRIVES
    told = f"The customer says they paid on {paid_on.isoformat()} (portal)."
    return _hold(customer, invoice, HoldReason.PROMISE, until, f"{told} {note}".strip())


def said_disputed(customer: Customer, invoice: Invoice, reason: str) -> Hold:
    """The customer disputes ``invoice`` for ``reason``: chasing pauses until a person
    lifts the hold. Commits; ``Invalid`` when the reason is missing or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": [_("Tell us why you dispute this invoice.")]})
    if len(reason) > NOTE_LIMIT:
        raise Invalid({"reason": [_("Keep it under %(num)s characters.", num=NOTE_LIMIT)]})
    note = f"The customer disputes it (portal): {reason}"
    return _hold(customer, invoice, HoldReason.DISPUTED, None, note)


def said_today(customer: Customer) -> int:
    """How often the customer spoke from the portal in the last day (holds and notes)."""
    since = clock.now() - timedelta(days=1)
    mine = sa.select(Invoice.id).where(Invoice.customer_id == customer.id)
    holds_placed = (
        sa.select(sa.func.count())
        .select_from(Hold)
        .where(Hold.invoice_id.in_(mine), Hold.placed_by == ACTOR, Hold.placed_at >= since)
    )
    notes_kept = (
        sa.select(sa.func.count())
        .select_from(Note)
        .where(Note.invoice_id.in_(mine), Note.author == ACTOR, Note.created_at >= since)
    )
    return (db.session.scalar(holds_placed) or 0) + (db.session.scalar(notes_kept) or 0)


def _team_hold(invoice: Invoice, today: date) -> Hold | None:
    """A hold the team placed on the document that still stands: the customer's word
    never replaces it (a promise would end it in a week)."""
    query = sa.select(Hold).where(
        Hold.invoice_id == invoice.id, policy.standing(today), Hold.placed_by != ACTOR
    )
    return db.session.scalars(query.limit(1)).first()


def _hold(customer, invoice, reason: HoldReason, until: date | None, note: str) -> Hold:
    if invoice.customer_id != customer.id or invoice.kind != DocumentKind.INVOICE:
        raise Conflict(_("There is no such invoice."))
    if invoice.amount_due <= 0:
        raise Conflict(_("Nothing is due on this invoice."))
    today = clock.local_today()
    if said_today(customer) >= DAILY_LIMIT:
        raise TooMany(_("You have told us a lot today: please contact us directly."))
    kept = _team_hold(invoice, today)
    if kept is not None:
        # The team's hold stays; what the customer said is kept beside it, as a note.
        notes.note_document(invoice.id, note, ACTOR)
        _tell_team(customer, invoice, note)
        return kept
    [hold] = holds.hold_documents([invoice.id], reason.value, until, note, ACTOR, today)
    _tell_team(customer, invoice, hold.note)
    return hold


def _tell_team(customer: Customer, invoice: Invoice, said_text: str) -> None:
    """Mail the entity's contact address, when it has one (the dashboard shows it anyway)."""
    payee = entities.creditor_of(invoice.department_id)
    address = payee.contact_email if payee is not None else ""
    if not address:
        return
    with force_locale(languages.DEFAULT):
        subject = _(
            "%(customer)s about invoice %(number)s", customer=customer.name, number=invoice.number
        )
        text = f"{said_text}\n\n" + _(
            "Reminders and direct debits of this invoice are paused. See the holds in "
            "collector to lift the hold or keep it."
        )
    alerts.notify(address, kind=MAIL_KIND, subject=subject, text=text)
