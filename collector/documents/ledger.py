"""The one state machine of a document, and its payment ledger.

Every state change goes through ``transition``: it records the event and owes the
status callbacks in the same transaction. Money goes through the ledger verbs
(``record_payment``, ``record_reversal``, ``cancel_entry``): each writes one ``Payment``
row keyed by the outside fact it stands for (so a repeated webhook writes nothing),
recomputes what is due and settles the state from it:

- ``BOOKED``/``EXPIRED``/``PENDING`` → ``PAID`` when nothing is left due;
- ``PAID`` → ``BOOKED``, or ``EXPIRED`` past the due date, when a refund, chargeback or
  return takes money back — with the reason;
- ``BOOKED`` → ``EXPIRED`` when the due date passes (``expire_overdue``, daily);
- ``BOOKED``/``EXPIRED`` → ``PENDING`` when a collection starts, and back when it fails;
- ``mark_paid`` and ``archive`` by an admin, with a reason.

A change to our payments is announced (``signals.payments_changed``) in the same
transaction, so the domains that follow them — Teamleader's sync — owe their work in the
commit that records it. What the payments add up to is read in ``amounts``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from collector.core import clock, metrics
from collector.core.columns import utcnow
from collector.core.errors import Conflict, required_reason
from collector.core.locking import for_update
from collector.core.money import ZERO
from collector.documents import callbacks, ledger_rows, overpayments, signals, timeline
from collector.documents.amounts import credited_total, net, overpaid, recompute_due
from collector.documents.models import (
    DocumentKind,
    Invoice,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.runtime.wordings import N_, Sentence, date_value, english_of, money_value, says, word

OPEN = (InvoiceState.BOOKED, InvoiceState.EXPIRED)
PAYABLE = (InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PENDING)
SOURCE_LABELS = {
    PaymentSource.PROVIDER: N_("online"),
    PaymentSource.TEAMLEADER: N_("in Teamleader"),
    PaymentSource.MANUAL: N_("marked as paid"),
    PaymentSource.BANK: N_("bank"),
    PaymentSource.EXACT: N_("in Exact Online"),
}
REVERSAL_LABELS = {
    PaymentKind.REFUND: N_("Refunded"),
    PaymentKind.CHARGEBACK: N_("Charged back"),
    PaymentKind.RETURN: N_("Returned by the bank"),
}

# What the ledger writes on the timeline; ``SENTENCES`` lists those a stored text is
# recognised by (``WITH_CODE`` and ``WITH_REASON`` would match nearly any text).
RECEIVED = N_("Payment of %(amount)s received (%(source)s).")
RECEIVED_BECAUSE = N_("Payment of %(amount)s received (%(source)s). %(reason)s")
PAID = N_("Paid (%(source)s).")
REVERSED = N_("%(because)s: %(amount)s of the payment of %(payment)s.")
WITH_CODE = N_("%(what)s (%(code)s)")
WITH_REASON = N_("%(what)s: %(reason)s")
CANCELLED = N_("%(reason)s (%(amount)s).")
ENDED = N_("%(sentence)s.")  # a reason, said as a sentence of its own
DUE_DATE_PASSED = N_("Due date %(day)s passed.")
ARCHIVED = N_("Archived: %(reason)s")
SENTENCES = (
    RECEIVED_BECAUSE,
    RECEIVED,
    PAID,
    REVERSED,
    CANCELLED,
    DUE_DATE_PASSED,
    ARCHIVED,
    *SOURCE_LABELS.values(),
    *REVERSAL_LABELS.values(),
)


# -- reading -----------------------------------------------------------------------------


def lock(invoice_id: int) -> Invoice | None:
    """The document, locked for this transaction (PostgreSQL), so concurrent payments on
    it are applied one after the other; read with its Teamleader sync row (not locked)."""
    query = for_update(Invoice, Invoice.id == invoice_id).with_for_update(of=Invoice)
    sync = sa.orm.joinedload(Invoice.teamleader_sync)
    return db.session.scalars(query.options(sync)).unique().one_or_none()


def open_state(invoice: Invoice, today: date) -> InvoiceState:
    """Where an unpaid document stands: EXPIRED past its due date, else BOOKED."""
    if invoice.due_date is not None and invoice.due_date < today:
        return InvoiceState.EXPIRED
    return InvoiceState.BOOKED


# -- the state machine --------------------------------------------------------------------


def transition(
    invoice: Invoice, state: InvoiceState, reason: str | Sentence, *, actor: str, **details
) -> bool:
    """Move ``invoice`` to ``state``, recorded as an event and owed to the status
    callbacks; False when it was in that state already."""
    if invoice.state == state:
        return False
    previous = invoice.state
    invoice.state = state
    invoice.state_changed_at = utcnow()
    timeline.record(
        invoice,
        timeline.STATE_CHANGED,
        reason,
        actor=actor,
        state=state.value,
        previous=previous.value,
        **details,
    )
    callbacks.queue_state_change(
        invoice,
        previous=previous.value,
        state=state.value,
        reason=english_of(reason),
        actor=actor,
        occurred_at=invoice.state_changed_at,
    )
    return True


def settle(
    invoice: Invoice,
    reason: str | Sentence,
    *,
    actor: str,
    today: date | None = None,
    credited: Decimal | None = None,
) -> None:
    """Recompute what is due and move the state to match: PAID when nothing is left,
    back to open when a PAID document is owed money again. ``credited``: what its credit
    notes credit, when the caller read it."""
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        recompute_due(invoice)
        return
    if credited is None:
        credited = credited_total(invoice)  # one query for both readings below
    # The overpayment first: the due and the state set after its read are one UPDATE.
    # A ledger empty until now has no overpayment rows to read.
    rows = [] if invoice.ledger_empty else None
    overpayments.track(invoice, overpaid(invoice, credited), actor=actor, rows=rows)
    invoice.ledger_empty = False
    recompute_due(invoice, credited)
    if invoice.state == InvoiceState.ARCHIVED:
        return
    if invoice.amount_due <= ZERO:
        transition(invoice, InvoiceState.PAID, reason, actor=actor)
    elif invoice.state == InvoiceState.PAID:
        transition(invoice, open_state(invoice, today or clock.local_today()), reason, actor=actor)


def expire_overdue(today: date, batch: int = 500) -> int:
    """BOOKED documents past their due date become EXPIRED; returns how many."""
    count = 0
    while True:
        ids = db.session.scalars(
            sa.select(Invoice.id)
            .where(Invoice.state == InvoiceState.BOOKED, Invoice.due_date < today)
            .order_by(Invoice.id)
            .limit(batch)
        ).all()
        for invoice_id in ids:
            invoice = lock(invoice_id)
            if invoice is not None and invoice.state == InvoiceState.BOOKED:
                count += transition(
                    invoice,
                    InvoiceState.EXPIRED,
                    says(DUE_DATE_PASSED, day=date_value(invoice.due_date)),
                    actor="system",
                )
        db.session.commit()
        if len(ids) < batch:
            return count


def start_collection(invoice: Invoice, reason: str | Sentence, *, actor: str) -> None:
    """A direct debit is under way: PENDING until the bank says how it went."""
    if invoice.state not in OPEN:
        raise Conflict(f"{invoice.number} is {invoice.state.value}: it cannot be collected.")
    transition(invoice, InvoiceState.PENDING, reason, actor=actor)


def collection_failed(invoice: Invoice, reason: str | Sentence, *, actor: str, today: date) -> None:
    """The bank refused or rejected a collection before it settled: open again."""
    if invoice.state == InvoiceState.PENDING:
        transition(invoice, open_state(invoice, today), reason, actor=actor)


def archive(invoice: Invoice, reason: str, *, actor: str) -> None:
    """Close a document without (further) payment, with the admin's reason."""
    reason = required_reason(reason, "Give a reason: it is kept on the document's history.")
    if invoice.state == InvoiceState.ARCHIVED:
        raise Conflict(f"{invoice.number} is archived already.")
    transition(invoice, InvoiceState.ARCHIVED, says(ARCHIVED, reason=reason), actor=actor)


def mark_paid(invoice: Invoice, reason: str, *, actor: str, paid_at: datetime | None = None):
    """An admin says the rest was paid (cash, a transfer we cannot see): a manual payment
    of what is due, which also goes to Teamleader."""
    reason = required_reason(reason, "Give a reason: it is kept on the document's history.")
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        raise Conflict("A credit note is not paid: it is offset against its invoice.")
    if invoice.state not in PAYABLE or invoice.amount_due <= ZERO:
        raise Conflict(f"{invoice.number} is {invoice.state.value}: nothing to mark as paid.")
    return record_payment(
        invoice,
        key=f"manual:{uuid.uuid4()}",
        amount=invoice.amount_due,
        occurred_at=paid_at or utcnow(),
        source=PaymentSource.MANUAL,
        actor=actor,
        reason=reason,
    )


# -- the ledger ----------------------------------------------------------------------------


def record_payment(
    invoice: Invoice,
    *,
    key: str,
    amount: Decimal,
    occurred_at: datetime,
    source: PaymentSource,
    actor: str,
    reference: str | None = None,
    reason: str | Sentence | None = None,
) -> Payment | None:
    """Money received; None when ``key`` was recorded before (a repeated webhook). The
    reason is stored in English on the payment, and told on the timeline."""
    if not isinstance(amount, Decimal) or amount <= ZERO:
        raise ValueError(f"a payment is a positive Decimal, not {amount!r}")
    payment = Payment(
        key=key,
        source=source,
        kind=PaymentKind.PAYMENT,
        amount=amount,
        currency=invoice.currency,
        occurred_at=occurred_at,
        reference=reference,
        reason=english_of(reason) if reason else None,
        actor=actor,
    )
    label = word(SOURCE_LABELS[source])
    told = {"amount": money_value(amount, invoice.currency), "source": label}
    text = says(RECEIVED_BECAUSE, **told, reason=reason) if reason else says(RECEIVED, **told)
    entered = _enter(
        payment,
        invoice,
        timeline.PAYMENT_RECEIVED,
        text,
        says(PAID, source=label),
        source=source.value,
        amount=str(amount),
    )
    if entered is not None:
        metrics.count_on_commit(db.session, metrics.PAYMENTS.labels(source.value))
    return entered


def record_reversal(
    payment: Payment,
    *,
    key: str,
    kind: PaymentKind,
    amount: Decimal,
    occurred_at: datetime,
    actor: str,
    reason_code: str | None = None,
    reason: str | None = None,
    reference: str | None = None,
) -> Payment | None:
    """Money taken back from ``payment`` (refund, chargeback, return); None when ``key``
    was recorded before. Never takes back more than still stands of the payment."""
    if kind == PaymentKind.PAYMENT or amount <= ZERO:
        raise ValueError("a reversal is a refund, chargeback or return of a positive amount")
    invoice = payment.invoice
    amount = min(amount, net(payment))
    row = Payment(
        key=key,
        source=payment.source,
        kind=kind,
        amount=-amount,
        currency=payment.currency,
        occurred_at=occurred_at,
        reverses=payment,
        reason_code=reason_code,
        reason=reason,
        reference=reference,
        actor=actor,
    )
    because = _because(kind, reason_code, reason)
    return _enter(
        row,
        invoice,
        timeline.PAYMENT_REVERSED,
        says(
            REVERSED,
            because=because,
            amount=money_value(amount, invoice.currency),
            payment=money_value(payment.amount, invoice.currency),
        ),
        says(ENDED, sentence=because),
        reversal=kind.value,
        reason_code=reason_code,
        amount=str(amount),
    )


def cancel_entry(entry: Payment, reason: str | Sentence, *, actor: str) -> bool:
    """A ledger row stops counting (a chargeback reversed, a payment removed in
    Teamleader); False when it did not count already."""
    if not entry.counts:
        return False
    entry.cancelled_at = utcnow()
    entry.cancel_reason = english_of(reason)[:500]
    invoice = entry.invoice
    timeline.record(
        invoice,
        timeline.PAYMENT_CANCELLED,
        says(CANCELLED, reason=reason, amount=money_value(abs(entry.amount), entry.currency)),
        actor=actor,
        payment_id=entry.id,
    )
    settle(invoice, says(ENDED, sentence=reason), actor=actor)
    _announce(invoice, entry)
    return True


def restore_entry(entry: Payment, reason: str | Sentence, *, actor: str) -> bool:
    """A cancelled row counts again (a payment put back in Teamleader)."""
    if entry.counts:
        return False
    entry.cancelled_at = None
    entry.cancel_reason = None
    timeline.record(
        entry.invoice, timeline.PAYMENT_RECEIVED, reason, actor=actor, payment_id=entry.id
    )
    settle(entry.invoice, reason, actor=actor)
    _announce(entry.invoice, entry)
    return True


def _because(kind: PaymentKind, code: str | None, reason: str | None) -> Sentence | dict:
    """Why money was taken back: "Returned by the bank (AM04): insufficient funds"."""
    what = word(REVERSAL_LABELS[kind])
    if code:
        what = says(WITH_CODE, what=what, code=code)
    return says(WITH_REASON, what=what, reason=word(reason)) if reason else what


def _enter(
    row: Payment,
    invoice: Invoice,
    event: str,
    text: Sentence,
    because: Sentence,
    **details,
) -> Payment | None:
    """Add ``row`` to ``invoice``'s ledger, unless its key was recorded before (then None),
    and follow it up: the ``event`` on the timeline, the state settled ``because`` of it,
    the change announced. A reversal is told as a change to the payment it takes from."""
    row = ledger_rows.write(row, invoice)
    if row is None:
        return None
    payment = row.reverses or row
    if row.reverses is not None:
        details = {"reversal_id": row.id, **details}
    # Read before the event is added: it is then written with the state's, one INSERT.
    credited = credited_total(invoice) if invoice.kind == DocumentKind.INVOICE else None
    timeline.record(invoice, event, text, actor=row.actor, payment_id=payment.id, **details)
    settle(invoice, because, actor=row.actor, credited=credited)
    _announce(invoice, payment)
    return row


def _announce(invoice: Invoice, entry: Payment) -> None:
    """Tell the domains that follow our payments (Teamleader's sync) in this transaction."""
    signals.send(signals.payments_changed, invoice, entry=entry)
