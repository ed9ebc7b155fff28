"""Bank transactions after the upload: finding the document a reference names, and the
admin's hand on what found none — match it to a document, or dismiss it with a reason.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from stdnum.be import ogm_vcs

from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, required_reason
from collector.core.locking import for_update
from collector.direct_debit.collection_outcomes import booked_at
from collector.direct_debit.models import BankTransaction, BankTransactionStatus
from collector.documents import ledger, references
from collector.documents.models import DocumentKind, Invoice, Payment, PaymentSource
from collector.extensions import db

MAX_REASON = 300
MAX_ID = 2**31
_DECORATION = re.compile(r"[\s+*/]")


def by_reference(reference: str) -> Invoice | None:
    """The document a structured reference names: Teamleader's own reference on the
    document first, then the one we generated from its id."""
    compact = _DECORATION.sub("", reference or "").upper()
    if not compact:
        return None
    if not ogm_vcs.is_valid(compact):
        # Another scheme (an RF creditor reference): only the document's own can match.
        return _one(Invoice.payment_reference.in_({reference.strip(), compact}))
    shown = f"+++{ogm_vcs.format(compact)}+++"
    spellings = {compact, shown, ogm_vcs.format(compact), shown.replace("+", "*")}
    found = _one(Invoice.payment_reference.in_(spellings))
    if found is not None:
        return found
    invoice_id = references.invoice_id_from_reference(compact)
    # Ten digits hold more than an integer key: such an id is not one of ours.
    invoice = db.session.get(Invoice, invoice_id) if invoice_id and invoice_id < MAX_ID else None
    # Ours only if it is the reference the document shows (it has no valid Teamleader one).
    if invoice is not None and references.structured_reference(invoice) == shown:
        return invoice
    return None


def _one(condition) -> Invoice | None:
    found = db.session.scalars(sa.select(Invoice).where(condition).limit(2)).all()
    return found[0] if len(found) == 1 else None


# -- by hand ---------------------------------------------------------------------------------


def find_document(text: str) -> Invoice:
    """The invoice an admin names by its number or structured reference."""
    text = (text or "").strip()
    if not text:
        raise Invalid({"document": ["Give the invoice's number or structured reference."]})
    invoice = by_reference(text)
    if invoice is not None:
        return invoice
    numbered = db.session.scalars(
        sa.select(Invoice)
        .where(Invoice.number == text, Invoice.kind == DocumentKind.INVOICE)
        .limit(2)
    ).all()
    if len(numbered) > 1:
        raise Invalid(
            {"document": [f"Several invoices are numbered {text}: give its structured reference."]}
        )
    if not numbered:
        raise Invalid({"document": [f"No invoice is numbered or referenced {text}."]})
    return numbered[0]


def match(tx: BankTransaction, invoice: Invoice, actor: str) -> Payment:
    """An admin says an unmatched credit pays ``invoice``: record it as its payment."""
    _still_unmatched(tx)
    if invoice.kind != DocumentKind.INVOICE:
        raise Conflict(f"{invoice.number} is a credit note: it is never paid.")
    if invoice.currency != tx.currency:
        raise Conflict(f"{invoice.number} is in {invoice.currency}, this money in {tx.currency}.")
    ledger.lock(invoice.id)
    if invoice.state not in ledger.PAYABLE or invoice.amount_due <= 0:
        raise Conflict(
            f"{invoice.number} is {invoice.state.value}: nothing is due on it. If the money "
            "goes back to the payer, dismiss the transaction with that reason."
        )
    payment = ledger.record_payment(
        invoice,
        key=f"bank:{tx.key}",
        amount=tx.amount,
        occurred_at=booked_at(tx.booked_on or clock.local_date(tx.created_at)),
        source=PaymentSource.BANK,
        actor=actor,
        reference=tx.reference or tx.end_to_end_id or tx.bank_reference,
        reason="Bank transaction matched by hand.",
    )
    if payment is None:
        db.session.rollback()
        raise Conflict("This bank transaction was recorded as a payment already.")
    tx.status, tx.invoice_id, tx.payment_id = BankTransactionStatus.MATCHED, invoice.id, payment.id
    _resolved(tx, actor)
    db.session.commit()
    return payment


def dismiss(tx: BankTransaction, reason: str, actor: str) -> None:
    """An admin says an unmatched credit is not for a document here, and why."""
    reason = required_reason(reason, "Say why: it is kept with the transaction.")
    _still_unmatched(tx)
    tx.status, tx.note = BankTransactionStatus.DISMISSED, reason
    _resolved(tx, actor)
    db.session.commit()


def _still_unmatched(tx: BankTransaction) -> None:
    """Lock ``tx`` and read it afresh: two admins acting on it at once act one after the
    other, and the second is told what the first did."""
    db.session.execute(for_update(BankTransaction, BankTransaction.id == tx.id))
    if tx.status != BankTransactionStatus.UNMATCHED:
        raise Conflict(f"This transaction is {tx.status.value} already.")


def _resolved(tx: BankTransaction, actor: str) -> None:
    tx.resolved_by, tx.resolved_at = actor[:128], utcnow()


# -- lists ----------------------------------------------------------------------------------


def unmatched(limit: int = 500) -> list[BankTransaction]:
    """Money received that found no document, oldest first."""
    return list(
        db.session.scalars(
            sa.select(BankTransaction)
            .where(BankTransaction.status == BankTransactionStatus.UNMATCHED)
            .order_by(BankTransaction.booked_on, BankTransaction.id)
            .limit(limit)
        )
    )


def unmatched_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(BankTransaction.id)).where(
            BankTransaction.status == BankTransactionStatus.UNMATCHED
        )
    )
