"""Money received beyond what a document asked for, kept in sight until a person decides.

``ledger.settle`` calls ``track`` after every change to the ledger, with the surplus
the ledger shows (``amounts.overpaid``): an ``open`` overpayment appears, follows the
amount, or clears when the surplus goes away on its own (a chargeback, a payment removed
in Teamleader). An admin then refunds it through the provider
(``payments.checkout.refund_overpayment``) or keeps it with a reason (``keep``); either is
an event on the document. What was kept is not asked about again; money beyond it is.

This module writes rows and events only: the callers hold the document's lock and commit.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from collector.core.columns import utcnow
from collector.core.errors import Conflict, required_reason
from collector.core.money import ZERO
from collector.documents import timeline
from collector.documents.models import Invoice, Overpayment, OverpaymentStatus
from collector.extensions import db
from collector.runtime.wordings import N_, Sentence, money_value, says

LIMIT = 200
# What an overpayment tells on the document's timeline (``runtime.wordings``).
OVERPAID = N_("Overpaid by %(amount)s: the payments exceed what was payable. Refund it or keep it.")
OVERPAID_NOW = N_("Overpaid by %(amount)s now (was %(before)s).")
CLEARED = N_("No longer overpaid (%(amount)s): the payments no longer exceed what was payable.")
KEPT = N_("Overpayment of %(amount)s kept: %(reason)s")
REFUNDED = N_(
    "Overpayment of %(amount)s refunded through the payment provider (refund %(refund)s of "
    "payment %(online)s)."
)
SENTENCES = (OVERPAID, OVERPAID_NOW, CLEARED, KEPT, REFUNDED)


def of(invoice: Invoice) -> list[Overpayment]:
    """The document's overpayments, oldest first, resolved ones included."""
    if invoice.id is None:
        return []
    query = (
        sa.select(Overpayment)
        .where(Overpayment.invoice_id == invoice.id)
        .order_by(Overpayment.id)
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(query))


def open_for(invoice: Invoice) -> Overpayment | None:
    """The document's overpayment waiting for a person, if any."""
    return next((r for r in of(invoice) if r.status == OverpaymentStatus.OPEN), None)


def waiting(limit: int = LIMIT) -> list[Overpayment]:
    """Overpayments waiting for a person, newest first, with their documents loaded."""
    query = (
        sa.select(Overpayment)
        .options(joinedload(Overpayment.invoice).joinedload(Invoice.customer))
        .where(Overpayment.status == OverpaymentStatus.OPEN)
        .order_by(Overpayment.created_at.desc(), Overpayment.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def track(
    invoice: Invoice, overpaid: Decimal, *, actor: str, rows: list[Overpayment] | None = None
) -> Overpayment | None:
    """Bring the document's open overpayment in line with ``overpaid`` less what admins
    kept before: opened, changed or cleared, each with an event. Returns the open one.
    ``rows``: the document's overpayments when the caller knows them (none), else read."""
    rows = of(invoice) if rows is None else rows
    kept = sum((r.amount for r in rows if r.status == OverpaymentStatus.KEPT), ZERO)
    surplus = max(ZERO, overpaid - kept)
    current = next((r for r in rows if r.status == OverpaymentStatus.OPEN), None)
    if surplus > ZERO and current is None:
        current = Overpayment(invoice=invoice, amount=surplus, currency=invoice.currency)
        db.session.add(current)
        _event(
            invoice,
            timeline.OVERPAID,
            says(OVERPAID, amount=money_value(surplus, invoice.currency)),
            actor,
            surplus,
        )
    elif surplus > ZERO and current.amount != surplus:
        before, current.amount = current.amount, surplus
        _event(
            invoice,
            timeline.OVERPAID,
            says(
                OVERPAID_NOW,
                amount=money_value(surplus, invoice.currency),
                before=money_value(before, invoice.currency),
            ),
            actor,
            surplus,
        )
    elif surplus == ZERO and current is not None:
        _resolve(current, OverpaymentStatus.CLEARED, actor)
        _event(
            invoice,
            timeline.OVERPAYMENT_RESOLVED,
            says(CLEARED, amount=money_value(current.amount, current.currency)),
            actor,
            current.amount,
        )
        current = None
    return current


def keep(invoice: Invoice, reason: str, *, actor: str) -> Overpayment:
    """An admin keeps the open overpayment (a credit for the next invoice, refunded by
    other means…), with the reason on the document's history."""
    reason = required_reason(reason, "Give a reason: it is kept on the document's history.")
    row = waiting_for(invoice)
    _resolve(row, OverpaymentStatus.KEPT, actor, reason=reason)
    _event(
        invoice,
        timeline.OVERPAYMENT_RESOLVED,
        says(KEPT, amount=money_value(row.amount, row.currency), reason=reason),
        actor,
        row.amount,
    )
    return row


def refunded(row: Overpayment, online, refund_id: str, *, actor: str) -> None:
    """Record that ``row`` went back through ``online`` (the ``OnlinePayment`` it was paid
    with; the payments domain's row) as the provider's ``refund_id``."""
    _resolve(row, OverpaymentStatus.REFUNDED, actor, online_payment=online, refund_id=refund_id)
    _event(
        row.invoice,
        timeline.OVERPAYMENT_RESOLVED,
        says(
            REFUNDED,
            amount=money_value(row.amount, row.currency),
            refund=refund_id,
            online=online.provider_id,
        ),
        actor,
        row.amount,
    )


def waiting_for(invoice: Invoice) -> Overpayment:
    """The document's open overpayment; ``Conflict`` when none waits for a decision."""
    row = open_for(invoice)
    if row is None:
        raise Conflict(f"{invoice.number} has no overpayment waiting for a decision.")
    return row


def _resolve(row: Overpayment, status: OverpaymentStatus, actor: str, **values) -> None:
    row.status = status
    row.resolved_by = actor[:128]
    row.resolved_at = utcnow()
    for name, value in values.items():
        setattr(row, name, value)


def _event(invoice: Invoice, kind: str, message: Sentence, actor: str, amount: Decimal) -> None:
    timeline.record(invoice, kind, message, actor=actor, amount=str(amount))
