"""Payment status read back from Exact Online (an optional setting).

Exact has no "paid" flag; a sales entry's receivables say it (reference §8): when every
receivable of a forwarded entry is fully paid, the document is paid here too — source
"Exact" — and the outbox carries that to Teamleader like any other payment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from collector.core.columns import utcnow
from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice, PaymentSource
from collector.exact import ExactClient
from collector.exact.models import BookingStatus, ExactBooking, ExactConnection
from collector.extensions import db

ACTOR = "Exact Online"


def read_payments(
    connection: ExactConnection,
    exact: ExactClient,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Mark paid every open forwarded invoice whose receivables Exact reports fully paid."""
    bookings = list(
        db.session.scalars(
            db.select(ExactBooking)
            .join(Invoice, Invoice.id == ExactBooking.invoice_id)
            .where(
                ExactBooking.status == BookingStatus.BOOKED,
                ExactBooking.division == connection.division,
                ExactBooking.entry_id.is_not(None),
                Invoice.kind == DocumentKind.INVOICE,
                Invoice.state.in_(ledger.OPEN),
                Invoice.amount_due > 0,
            )
            .order_by(ExactBooking.id)
        )
    )
    if not bookings:
        return 0
    terms: dict[str, list[dict]] = defaultdict(list)
    for receivable in exact.receivables([b.entry_id for b in bookings]):
        terms[str(receivable.get("TransactionEntryID") or "").lower()].append(receivable)
    paid = 0
    for booking in bookings:
        found = terms.get(booking.entry_id.lower())
        # A split receivable has several records: paid only when every one is.
        if found and all(r.get("IsFullyPaid") for r in found):
            paid += _record(booking, found, clock)
    db.session.commit()
    return paid


def _record(booking: ExactBooking, receivables: list[dict], clock) -> int:
    invoice = booking.invoice
    paid_on = max(
        (r.get("LastPaymentDate") for r in receivables if r.get("LastPaymentDate")), default=None
    )
    payment = ledger.record_payment(
        invoice,
        key=f"exact:{booking.entry_id}:{invoice.amount_due}",
        amount=invoice.amount_due,
        occurred_at=paid_on or clock(),
        source=PaymentSource.EXACT,
        actor=ACTOR,
        reference=str(booking.entry_number or booking.entry_id),
    )
    booking.paid_in_exact_at = clock()
    return 1 if payment is not None else 0
