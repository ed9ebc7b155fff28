"""Bank transactions: finding the document a received transfer pays by its reference, and
the admin's hand on what found none — match it to a document, or dismiss it with a reason.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _
from stdnum import iso11649
from stdnum.be import ogm_vcs

from collector.accounts import audit
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, required_reason
from collector.core.locking import for_update
from collector.direct_debit import bank_notes as notes
from collector.direct_debit import reason_codes
from collector.direct_debit.collection_outcomes import booked_at
from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.camt import CamtEntry, CamtTransaction
from collector.direct_debit.models import (
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
)
from collector.direct_debit.wording import N_, english, money_text, state_word
from collector.documents import ledger, references
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Payment, PaymentSource
from collector.extensions import db
from collector.runtime.wordings import says

MAX_REASON = 300
# The reasons of the payments bank transfers are, stored in English.
TRANSFER_FROM = N_("Bank transfer from %(sender)s.")
UNKNOWN_SENDER = N_("unknown")
MATCHED_BY_HAND = N_("Bank transaction matched by hand.")
PAYMENT_REASONS = (TRANSFER_FROM, MATCHED_BY_HAND)
MAX_ID = 2**31
_DECORATION = re.compile(r"[\s+*/]")
# The two schemes whose check digits we can verify: a Belgian structured communication
# (12 digits, the last two a modulo-97 check) and an ISO 11649 creditor reference.
_OGM_SHAPE = re.compile(r"\d{12}")
_RF_SHAPE = re.compile(r"RF\d{2}[0-9A-Z]{1,21}")
# Bank transaction codes (Domain/Family) of transfers we issued: a credit under them is
# one of ours coming back (ISO external code list: ICDT issued credit transfers).
ISSUED_TRANSFERS = "PMNT/ICDT/"
# Bank transactions that take money back: they can never pay a document.
_OUTGOING = (BankTransactionKind.RETURN, BankTransactionKind.REJECT)


def valid_reference(reference: str | None) -> bool:
    """False for no reference, and for a Belgian structured communication or an RF
    creditor reference whose check digits are wrong (a typo names another document).
    References of other schemes cannot be checked and are taken as written."""
    compact = _DECORATION.sub("", reference or "").upper()
    if not compact:
        return False
    if _OGM_SHAPE.fullmatch(compact):
        return ogm_vcs.is_valid(compact)
    if _RF_SHAPE.fullmatch(compact):
        return iso11649.is_valid(compact)
    return True


def by_reference(reference: str) -> Invoice | None:
    """The document a valid structured reference names: Teamleader's own reference on
    the document first (the oldest open one when several carry it), then the one we
    generated from its id."""
    if not valid_reference(reference):
        return None
    compact = _DECORATION.sub("", reference).upper()
    if not _OGM_SHAPE.fullmatch(compact):
        # Another scheme (an RF creditor reference): only the document's own can match.
        spellings = {reference.strip(), compact}
        if _RF_SHAPE.fullmatch(compact):
            spellings.add(iso11649.format(compact))
        return _oldest(Invoice.payment_reference.in_(spellings))
    shown = f"+++{ogm_vcs.format(compact)}+++"
    spellings = {compact, shown, ogm_vcs.format(compact), shown.replace("+", "*")}
    found = _oldest(Invoice.payment_reference.in_(spellings))
    if found is not None:
        return found
    invoice_id = references.invoice_id_from_reference(compact)
    # Ten digits hold more than an integer key: such an id is not one of ours.
    invoice = db.session.get(Invoice, invoice_id) if invoice_id and invoice_id < MAX_ID else None
    # Ours only if it is the reference the document shows (it has no valid Teamleader one).
    if invoice is not None and references.structured_reference(invoice) == shown:
        return invoice
    return None


def document_for(tx: CamtTransaction) -> tuple[Invoice | None, str | None]:
    """The document a received transfer pays (locked), or why none is taken
    automatically: a person should look at money for a document that is paid, being
    collected, or owes less."""
    given = parser.references(tx)
    candidates = [reference for reference in given if valid_reference(reference)]
    if given and not candidates:
        return None, english(notes.BAD_CHECK_DIGITS, reference=given[0])
    if not candidates:
        return None, english(notes.NO_REFERENCE)
    found = next(filter(None, map(by_reference, candidates)), None)
    if found is None:
        return None, english(notes.UNKNOWN_REFERENCE, reference=candidates[0])
    # Locked before it is judged: a payment arriving meanwhile is seen, not doubled.
    invoice = ledger.lock(found.id)
    number = invoice.number
    if invoice.kind != DocumentKind.INVOICE:
        return None, english(notes.CREDIT_NOTE, number=number)
    if invoice.state == InvoiceState.PENDING:
        return None, english(notes.BEING_COLLECTED, number=number)
    if invoice.state not in ledger.OPEN or invoice.amount_due <= 0:
        return None, english(notes.CLOSED, number=number, state=invoice.state.value)
    if tx.currency != invoice.currency:
        return None, english(
            notes.OTHER_CURRENCY, number=number, currency=invoice.currency, received=tx.currency
        )
    if tx.amount > invoice.amount_due:
        amount = money_text(tx.amount, tx.currency)
        due = money_text(invoice.amount_due, invoice.currency)
        return None, english(notes.MORE_THAN_DUE, amount=amount, due=due, number=number)
    return invoice, None


def sent_back(entry: CamtEntry, tx: CamtTransaction) -> bool:
    """Whether a credit gives back a transfer we sent (a refund to a closed account...)."""
    return bool(tx.return_reason) or (entry.bank_code or "").startswith(ISSUED_TRANSFERS)


def returned_note(tx: CamtTransaction) -> str:
    """What a person is told about a transfer of ours that came back."""
    return english(notes.CAME_BACK, reason=reason_codes.describe(tx.return_reason))


def _oldest(condition) -> Invoice | None:
    """Of the documents meeting ``condition``, the oldest still open; else the oldest.

    Teamleader may give several documents one reference (a re-issued invoice, a
    reference reused by hand): paying the oldest open one is what the payer most likely
    meant, and a closed one found instead tells a person why nothing was paid."""
    still_open = sa.and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_(ledger.OPEN),
        Invoice.amount_due > 0,
    )
    return db.session.scalars(
        sa.select(Invoice)
        .where(condition)
        .order_by(sa.case((still_open, 0), else_=1), Invoice.invoice_date, Invoice.id)
        .limit(1)
    ).first()


# -- by hand ---------------------------------------------------------------------------------


def find_document(text: str) -> Invoice:
    """The invoice an admin names by its number or structured reference."""
    text = (text or "").strip()
    if not text:
        raise Invalid({"document": [_("Give the invoice's number or structured reference.")]})
    invoice = by_reference(text)
    if invoice is not None:
        return invoice
    numbered = db.session.scalars(
        sa.select(Invoice)
        .where(Invoice.number == text, Invoice.kind == DocumentKind.INVOICE)
        .limit(2)
    ).all()
    if len(numbered) > 1:
        several = _(
            "Several invoices are numbered %(number)s: give its structured reference.", number=text
        )
        raise Invalid({"document": [several]})
    if not numbered:
        unknown = _("No invoice is numbered or referenced %(text)s.", text=text)
        raise Invalid({"document": [unknown]})
    return numbered[0]


def match(tx: BankTransaction, invoice: Invoice, actor: str) -> Payment:
    """An admin says an unmatched credit pays ``invoice``: record it as its payment."""
    _still_unmatched(tx)
    if tx.kind in _OUTGOING:
        raise Conflict(
            _(
                "This is money the bank took back, not money received: it cannot pay an "
                "invoice. Dismiss it once it is dealt with."
            )
        )
    number = invoice.number
    if invoice.kind != DocumentKind.INVOICE:
        raise Conflict(_("%(number)s is a credit note: it is never paid.", number=number))
    if invoice.currency != tx.currency:
        raise Conflict(
            _(
                "%(number)s is in %(currency)s, this money in %(received)s.",
                number=number,
                currency=invoice.currency,
                received=tx.currency,
            )
        )
    ledger.lock(invoice.id)
    if invoice.state not in ledger.PAYABLE or invoice.amount_due <= 0:
        raise Conflict(
            _(
                "%(number)s is %(state)s: nothing is due on it. If the money goes back to the "
                "payer, dismiss the transaction with that reason.",
                number=number,
                state=state_word(invoice.state.value),
            )
        )
    payment = ledger.record_payment(
        invoice,
        key=f"bank:{tx.key}",
        amount=tx.amount,
        occurred_at=booked_at(tx.booked_on or clock.local_date(tx.created_at)),
        source=PaymentSource.BANK,
        actor=actor,
        reference=tx.reference or tx.end_to_end_id or tx.bank_reference,
        reason=says(MATCHED_BY_HAND),
    )
    if payment is None:
        db.session.rollback()
        raise Conflict(_("This bank transaction was recorded as a payment already."))
    tx.status, tx.invoice_id, tx.payment_id = BankTransactionStatus.MATCHED, invoice.id, payment.id
    _resolved(tx, actor)
    _audit(tx, "matched", invoice=invoice.number)
    db.session.commit()
    return payment


def dismiss(tx: BankTransaction, reason: str, actor: str) -> None:
    """An admin says an unmatched credit is not for a document here, and why."""
    reason = required_reason(reason, _("Say why: it is kept with the transaction."))
    _still_unmatched(tx)
    tx.status, tx.note = BankTransactionStatus.DISMISSED, reason
    _resolved(tx, actor)
    _audit(tx, "dismissed", reason=reason)
    db.session.commit()


def _still_unmatched(tx: BankTransaction) -> None:
    """Lock ``tx`` and read it afresh: two admins acting on it at once act one after the
    other, and the second is told what the first did."""
    db.session.execute(for_update(BankTransaction, BankTransaction.id == tx.id))
    if tx.status != BankTransactionStatus.UNMATCHED:
        state = state_word(tx.status.value)
        raise Conflict(_("This transaction is %(state)s already.", state=state))


def _resolved(tx: BankTransaction, actor: str) -> None:
    tx.resolved_by, tx.resolved_at = actor[:128], utcnow()


def _audit(tx: BankTransaction, how: str, **details) -> None:
    """The person's decision on unmatched money, in the audit log."""
    audit.record(
        f"bank_transaction.{how}",
        target=f"bank_transaction:{tx.id}",
        details={"amount": str(tx.amount), "currency": tx.currency, **details},
    )


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
