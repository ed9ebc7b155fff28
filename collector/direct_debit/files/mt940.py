"""SWIFT MT940 customer statements (what many Dutch bank accounts export), read into the
same records as a camt.053.

The fields are split by the ``mt-940`` package; what the Dutch banks put in them is
read here. Each ``:61:`` is one booking with its debit/credit mark — C, D, and the
reversals RC (a credit taken back: a debit, such as a returned direct debit) and RD (a
debit given back: a credit) — and the ``:86:`` after it carries the SEPA details as
``/CODE/value`` pairs: ``/EREF/`` the end-to-end id, ``/MARF/`` the mandate, ``/PREF/``
a batch's PmtInfId, ``/RTRN/`` the return reason, ``/REMI/`` the remittance (``USTD//``
free text, ``STRD/CUR/`` a structured reference), ``/IBAN/`` and ``/NAME/`` or ``/CNTP/``
(IBAN/BIC/name/city) the counterparty. A bank writing free text in ``:86:`` is read as
remittance text, in which a Belgian structured reference is still found.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import mt940
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from collector.direct_debit.files.camt import (
    BOOKED,
    CamtAccountReport,
    CamtEntry,
    CamtFile,
    CamtTransaction,
    real,
)
from collector.direct_debit.files.iso20022 import BankFileError

KIND = "camt.053"  # an MT940 is an end-of-day statement: it is applied as one
# The codes Dutch banks (ING, Rabobank, ABN AMRO) write in a structured :86:. A value
# runs to the next known code, so a slash inside a remittance text does not end it.
CODES = (
    *("EREF", "MARF", "CSID", "PREF", "RTRN", "RTYP", "REMI", "CDTRREFTP", "CDTRREF"),
    *("IBAN", "BIC", "NAME", "CNTP", "TRTP", "ULTC", "ULTD", "ULTB", "PURP", "ISDT"),
    *("BENM", "ORDP", "ADDR", "SVCL", "NRTX", "OAMT", "CHGS", "EXCH"),
)
# The slash after a code is looked at, not taken: it may also open the next code
# ("/REMI//CDTRREFTP/", an empty remittance).
CODE = re.compile(r"/(" + "|".join(sorted(CODES, key=len, reverse=True)) + r")(?=/)")
REASON = re.compile(r"[A-Z]{2}\d{2}|[A-Z]{4}")
IBAN_LIKE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}")
CREDIT_MARKS = frozenset({"C", "RD"})


def read(content: str) -> CamtFile:
    """The records of an MT940 file; raises BankFileError with what is wrong."""
    try:
        blocks = mt940.parse_statements(content)
    except (RuntimeError, ValueError, InvalidOperation, KeyError, IndexError) as exc:
        raise BankFileError(
            f"The MT940 file cannot be read: {str(exc.args[0] if exc.args else exc)[:160]}"
        ) from None
    if not blocks:
        raise BankFileError("This MT940 file holds no statement (:20:).")
    reports = tuple(_report(block, n) for n, block in enumerate(blocks, 1))
    message_id = blocks[0].data.get("transaction_reference")
    return CamtFile(kind=KIND, version="MT940", message_id=message_id, reports=reports)


def _report(block, number: int) -> CamtAccountReport:
    data = block.data
    raw_account = data.get("account_identification")
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    if not raw_account or opening is None:
        raise BankFileError(
            f"Statement {number} of the MT940 file has no account (:25:) or no opening "
            "balance (:60F:); it cannot be checked, and nothing was applied."
        )
    currency = opening.amount.currency
    entries = tuple(_entry(tx.data, currency, number) for tx in block)
    _check_balances(entries, opening, closing, number)
    iban = _iban(raw_account)
    statement = data.get("statement_number") or str(number)
    return CamtAccountReport(
        id=f"{iban or raw_account}-{statement}",
        account_iban=iban,
        entries=entries,
        account_other_id=None if iban else raw_account.strip(),
    )


def _check_balances(entries: tuple[CamtEntry, ...], opening, closing, number: int) -> None:
    """Refuse a statement whose bookings do not lead from its opening to its closing
    balance: part of it is missing, and applying the rest would hide that."""
    if closing is None:
        return
    moved = sum((e.amount if e.credit else -e.amount for e in entries), Decimal("0.00"))
    start, end = opening.amount.amount, closing.amount.amount
    if start + moved != end:
        raise BankFileError(
            f"Statement {number} of the MT940 file goes from {start} to {end}, but its "
            f"bookings add up to {moved}: it is incomplete or damaged, and nothing was "
            "applied."
        )


def _entry(data: dict, currency: str, statement: int) -> CamtEntry:
    mark = (data.get("status") or "").upper()
    if mark not in ("C", "D", "RC", "RD"):
        raise BankFileError(f"Statement {statement}: a booking is neither credit nor debit.")
    value = abs(data["amount"].amount)
    bank_reference = real((data.get("bank_reference") or "").strip() or None)
    details = _details(data.get("transaction_details") or "")
    batch = real(details.get("PREF"))
    end_to_end = real(details.get("EREF"))
    if end_to_end is None and not details.get("structured"):
        end_to_end = real((data.get("customer_reference") or "").strip() or None)
    transaction = CamtTransaction(
        amount=value,
        currency=data.get("currency") or currency,
        end_to_end_id=end_to_end,
        mandate_id=real(details.get("MARF")),
        payment_info_id=batch,
        bank_reference=bank_reference,
        reference=details.get("reference"),
        remittance=details.get("remittance"),
        counterparty_name=details.get("name"),
        counterparty_iban=details.get("iban"),
        return_reason=details.get("reason"),
    )
    booked_on = data.get("entry_date") or data.get("date")
    return CamtEntry(
        amount=value,
        currency=transaction.currency,
        credit=mark in CREDIT_MARKS,
        reversal=mark.startswith("R"),
        status=BOOKED,  # an MT940 lists booked items only (MT942 is the interim report)
        booked_on=_day(booked_on),
        value_date=_day(data.get("date")),
        bank_reference=bank_reference,
        bank_code=f"SWIFT {data['id']}" if data.get("id") else None,
        batch_payment_info_id=batch,
        batch_count=int(details["NRTX"]) if details.get("NRTX", "").isdigit() else None,
        transactions=(transaction,),
        detailed=False,
    )


def _details(text: str) -> dict:
    """What a :86: says: its /CODE/value pairs read into names, or free text."""
    joined = re.sub(r"\r?\n", "", text).strip()  # lines are cut at 65, not at words
    pairs = _pairs(joined)
    if not pairs:
        return {"remittance": " ".join(joined.split()) or None}
    found: dict = {"structured": True, **pairs}
    remi = pairs.get("REMI", "")
    if remi.upper().startswith("STRD/"):
        found["reference"] = next((p for p in reversed(remi.split("/")) if p.strip()), None)
    elif remi:
        text_ = remi[5:] if remi.upper().startswith("USTD/") else remi
        found["remittance"] = " ".join(text_.strip("/").split()) or None
    if not found.get("reference") and pairs.get("CDTRREF"):
        found["reference"] = pairs["CDTRREF"]
    counterparty = pairs.get("CNTP", "").split("/")
    found["iban"] = _iban(pairs.get("IBAN") or counterparty[0])
    name = pairs.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")
    found["name"] = " ".join(name.split()) or None
    reason = REASON.match(pairs.get("RTRN", "").strip().upper())
    found["reason"] = reason[0] if reason else None
    return found


def _pairs(text: str) -> dict[str, str]:
    """``/EREF/x/REMI/y/`` as {"EREF": "x", "REMI": "y"}; empty unless the text starts
    with a known code (free text may hold slashes of its own)."""
    markers = list(CODE.finditer(text))
    if not markers or markers[0].start() != 0:
        return {}
    pairs: dict[str, str] = {}
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else len(text)
        value = text[marker.end() + 1 : end]
        pairs.setdefault(marker[1], value.strip().rstrip("/").strip())
    return pairs


def _iban(raw: str | None) -> str | None:
    """The IBAN in an account field (``NL91ABNA0417164300``, with a currency after it at
    some banks, or behind a BIC and a slash), or None when it names no IBAN."""
    compact = "".join((raw or "").split()).upper()
    for match in IBAN_LIKE.finditer(compact):
        for candidate in (match[0], match[0][:-3]):
            try:
                return str(IBAN(candidate).compact)
            except SchwiftyException:
                continue
    return None


def _day(value) -> date | None:
    return date(value.year, value.month, value.day) if value else None
