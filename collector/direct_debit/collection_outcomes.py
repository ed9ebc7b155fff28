"""What the bank's answer does to a direct-debit collection and its document.

Three outcomes, each idempotent (the same answer twice changes nothing) and each in the
caller's transaction:

- ``settle``: the money came in — a bank payment on the document (PAID when nothing is
  left due), the collection SETTLED;
- ``reject``: refused before settlement (a pain.002 reject, a refusal) — no money moved,
  the document open again (PENDING → BOOKED/EXPIRED), the collection REJECTED and its
  mandate unused again if this was its first collection;
- ``return_``: taken back after settlement (a return, or a refund the debtor asked
  for) — the payment reversed (PAID → BOOKED/EXPIRED, Teamleader told), the collection
  RETURNED.

A reject or a return is then handled by its reason (``failed_debits``): retried, its
mandate ended, a note for the team, or back to collect.

A collection is settled or returned only by the amount and currency it was collected
for: money of another amount is a question for a person, never a payment (``mismatch``).

Ledger keys name the bank fact (``bank:collection:<e2e>``, ``bank:return:<e2e>``), so a
camt.054 and the camt.053 repeating it write one row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

from collector.core import metrics
from collector.core.columns import utcnow
from collector.direct_debit import debits, failed_debits, reason_codes
from collector.direct_debit.models import Collection, CollectionStatus
from collector.direct_debit.wording import N_, english, money_text
from collector.documents import amounts, ledger
from collector.documents.models import Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.runtime.wordings import Wordings, says

# The money was taken back after settlement.
REVERSED = (CollectionStatus.RETURNED,)
# No money moved for it (or it never left us): nothing to settle or return.
NEVER_SETTLED = (CollectionStatus.REJECTED, CollectionStatus.CANCELLED)


# Stored in English (a collection's reason), translated when shown (``REASONS``).
REJECTED_BY_BANK = N_("Rejected by the bank (%(reason)s)")
REVERSED_BY_BANK = {
    PaymentKind.REFUND: N_("Refunded (%(reason)s)"),
    PaymentKind.CHARGEBACK: N_("Charged back (%(reason)s)"),
    PaymentKind.RETURN: N_("Returned by the bank (%(reason)s)"),
}
RUN_CANCELLED = N_("Collection run #%(run)s cancelled: %(reason)s")
# The payment a settled collection is: its reason, stored in English.
COLLECTED = N_("Direct debit %(collection)s collected.")
REASONS = Wordings(
    REJECTED_BY_BANK,
    *REVERSED_BY_BANK.values(),
    RUN_CANCELLED,
    COLLECTED,
    values={"reason": reason_codes.shown_description},
)
MISMATCH_REFUSED = N_(
    "Collection %(collection)s was for %(expected)s, but the bank booked %(booked)s: "
    "nothing was changed."
)


class AmountMismatch(ValueError):
    """The bank booked another amount or currency than the collection was for."""


def mismatch(collection: Collection, amount: Decimal, currency: str) -> dict | None:
    """Why ``amount`` ``currency`` cannot settle or return ``collection``, as the values
    of a sentence (``collection``, ``expected``, ``booked``); None when it is exactly what
    was collected."""
    if amount == collection.amount and currency.upper() == collection.currency.upper():
        return None
    return {
        "collection": collection.end_to_end_id,
        "expected": money_text(collection.amount, collection.currency),
        "booked": money_text(amount, currency.upper()),
    }


def _refuse_mismatch(collection: Collection, amount: Decimal, currency: str) -> None:
    problem = mismatch(collection, amount, currency)
    if problem is not None:
        raise AmountMismatch(english(MISMATCH_REFUSED, **problem))


def booked_at(day: date) -> datetime:
    """A bank booking day as the moment the ledger records: noon UTC is the same day in
    every European time zone, and the day is what Teamleader is told."""
    return datetime.combine(day, time(12), UTC)


def collection_key(collection: Collection) -> str:
    return f"bank:collection:{collection.end_to_end_id}"


def return_key(collection: Collection) -> str:
    return f"bank:return:{collection.end_to_end_id}"


def settle(
    collection: Collection, amount: Decimal, booked_on: date, actor: str, currency: str = "EUR"
) -> Payment | None:
    """The bank credited ``collection``: record the payment; None when nothing changed
    (settled before, or rejected/cancelled, which no credit can be for). Raises
    AmountMismatch for any other amount or currency than was collected."""
    _refuse_mismatch(collection, amount, currency)
    invoice = _lock(collection)
    if collection.status != CollectionStatus.PENDING:
        return None
    key = collection_key(collection)
    payment = ledger.record_payment(
        invoice,
        key=key,
        amount=amount,
        occurred_at=booked_at(booked_on),
        source=PaymentSource.BANK,
        actor=actor,
        reference=collection.end_to_end_id,
        reason=says(COLLECTED, collection=collection.end_to_end_id),
    )
    payment = payment or amounts.by_key(key)
    collection.status = CollectionStatus.SETTLED
    metrics.count_on_commit(db.session, metrics.COLLECTIONS.labels(collection.status.value))
    collection.payment = payment
    collection.settled_at = booked_at(booked_on)
    debits.refresh_use(collection.mandate)
    return payment


def reject(collection: Collection, code: str | None, actor: str, today: date) -> bool:
    """The bank refused ``collection`` before settlement; False when nothing changed.

    A collection the statement already showed settled stays settled: the statement is
    the account's truth, and money that leaves again arrives as a return."""
    invoice = _lock(collection)
    if collection.status != CollectionStatus.PENDING:
        return False
    reason = says(REJECTED_BY_BANK, reason=reason_codes.described(code))
    _close(collection, CollectionStatus.REJECTED, code, reason.english)
    ended = says(ledger.ENDED, sentence=reason)
    ledger.collection_failed(invoice, ended, actor=actor, today=today)
    debits.refresh_use(collection.mandate)
    failed_debits.handle(collection, code, actor, today)
    return True


def return_(
    collection: Collection,
    code: str | None,
    amount: Decimal,
    booked_on: date,
    actor: str,
    today: date | None = None,
    currency: str = "EUR",
) -> bool:
    """The bank took back a settled ``collection`` (return or refund, by ``code``);
    False when nothing changed. A return for a collection never seen settled settled
    nothing here, so it is handled as a reject. Raises AmountMismatch for any other
    amount or currency than was collected (SEPA returns the original amount)."""
    _refuse_mismatch(collection, amount, currency)
    _lock(collection)
    if collection.status == CollectionStatus.PENDING:
        return reject(collection, code, actor, today or booked_on)
    if collection.status != CollectionStatus.SETTLED or collection.payment is None:
        return False
    kind = reason_codes.reversal_kind(code)
    ledger.record_reversal(
        collection.payment,
        key=return_key(collection),
        kind=kind,
        amount=amount,
        occurred_at=booked_at(booked_on),
        actor=actor,
        reason_code=code.upper() if code else None,
        reason=reason_codes.meaning(code),
        reference=collection.end_to_end_id,
    )
    reason = english(REVERSED_BY_BANK[kind], reason=reason_codes.describe(code))
    _close(collection, CollectionStatus.RETURNED, code, reason)
    debits.refresh_use(collection.mandate)
    failed_debits.handle(collection, code, actor, today or booked_on)
    return True


def _close(collection: Collection, status: CollectionStatus, code: str | None, reason: str):
    metrics.count_on_commit(db.session, metrics.COLLECTIONS.labels(status.value))
    collection.status = status
    collection.reason_code = code.upper()[:8] if code else None
    collection.reason = reason[:300]
    collection.updated_at = utcnow()


def _lock(collection: Collection) -> Invoice:
    """Lock the document, then read the collection afresh: two files answering the same
    collection at once are applied one after the other, the second seeing the first."""
    invoice = ledger.lock(collection.invoice_id)
    db.session.execute(
        sa.select(Collection)
        .where(Collection.id == collection.id)
        .execution_options(populate_existing=True)
    )
    return invoice
