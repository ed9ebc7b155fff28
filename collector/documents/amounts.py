"""What a document's payments add up to: what stands of each, what is still due, what
was paid beyond it. Reading only; the ledger (``ledger``) writes the rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from collector.core.money import ZERO, round_cents
from collector.documents.models import DocumentKind, Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db


def by_key(key: str) -> Payment | None:
    return db.session.scalars(sa.select(Payment).where(Payment.key == key)).one_or_none()


def reversal_kinds(keys: sa.ColumnElement[bool]) -> set[PaymentKind]:
    """The kinds of reversal (refund, chargeback) the ledger holds for the payments that
    match ``keys``, even cancelled ones: the provider's lists of them are read again
    whatever its totals say, so a reversed chargeback or a cancelled refund reaches the
    ledger."""
    paid = sa.select(Payment.id).where(keys)
    query = sa.select(Payment.kind).where(Payment.reverses_id.in_(paid)).distinct()
    return set(db.session.scalars(query))


def ours(invoice: Invoice) -> list[Payment]:
    """Our payments (not mirrored from Teamleader), reversed or not."""
    return [
        p
        for p in invoice.payments
        if p.kind == PaymentKind.PAYMENT and p.source != PaymentSource.TEAMLEADER and p.counts
    ]


def mirrored(invoice: Invoice) -> list[Payment]:
    """Payments registered in Teamleader by hand, mirrored here, still counting."""
    return [
        p
        for p in invoice.payments
        if p.kind == PaymentKind.PAYMENT and p.source == PaymentSource.TEAMLEADER and p.counts
    ]


def net(payment: Payment) -> Decimal:
    """What still stands of a payment once its counting reversals are taken off."""
    taken = sum(
        (r.amount for r in payment.invoice.payments if r.reverses_id == payment.id and r.counts),
        ZERO,
    )
    return max(ZERO, payment.amount + taken)


def last_paid_at(invoice: Invoice) -> datetime | None:
    """When the payment that settled the document was made, as its source says (the
    provider's ``paidAt``, the bank's booking date), not when we heard of it."""
    standing = [
        p.occurred_at for p in invoice.payments if p.kind == PaymentKind.PAYMENT and p.counts
    ]
    return max(standing, default=None)


def paid_here(invoice: Invoice) -> Decimal:
    """The money we hold for the document, Teamleader's own payments left out."""
    return sum((net(p) for p in ours(invoice)), ZERO)


def paid_in_teamleader(invoice: Invoice) -> Decimal:
    """What the payments registered in Teamleader by hand add to ours."""
    return sum((net(p) for p in mirrored(invoice)), ZERO)


def credited_total(invoice: Invoice) -> Decimal:
    """What the credit notes held here credit on ``invoice``."""
    total = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Invoice.total_incl_vat), 0)).where(
            Invoice.credited_invoice_id == invoice.id,
            Invoice.kind == DocumentKind.CREDIT_NOTE,
        )
    )
    # A sum of whole cents; SQLite adds them as doubles, hence the rounding back.
    return round_cents(total)


def still_due(
    payable: Decimal,
    credited: Decimal,
    paid_ours: Decimal,
    paid_in_teamleader: Decimal,
    teamleader_due: Decimal | None,
    held: Decimal,
) -> Decimal:
    """What is still to collect: the lower of two readings, so nothing is asked twice
    and nothing paid is forgotten.

    - Our ledger: the payable, less what our credit notes credit, less every payment
      that stands — ours and those registered in Teamleader by hand (mirrored here).
    - Teamleader's ``total.due`` (the payable when unknown), which counts the payments
      Teamleader holds: its own, and ours it held at the same read (``held``) — added
      back, so that all of ours are taken off once. It may also count credit notes we
      have not imported yet.

    Whether a *partial* credit note lowers Teamleader's due is unverified (reference §7
    [?]: the API blueprint says it does, the support centre says it does not); in both
    readings a document whose payments and credit notes cover it comes to zero.
    """
    ledger = payable - credited - paid_ours - paid_in_teamleader
    teamleader = (payable if teamleader_due is None else teamleader_due) + held - paid_ours
    return max(ZERO, min(ledger, teamleader))


def recompute_due(invoice: Invoice, credited: Decimal | None = None) -> Decimal:
    """Set and return what is still due on ``invoice`` (see ``still_due``)."""
    invoice.amount_due = still_due(
        invoice.payable if invoice.payable is not None else invoice.total_incl_vat,
        credited_total(invoice) if credited is None else credited,
        paid_here(invoice),
        paid_in_teamleader(invoice),
        invoice.teamleader_due,
        invoice.teamleader_sync.held if invoice.teamleader_sync is not None else ZERO,
    )
    return invoice.amount_due


def overpaid(invoice: Invoice, credited: Decimal | None = None) -> Decimal:
    """What the payments that stand (ours and those mirrored from Teamleader) exceed the
    payable less our credit notes by: money the customer may want back. ``amount_due``
    stops at zero; this is what lies beyond it. Zero for a credit note."""
    if invoice.kind != DocumentKind.INVOICE:
        return ZERO
    payable = invoice.payable if invoice.payable is not None else invoice.total_incl_vat
    credited = credited_total(invoice) if credited is None else credited
    owed = max(ZERO, payable - credited)
    return max(ZERO, paid_here(invoice) + paid_in_teamleader(invoice) - owed)
