"""Applying a camt.053 statement or camt.054 notification: each booked entry becomes what
it is for us — a collection settled or returned, a transfer paying a document, money
left for an admin — recorded as a ``BankTransaction`` keyed by the bank fact.

- a credit naming one of our collections (end-to-end id; a batch entry naming only its
  ``PmtInfId`` stands for that batch's collections) settles it — when it is exactly the
  amount and currency collected; any other is left UNMATCHED for a person, with why;
- a debit naming one of our collections returns it (or rejects it, if never settled),
  under the same condition;
- a credit giving back a transfer we sent (it carries a return reason) is left
  UNMATCHED as such: it is not a customer's payment;
- any other credit is a received transfer, matched to a document by its valid
  structured reference — or left UNMATCHED for an admin;
- other debits (fees, outgoing payments) and pending entries are skipped and counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from collector.direct_debit import bank_notes as notes
from collector.direct_debit import collection_outcomes, double_payments
from collector.direct_debit.bank_transactions import (
    MAX_REASON,
    TRANSFER_FROM,
    UNKNOWN_SENDER,
    document_for,
    returned_note,
    sent_back,
)
from collector.direct_debit.collection_outcomes import booked_at
from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.camt import CamtEntry, CamtFile, CamtTransaction
from collector.direct_debit.models import (
    BankFile,
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
    Collection,
    CollectionStatus,
)
from collector.direct_debit.wording import english, money_text
from collector.documents import amounts, ledger
from collector.documents.models import PaymentSource
from collector.extensions import db
from collector.runtime.wordings import says, word

# What a bank file's summary counts, in the order pages show them.
COUNTS = ("settled", "rejected", "returned", "matched", "unmatched", "known", "skipped")


@dataclass
class Applying:
    """One bank file being applied: where its transactions go and what they did."""

    bank_file: BankFile
    actor: str
    today: date
    counts: Counter = field(default_factory=Counter)
    # How often a transfer fingerprint was seen in this file, to number look-alikes.
    fingerprints: Counter = field(default_factory=Counter)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n

    def summary(self) -> dict:
        return {**{key: 0 for key in COUNTS}, **self.counts}

    def claim(self, key: str, kind: BankTransactionKind, **values) -> BankTransaction | None:
        """A new transaction row for the fact ``key``; None (counted as known) when an
        earlier file — or a concurrent upload — recorded it."""
        exists = db.session.scalar(sa.select(BankTransaction.id).where(BankTransaction.key == key))
        if exists is None:
            row = BankTransaction(
                bank_file_id=self.bank_file.id,
                key=key,
                kind=kind,
                status=BankTransactionStatus.MATCHED,
                **values,
            )
            try:
                with db.session.begin_nested():
                    db.session.add(row)
                return row
            except IntegrityError:
                pass
        self.count("known")
        return None


def _facts(entry: CamtEntry, tx: CamtTransaction) -> dict:
    """The columns a transaction row copies from the file."""
    return {
        "amount": tx.amount,
        "currency": tx.currency,
        "booked_on": _day(entry),
        "end_to_end_id": cut(tx.end_to_end_id, 35),
        "reference": cut(tx.reference, 64),
        "remittance": cut(tx.remittance, 140),
        "counterparty_name": cut(tx.counterparty_name, 140),
        "counterparty_iban": cut(tx.counterparty_iban, 34),
        "bank_reference": cut(tx.bank_reference or entry.bank_reference, 64),
        "reason_code": cut(tx.return_reason, 8),
    }


def _day(entry: CamtEntry) -> date | None:
    return entry.booked_on or entry.value_date


def cut(value: str | None, length: int) -> str | None:
    """``value`` shortened to its column; bank texts may run longer than we keep."""
    return value[:length] if value else None


def apply_statement(applying: Applying, statement: CamtFile) -> None:
    """Apply every booked entry of a camt.053 or camt.054, counting what each did."""
    for entry in statement.entries:
        if entry.amount <= 0 or not entry.booked:
            # Pending (PDNG) or information-only entries may still change or vanish;
            # the booked one arrives in a later file.
            applying.count("skipped")
            applying.count("pending", not entry.booked)
        elif entry.credit and not entry.reversal:
            for tx in entry.transactions:
                _credit(applying, entry, tx)
        elif not entry.credit:
            for tx in entry.transactions:
                _debit(applying, entry, tx)
        else:
            applying.count("skipped")  # a debit reversed: a fee given back, not a payment


def _credit(applying: Applying, entry: CamtEntry, tx: CamtTransaction) -> None:
    collection = _collection(tx.end_to_end_id)
    if collection is not None:
        _settle(applying, entry, tx, collection)
        return
    stands_for_entry = not entry.detailed or len(entry.transactions) == 1
    if not tx.end_to_end_id and tx.payment_info_id and stands_for_entry:
        batch = _batch(tx.payment_info_id)
        if batch:
            _settle_batch(applying, entry, tx, batch)
            return
    _transfer(applying, entry, tx)


def _settle(applying: Applying, entry: CamtEntry, tx: CamtTransaction, collection: Collection):
    problem = collection_outcomes.mismatch(collection, tx.amount, tx.currency)
    if problem is not None:
        _mismatched(applying, entry, tx, collection, BankTransactionKind.COLLECTION, problem)
        return
    row = applying.claim(
        f"collection:{collection.end_to_end_id}",
        BankTransactionKind.COLLECTION,
        **_facts(entry, tx),
        collection_id=collection.id,
        invoice_id=collection.invoice_id,
    )
    if row is None:
        return
    payment = collection_outcomes.settle(
        collection, tx.amount, _day(entry) or applying.today, applying.actor, tx.currency
    )
    if payment is not None:
        row.payment_id = payment.id
        applying.count("settled")
    elif collection.status in (CollectionStatus.SETTLED, CollectionStatus.RETURNED):
        row.payment_id = collection.payment_id
        applying.count("known")
    else:
        note = english(
            notes.ARRIVED_LATE,
            collection=collection.end_to_end_id,
            status=collection.status.value,
        )
        _leave_unmatched(applying, row, note)


def _settle_batch(applying, entry: CamtEntry, tx: CamtTransaction, batch: list[Collection]):
    """A batch reported as one credit: its standing collections, if they add up to it."""
    standing = [c for c in batch if c.status not in collection_outcomes.NEVER_SETTLED]
    total = sum((c.amount for c in standing), Decimal("0.00"))
    currencies = {c.currency.upper() for c in standing}
    if standing and total == tx.amount and currencies == {tx.currency.upper()}:
        for collection in standing:
            one = replace(tx, amount=collection.amount, end_to_end_id=collection.end_to_end_id)
            _settle(applying, entry, one, collection)
        return
    row = applying.claim(
        f"batch:{tx.payment_info_id}", BankTransactionKind.COLLECTION, **_facts(entry, tx)
    )
    if row is not None:
        note = english(
            notes.BATCH_DIFFERS,
            batch=tx.payment_info_id,
            amount=money_text(tx.amount, tx.currency),
            total=_money(total, currencies, tx.currency),
        )
        _leave_unmatched(applying, row, note)


def _money(total: Decimal, currencies: set[str], received: str) -> str:
    """A batch's standing total; in several currencies it has no one amount to write."""
    if len(currencies) > 1:
        return f"{total} {'/'.join(sorted(currencies))}"
    return money_text(total, next(iter(currencies), received))


def _debit(applying: Applying, entry: CamtEntry, tx: CamtTransaction) -> None:
    collection = _collection(tx.end_to_end_id)
    if collection is None:
        applying.count("skipped")  # not a direct debit of ours: a fee, a payment we made
        return
    settled = collection.status == CollectionStatus.SETTLED
    kind = BankTransactionKind.RETURN if settled else BankTransactionKind.REJECT
    problem = collection_outcomes.mismatch(collection, tx.amount, tx.currency)
    if problem is not None:
        _mismatched(applying, entry, tx, collection, kind, problem)
        return
    row = applying.claim(
        f"return:{collection.end_to_end_id}",
        kind,
        **_facts(entry, tx),
        collection_id=collection.id,
        invoice_id=collection.invoice_id,
    )
    if row is None:
        return
    changed = collection_outcomes.return_(
        collection,
        tx.return_reason,
        tx.amount,
        _day(entry) or applying.today,
        applying.actor,
        applying.today,
        tx.currency,
    )
    if not changed:
        row.note = english(notes.ALREADY, status=collection.status.value)
        applying.count("skipped")
    elif settled:
        reversal = amounts.by_key(collection_outcomes.return_key(collection))
        row.payment_id = reversal.id if reversal else None
        applying.count("returned")
    else:
        applying.count("rejected")


def _transfer(applying: Applying, entry: CamtEntry, tx: CamtTransaction) -> None:
    fingerprint = parser.transfer_fingerprint(entry, tx)
    applying.fingerprints[fingerprint] += 1
    seen = applying.fingerprints[fingerprint]
    key = f"transfer:{fingerprint}" + (f":{seen}" if seen > 1 else "")
    row = applying.claim(key, BankTransactionKind.TRANSFER, **_facts(entry, tx))
    if row is None:
        return
    if sent_back(entry, tx):
        applying.count("transfers_returned")
        _leave_unmatched(applying, row, returned_note(tx))
        return
    invoice, problem = document_for(tx)
    if problem is not None:
        paid = double_payments.paid_document(tx)
        if paid is not None:
            # Never a payment on its own: a person refunds it or keeps it as a credit.
            double_payments.flag(row, paid, applying.actor)
            applying.count("unmatched")
            return
        _leave_unmatched(applying, row, problem)
        return
    payment = ledger.record_payment(
        invoice,
        key=f"bank:{key}",
        amount=tx.amount,
        occurred_at=booked_at(row.booked_on or applying.today),
        source=PaymentSource.BANK,
        actor=applying.actor,
        reference=row.reference or row.bank_reference,
        reason=says(
            TRANSFER_FROM,
            sender=tx.counterparty_name or tx.counterparty_iban or word(UNKNOWN_SENDER),
        ),
    )
    row.invoice_id, row.payment_id = invoice.id, payment.id if payment else None
    applying.count("matched")


def _mismatched(applying, entry, tx, collection: Collection, kind, problem: dict) -> None:
    """Money for ``collection`` of another amount or currency: kept for a person under
    its own key, so the right amount arriving later still settles the collection."""
    key = f"mismatch:{kind.value}:{collection.end_to_end_id}:{tx.amount}:{tx.currency}"
    row = applying.claim(
        key[:160],
        kind,
        **_facts(entry, tx),
        collection_id=collection.id,
        invoice_id=collection.invoice_id,
    )
    if row is not None:
        # Money taken back cannot pay a document, so only a credit is offered a match.
        credit = kind == BankTransactionKind.COLLECTION
        note = notes.CREDIT_DIFFERS if credit else notes.DEBIT_DIFFERS
        _leave_unmatched(applying, row, english(note, **problem))


def _leave_unmatched(applying: Applying, row: BankTransaction, note: str) -> None:
    row.status = BankTransactionStatus.UNMATCHED
    row.note = note[:MAX_REASON]
    applying.count("unmatched")


# -- finding things -------------------------------------------------------------------------


def _collection(end_to_end_id: str | None) -> Collection | None:
    if not end_to_end_id:
        return None
    return db.session.scalars(
        sa.select(Collection).where(Collection.end_to_end_id == end_to_end_id)
    ).first()


def _batch(payment_info_id: str) -> list[Collection]:
    return list(
        db.session.scalars(
            sa.select(Collection)
            .where(Collection.payment_info_id == payment_info_id)
            .order_by(Collection.id)
        )
    )
