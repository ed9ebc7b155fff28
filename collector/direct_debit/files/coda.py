"""CODA statements (Febelfin "Coded statement of account", version 2), read into the same
records as a camt.053, so a Belgian bank's daily file is applied exactly like one.

A CODA file is lines of 128 characters: per account and day a header (0), the old
balance (1), movements (2.1 amount and dates, 2.2 end-to-end reference and R-transaction
reason, 2.3 counterparty), information (3.x), free text (4), the new balance (8) and a
trailer (9) counting records and adding up debits and credits (``coda_records`` reads
them and checks the trailer and balances).

A movement whose transaction type is 1 or 2 is a total (a direct-debit batch, a bundle
of transfers) whose details follow as types 5, 6 and 7; any other top-level movement is
one booking, its detail records (8, 9: charges, gross amounts) not being payments.

We write our own reader: the maintained parser on PyPI (febelfin-coda 0.5) validates
with ``assert``, stops on a detail of type 9, and refuses a value date of 000000, which
the specification allows.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from collector.direct_debit.files.camt import (
    BOOKED,
    CamtAccountReport,
    CamtEntry,
    CamtFile,
    CamtTransaction,
)
from collector.direct_debit.files.coda_records import TOTALS, Movement, Statement, statements
from collector.direct_debit.files.iso20022 import BankFileError

KIND = "camt.053"  # a CODA file is a day statement: it is applied as one
# Structured communication types carrying a Belgian structured reference
# (+++123/4567/89012+++): 101, and 102 (the same, sent by a bank).
STRUCTURED_REFERENCE = frozenset({"101", "102"})


def read(content: str) -> CamtFile:
    """The records of a CODA file; raises BankFileError saying which line is wrong."""
    reports = tuple(_report(s) for s in statements(content))
    return CamtFile(kind=KIND, version="CODA 2", message_id=None, reports=reports)


# -- into camt records ---------------------------------------------------------------------


def _report(statement: Statement) -> CamtAccountReport:
    entries = tuple(_entry(m, statement.currency) for m in statement.movements)
    account = statement.account_iban or statement.account_other
    return CamtAccountReport(
        id=f"{account}-{statement.number}",
        account_iban=statement.account_iban,
        entries=entries,
        account_other_id=None if statement.account_iban else statement.account_other,
    )


def _entry(movement: Movement, currency: str) -> CamtEntry:
    batch_id = movement.end_to_end_id if movement.type_ in TOTALS else None
    details = movement.details if movement.type_ in TOTALS else []
    if details:
        transactions = tuple(
            replace(_transaction(d, currency), payment_info_id=batch_id) for d in details
        )
        total = sum((tx.amount for tx in transactions), Decimal("0.00"))
        if total != movement.amount:
            raise BankFileError(
                f"The CODA movement at line {movement.line} books {movement.amount} "
                f"{currency}, but its {len(details)} details add up to {total}; nothing "
                "was applied. Ask the bank for a corrected statement."
            )
    else:
        # A total without its details stands for its batch: the creditor's PmtInfId is
        # its customer reference (unverified against every bank; a reference that names
        # no batch of ours leaves the money for a person).
        one = _transaction(movement, currency)
        batch = replace(one, end_to_end_id=None, payment_info_id=batch_id)
        transactions = (batch if batch_id else one,)
    return CamtEntry(
        amount=movement.amount,
        currency=currency,
        credit=movement.credit,
        # A debit reversing an earlier credit (a collection returned) is still a debit
        # here, as in camt.053; CODA has no separate reversal mark.
        reversal=False,
        status=BOOKED,
        booked_on=movement.booked_on,
        value_date=movement.value_date,
        bank_reference=movement.bank_reference,
        bank_code=f"CODA {movement.code}",
        batch_payment_info_id=batch_id,
        batch_count=len(details) or None,
        transactions=transactions,
        detailed=bool(details),
    )


def _transaction(movement: Movement, currency: str) -> CamtTransaction:
    reference, remittance = _communication(movement.communication)
    return CamtTransaction(
        amount=movement.amount,
        currency=currency,
        end_to_end_id=movement.end_to_end_id,
        bank_reference=movement.bank_reference,
        reference=reference,
        remittance=remittance,
        counterparty_name=movement.counterparty_name,
        counterparty_iban=movement.counterparty_iban,
        return_reason=movement.return_reason,
    )


def _communication(text: str) -> tuple[str | None, str | None]:
    """(structured reference, free text) of a movement's communication: a zone flag
    (0 free, 1 structured), then for a structured one its three-digit type."""
    if text[:1] == "1":
        kind, body = text[1:4], text[4:]
        if kind in STRUCTURED_REFERENCE and body[:12].isdigit():
            return body[:12], None
        # Other structured types (SEPA details, payment-card data...) are kept as text
        # for a person; the matcher only takes valid structured references out of it.
        return None, " ".join(body.split()) or None
    return None, " ".join(text[1:].split()) or None
