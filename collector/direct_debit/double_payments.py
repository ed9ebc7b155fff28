"""A transfer naming a document that is paid already: a possible double payment.

It is never recorded as a payment on its own. ``flag`` keeps it for a person (the bank
transaction ``double_payment``, an event on the document); the person then either sends
it back (``refund``: the intent and its reason are recorded, the money goes out by the
company's bank) or keeps it as a credit for the customer (``keep``: the money becomes a
payment on the document, which the ledger sees as an overpayment, kept at once with the
reason — ``documents.overpayments`` — so the customer's balance and statement show the
credit). Each decision is an event on the document and an audit row.
"""

from __future__ import annotations

from flask_babel import gettext as _

from collector.accounts import audit
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, required_reason
from collector.core.locking import for_update
from collector.direct_debit import bank_notes as notes
from collector.direct_debit import bank_transactions
from collector.direct_debit.collection_outcomes import booked_at
from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.camt import CamtTransaction
from collector.direct_debit.models import BankTransaction, BankTransactionStatus
from collector.direct_debit.wording import N_, english
from collector.documents import ledger, overpayments, timeline
from collector.documents.models import DocumentKind, Invoice, InvoiceState, PaymentSource
from collector.extensions import db
from collector.runtime.wordings import Sentence, money_value, says, word

FLAGGED = N_(
    "A transfer of %(amount)s from %(sender)s names this document, which is paid already: "
    "a possible double payment, waiting for a person to refund it or keep it as a credit."
)
REFUNDED = N_(
    "Possible double payment of %(amount)s from %(sender)s: to be refunded to the payer "
    "(%(reason)s)."
)
KEPT = N_(
    "Possible double payment of %(amount)s from %(sender)s: kept as a credit for the "
    "customer (%(reason)s)."
)
KEPT_PAYMENT = N_("Bank transfer from %(sender)s kept as a credit (a double payment).")
UNKNOWN_SENDER = N_("an unknown sender")
SENTENCES = (FLAGGED, REFUNDED, KEPT, KEPT_PAYMENT)


def paid_document(tx: CamtTransaction) -> Invoice | None:
    """The invoice a transfer's valid structured reference names when that invoice is
    paid already (of several carrying the reference, only when none is still open)."""
    for reference in parser.references(tx):
        invoice = bank_transactions.by_reference(reference)
        if invoice is not None:
            paid = invoice.kind == DocumentKind.INVOICE and invoice.state == InvoiceState.PAID
            return invoice if paid and invoice.currency == tx.currency else None
    return None


def flag(row: BankTransaction, invoice: Invoice, actor: str) -> None:
    """Keep the transaction ``row`` for a person as a possible double payment of
    ``invoice``; in the caller's transaction."""
    row.status = BankTransactionStatus.DOUBLE_PAYMENT
    row.invoice_id = invoice.id
    row.note = english(notes.DOUBLE_PAYMENT, number=invoice.number)[:300]
    timeline.record(invoice, timeline.DOUBLE_PAYMENT, says(FLAGGED, **_told(row)), actor=actor)


def refund(tx: BankTransaction, reason: str, actor: str) -> None:
    """A person sends a double payment back to the payer: recorded with the reason (the
    transfer itself goes out by the company's bank). Commits."""
    reason = required_reason(reason, _("Say how it is refunded: it is kept with the document."))
    invoice = _waiting(tx)
    tx.status, tx.note = BankTransactionStatus.REFUNDED, reason
    _resolved(tx, invoice, says(REFUNDED, **_told(tx), reason=reason), actor, "refunded")


def keep(tx: BankTransaction, reason: str, actor: str) -> None:
    """A person keeps a double payment as a credit for the customer: a payment on the
    document whose overpayment is kept with the reason. Commits."""
    reason = required_reason(reason, _("Say why it is kept: it is kept with the document."))
    invoice = _waiting(tx)
    ledger.lock(invoice.id)
    payment = ledger.record_payment(
        invoice,
        key=f"bank:{tx.key}",
        amount=tx.amount,
        occurred_at=booked_at(tx.booked_on or clock.local_date(tx.created_at)),
        source=PaymentSource.BANK,
        actor=actor,
        reference=tx.reference or tx.bank_reference,
        reason=says(KEPT_PAYMENT, sender=_sender(tx)),
    )
    if payment is None:
        db.session.rollback()
        raise Conflict(_("This bank transaction was recorded as a payment already."))
    if overpayments.open_for(invoice) is not None:
        overpayments.keep(invoice, reason, actor=actor)
    tx.status, tx.payment_id, tx.note = BankTransactionStatus.KEPT, payment.id, reason
    _resolved(tx, invoice, says(KEPT, **_told(tx), reason=reason), actor, "kept")


def waiting(limit: int = 200) -> list[BankTransaction]:
    """Possible double payments waiting for a person, oldest first."""
    return list(
        db.session.scalars(
            db.select(BankTransaction)
            .where(BankTransaction.status == BankTransactionStatus.DOUBLE_PAYMENT)
            .order_by(BankTransaction.booked_on, BankTransaction.id)
            .limit(limit)
        )
    )


def _waiting(tx: BankTransaction) -> Invoice:
    """Lock ``tx`` and read it afresh: a double payment decided meanwhile is refused."""
    db.session.execute(for_update(BankTransaction, BankTransaction.id == tx.id))
    db.session.refresh(tx)
    if tx.status != BankTransactionStatus.DOUBLE_PAYMENT or tx.invoice is None:
        db.session.rollback()
        raise Conflict(_("This transaction was decided already."))
    return tx.invoice


def _resolved(tx: BankTransaction, invoice: Invoice, said: Sentence, actor: str, how: str):
    tx.resolved_by, tx.resolved_at = actor[:128], utcnow()
    timeline.record(invoice, timeline.DOUBLE_PAYMENT, said, actor=actor, decision=how)
    audit.record(
        f"bank_transaction.double_payment_{how}",
        target=f"bank_transaction:{tx.id}",
        details={"invoice": invoice.number, "amount": str(tx.amount), "reason": tx.note},
    )
    db.session.commit()


def _told(tx: BankTransaction) -> dict:
    return {"amount": money_value(tx.amount, tx.currency), "sender": _sender(tx)}


def _sender(tx: BankTransaction):
    return tx.counterparty_name or tx.counterparty_iban or word(UNKNOWN_SENDER)
