"""One online payment for several documents (the customer portal's "pay the selected
invoices"), split over them when the provider says it is paid.

**The split rule.** The documents are taken in this order: the oldest due date first (a
document without a due date after those with one), then by number, then by id. When the
payment is paid, each document in turn receives what is still open on it at that moment,
up to what is left of the payment. Whatever is left once every document is paid in full
(one of them was settled another way meanwhile) is recorded on the first document, as
money paid beyond what was due: the team refunds it or keeps it (``overpayments``).

Each share is its own ledger payment, keyed by the provider's payment and the document's
position (``share_key``: the first document's key is the one a single-document payment
has), so a repeated webhook writes nothing and each document's payment reaches
Teamleader once, through the same outbox as any payment (``ledger`` → ``payments_changed``).

A refund or chargeback of such a payment is taken back from the shares in the reverse
order (the last document first), each up to what still stands of its share.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.core.money import ZERO
from collector.documents import amounts, ledger, timeline
from collector.documents.models import Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.payments import wording
from collector.payments.models import OnlinePayment
from collector.runtime.wordings import money_value, says

# The latest due date: documents without one sort after every dated one.
NO_DUE_DATE = date.max


def order_key(invoice: Invoice) -> tuple:
    """Where ``invoice`` stands in the split's order."""
    return (invoice.due_date or NO_DUE_DATE, invoice.number, invoice.id)


def in_order(invoices: Iterable[Invoice]) -> list[Invoice]:
    """``invoices`` in the split's order."""
    return sorted(invoices, key=order_key)


def shares(total: Decimal, open_amounts: list[Decimal]) -> list[Decimal]:
    """``total`` split over documents open for ``open_amounts`` (in the split's order):
    each up to its open amount, what is left on the first."""
    left, split = total, []
    for open_amount in open_amounts:
        share = min(left, max(open_amount, ZERO))
        split.append(share)
        left -= share
    if split and left > ZERO:
        split[0] += left
    return split


def share_key(provider_id: str, position: int) -> str:
    """The ledger key of the share of document ``position``: the first one's is a
    single-document payment's, so what looks a payment up by it finds the first share."""
    base = f"provider:{provider_id}"
    return base if position == 0 else f"{base}/{position}"


def keys_of(provider_id: str) -> sa.ColumnElement[bool]:
    """The ledger rows of every share of the payment."""
    base = f"provider:{provider_id}"
    return (Payment.key == base) | Payment.key.like(f"{base}/%")


def lock_documents(online: OnlinePayment) -> Invoice | None:
    """Lock every document the payment pays, in id order (as every multi-document lock
    here is taken, so two payments never wait on each other); return the first one."""
    ids = sorted({part.invoice_id for part in online.documents} | {online.invoice_id})
    locked = {invoice_id: ledger.lock(invoice_id) for invoice_id in ids}
    return locked[online.invoice_id]


def record_paid(online: OnlinePayment, record: dict) -> None:
    """Record the paid ``record`` as one payment per document, split by the rule; the
    caller holds the documents' locks (``lock_documents``)."""
    if amounts.by_key(share_key(online.provider_id, 0)) is not None or _any_share(online):
        return _reversals(online, record)  # recorded before: only reversals can be new
    parts = list(online.documents)
    split = shares(record["amount"], [part.invoice.amount_due for part in parts])
    for part, share in zip(parts, split, strict=True):
        if share <= ZERO:
            continue
        ledger.record_payment(
            part.invoice,
            key=share_key(online.provider_id, part.position),
            amount=share,
            occurred_at=record["paid_at"],
            source=PaymentSource.PROVIDER,
            actor="provider",
            reference=online.provider_id,
        )
    return _reversals(online, record)


def _any_share(online: OnlinePayment) -> bool:
    query = sa.select(Payment.id).where(keys_of(online.provider_id)).limit(1)
    return db.session.scalar(query) is not None


def _standing_shares(online: OnlinePayment) -> list[Payment]:
    """The payment's shares in the ledger, the last document first."""
    rows = db.session.scalars(
        sa.select(Payment).where(keys_of(online.provider_id), Payment.kind == PaymentKind.PAYMENT)
    ).all()
    position = {share_key(online.provider_id, p.position): p.position for p in online.documents}
    return sorted(rows, key=lambda row: position.get(row.key, 0), reverse=True)


def _reversals(online: OnlinePayment, record: dict) -> None:
    for refund in record.get("refunds") or []:
        _reverse(
            online,
            refund,
            PaymentKind.REFUND,
            stands=refund.get("status") in ("queued", "pending", "processing", "refunded"),
            reason=wording.REFUNDED,
        )
    for chargeback in record.get("chargebacks") or []:
        _reverse(
            online,
            chargeback,
            PaymentKind.CHARGEBACK,
            stands=chargeback.get("reversed_at") is None,
            reason=chargeback.get("reason_description") or wording.CHARGED_BACK,
            code=chargeback.get("reason_code"),
        )


def _reverse(online, item: dict, kind: PaymentKind, *, stands: bool, reason, code=None) -> None:
    """Take ``item`` (a refund or chargeback) back from the shares, the last first; or,
    when it no longer stands, cancel what was taken."""
    base = f"provider:{item['id']}"
    taken = db.session.scalars(
        sa.select(Payment).where((Payment.key == base) | Payment.key.like(f"{base}/%"))
    ).all()
    if taken:
        if not stands:
            for row in taken:
                ledger.cancel_entry(row, says(wording.UNDONE[kind]), actor="provider")
        return
    if not stands:
        return
    left = item["amount"]
    for payment in _standing_shares(online):
        take = min(left, amounts.net(payment))
        if take <= ZERO:
            continue
        ledger.record_reversal(
            payment,
            key=f"{base}/{payment.id}",
            kind=kind,
            amount=take,
            occurred_at=item.get("created_at") or utcnow(),
            actor="provider",
            reason_code=code,
            reason=reason,
            reference=item["id"],
        )
        left -= take
        if left <= ZERO:
            break


def tell_ended(online: OnlinePayment, invoice: Invoice, status: str) -> None:
    """Tell the timeline of every document the payment was for (``invoice`` when it was
    for one) that it failed, was cancelled or expired."""
    documents = [part.invoice for part in online.documents] or [invoice]
    text = says(wording.ENDED[status], online=online.provider_id)
    for document in documents:
        timeline.record(
            document,
            timeline.ONLINE_PAYMENT,
            text,
            actor="provider",
            provider_id=online.provider_id,
        )


def started_text(online: OnlinePayment):
    """What each document's timeline says when a payment of several starts."""
    return says(
        wording.STARTED,
        online=online.provider_id,
        amount=money_value(online.amount, online.currency),
    )
