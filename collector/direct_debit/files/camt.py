"""camt.053 statements and camt.054 debit/credit notifications, read into plain records.

One reader serves the versions banks send (.001.02, .04, .08 and later): the element
names we need did not change, only a few shapes did — the entry status became
``Sts/Cd``, a party became ``Dbtr/Pty``, a transaction got its own ``Amt`` — and the
reader accepts both. Nothing here decides what an entry means for a document; that is
``direct_debit/bank_files``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

from collector.direct_debit.files.iso20022 import (
    BankFileError,
    amount,
    code,
    day,
    find,
    findall,
    flag,
    text,
)

# The message element under ``Document`` and the per-account element under it.
LAYOUT = {
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
BOOKED = "BOOK"
# What a payer's software writes when it has no end-to-end id to give.
NOT_PROVIDED = "NOTPROVIDED"


@dataclass(frozen=True)
class CamtTransaction:
    """One transaction of an entry (``TxDtls``), or the entry itself when it has none."""

    amount: Decimal
    currency: str
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    payment_info_id: str | None = None
    transaction_id: str | None = None
    bank_reference: str | None = None
    reference: str | None = None  # RmtInf/Strd/CdtrRefInf/Ref
    remittance: str | None = None  # RmtInf/Ustrd, lines joined by a space
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    return_reason: str | None = None  # RtrInf/Rsn/Cd


@dataclass(frozen=True)
class CamtEntry:
    """One booking on the account (``Ntry``): a credit or a debit, possibly a batch."""

    amount: Decimal
    currency: str
    credit: bool
    reversal: bool
    status: str
    booked_on: date | None
    value_date: date | None
    bank_reference: str | None
    # Domain/Family/Sub-family: PMNT/IDDT/ESDD a SEPA Core collection (BBDD: B2B),
    # PMNT/RCDT/ESCT a received transfer (reference §2.7). Shown, not matched on.
    bank_code: str | None
    batch_payment_info_id: str | None
    batch_count: int | None
    transactions: tuple[CamtTransaction, ...]
    # True when the bank listed transaction details; False when ``transactions`` holds
    # the entry itself (a batch reported as one line, a bare transfer).
    detailed: bool

    @property
    def booked(self) -> bool:
        return self.status == BOOKED


@dataclass(frozen=True)
class CamtAccountReport:
    """One account's part of the file (``Stmt`` or ``Ntfctn``)."""

    id: str | None
    account_iban: str | None
    entries: tuple[CamtEntry, ...]


@dataclass(frozen=True)
class CamtFile:
    kind: str  # camt.053 or camt.054
    version: str  # e.g. camt.054.001.02
    message_id: str | None
    reports: tuple[CamtAccountReport, ...]

    @property
    def account_ibans(self) -> list[str | None]:
        return [report.account_iban for report in self.reports]

    @property
    def entries(self) -> list[CamtEntry]:
        return [entry for report in self.reports for entry in report.entries]


def read(kind: str, version: str, document: Element) -> CamtFile:
    """The records of a camt.053 or camt.054 ``Document`` (namespaces removed)."""
    message_tag, report_tag = LAYOUT[kind]
    message = find(document, message_tag)
    if message is None:
        raise BankFileError(f"This {kind} file has no {message_tag} element.")
    reports = tuple(_report(element) for element in findall(message, report_tag))
    if not reports:
        raise BankFileError(f"This {kind} file holds no account ({report_tag}).")
    return CamtFile(kind, version, text(message, "GrpHdr/MsgId"), reports)


def _report(element: Element) -> CamtAccountReport:
    iban = text(element, "Acct/Id/IBAN")
    entries = tuple(
        _entry(ntry, iban, number) for number, ntry in enumerate(findall(element, "Ntry"), 1)
    )
    return CamtAccountReport(text(element, "Id"), _compact(iban), entries)


def _entry(ntry: Element, account: str | None, number: int) -> CamtEntry:
    where = f"entry {number}"
    value, currency = amount(find(ntry, "Amt"), where)
    indicator = text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise BankFileError(f"Entry {number} is neither a credit nor a debit (CdtDbtInd).")
    batch = find(ntry, "NtryDtls/Btch")
    batch_id = text(batch, "PmtInfId")
    entry = {
        "amount": value,
        "currency": currency,
        "credit": indicator == "CRDT",
        "reversal": flag(ntry, "RvslInd"),
        "status": (code(ntry, "Sts") or "").upper(),
        "booked_on": day(ntry, "BookgDt", where),
        "value_date": day(ntry, "ValDt", where),
        "bank_reference": text(ntry, "AcctSvcrRef"),
        "bank_code": _bank_code(ntry),
        "batch_payment_info_id": batch_id,
        "batch_count": _count(text(batch, "NbOfTxs")),
    }
    details = findall(ntry, "NtryDtls/TxDtls")
    credit = entry["credit"]
    if details:
        transactions = tuple(
            _transaction(tx, credit, account, batch_id, (value, currency), f"{where}, tx {i}")
            for i, tx in enumerate(details, 1)
        )
    else:
        transactions = (
            CamtTransaction(
                value, currency, payment_info_id=batch_id, bank_reference=entry["bank_reference"]
            ),
        )
    return CamtEntry(**entry, transactions=transactions, detailed=bool(details))


def _transaction(
    tx: Element,
    credit: bool,
    account: str | None,
    batch_id: str | None,
    entry_amount: tuple[Decimal, str],
    where: str,
) -> CamtTransaction:
    amt = find(tx, "Amt")
    if amt is None:
        amt = find(tx, "AmtDtls/TxAmt/Amt")
    if amt is None:
        amt = find(tx, "AmtDtls/InstdAmt/Amt")
    value, currency = entry_amount if amt is None else amount(amt, where)
    name, iban = _counterparty(tx, credit, account)
    e2e = text(tx, "Refs/EndToEndId")
    return CamtTransaction(
        amount=value,
        currency=currency,
        end_to_end_id=None if e2e == NOT_PROVIDED else e2e,
        mandate_id=text(tx, "Refs/MndtId"),
        payment_info_id=text(tx, "Refs/PmtInfId") or batch_id,
        transaction_id=text(tx, "Refs/TxId"),
        bank_reference=text(tx, "Refs/AcctSvcrRef"),
        reference=text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
        remittance=" ".join(u.text.strip() for u in findall(tx, "RmtInf/Ustrd") if u.text) or None,
        counterparty_name=name,
        counterparty_iban=iban,
        return_reason=code(tx, "RtrInf/Rsn"),
    )


def _counterparty(tx: Element, credit: bool, account: str | None) -> tuple[str | None, str | None]:
    """The other party: the payer of a credit, the payee of a debit — unless that side
    names our own account (a returned direct debit names us as creditor)."""
    sides = ("Dbtr", "Cdtr") if credit else ("Cdtr", "Dbtr")
    for side in sides:
        iban = _compact(text(tx, f"RltdPties/{side}Acct/Id/IBAN"))
        # .02 puts the name at Dbtr/Nm, .08 at Dbtr/Pty/Nm.
        name = text(tx, f"RltdPties/{side}/Nm", f"RltdPties/{side}/Pty/Nm")
        if (iban or name) and (iban is None or iban != account):
            return name, iban
    return None, None


def _bank_code(ntry: Element) -> str | None:
    parts = [
        text(ntry, "BkTxCd/Domn/Cd"),
        text(ntry, "BkTxCd/Domn/Fmly/Cd"),
        text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
    ]
    return "/".join(p for p in parts if p) or None


def _count(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _compact(iban: str | None) -> str | None:
    return "".join(iban.split()).upper() if iban else None
