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
# Placeholders banks and payers' software write into a reference they do not have
# (EndToEndId, PmtInfId, MndtId, TxId...), compared upper case without spaces: a
# placeholder is no reference, and two unrelated payments must not share one.
PLACEHOLDERS = frozenset({NOT_PROVIDED, "NOTAVAILABLE", "NONREF", "NONE", "N/A", "UNKNOWN"})


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
    # The account when the bank names it by another scheme (``Acct/Id/Othr/Id``): a
    # domestic account number, for instance. None when it gives an IBAN.
    account_other_id: str | None = None


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
    iban = _compact(text(element, "Acct/Id/IBAN"))
    entries = tuple(
        _entry(ntry, iban, number) for number, ntry in enumerate(findall(element, "Ntry"), 1)
    )
    other = None if iban else text(element, "Acct/Id/Othr/Id")
    return CamtAccountReport(text(element, "Id"), iban, entries, account_other_id=other)


def _entry(ntry: Element, account: str | None, number: int) -> CamtEntry:
    where = f"entry {number}"
    value, currency = amount(find(ntry, "Amt"), where)
    indicator = text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise BankFileError(f"Entry {number} is neither a credit nor a debit (CdtDbtInd).")
    batch = find(ntry, "NtryDtls/Btch")
    batch_id = real(text(batch, "PmtInfId"))
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
        # The entry's amount stands for a detail only when it is the only one: under a
        # batch entry each detail would otherwise be credited the whole batch.
        alone = (value, currency) if len(details) == 1 else None
        transactions = tuple(
            _transaction(tx, credit, account, batch_id, alone, f"{where}, transaction {i}")
            for i, tx in enumerate(details, 1)
        )
        _check_adds_up(transactions, value, currency, number, _charges(ntry, entry["credit"]))
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
    entry_amount: tuple[Decimal, str] | None,
    where: str,
) -> CamtTransaction:
    amt = find(tx, "Amt")
    if amt is None:
        amt = find(tx, "AmtDtls/TxAmt/Amt")
    if amt is None:
        amt = find(tx, "AmtDtls/InstdAmt/Amt")
    if amt is None and entry_amount is None:
        raise BankFileError(
            f"The {where} gives no amount, and its entry holds several transactions, so "
            "what each one is cannot be known; nothing in the file was applied. Ask the "
            "bank for the statement with the amount of each transaction."
        )
    value, currency = entry_amount if amt is None else amount(amt, where)
    name, iban = _counterparty(tx, credit, account)
    return CamtTransaction(
        amount=value,
        currency=currency,
        end_to_end_id=real(text(tx, "Refs/EndToEndId")),
        mandate_id=real(text(tx, "Refs/MndtId")),
        payment_info_id=real(text(tx, "Refs/PmtInfId")) or batch_id,
        transaction_id=real(text(tx, "Refs/TxId")),
        bank_reference=real(text(tx, "Refs/AcctSvcrRef")),
        reference=real(text(tx, "RmtInf/Strd/CdtrRefInf/Ref")),
        remittance=" ".join(u.text.strip() for u in findall(tx, "RmtInf/Ustrd") if u.text) or None,
        counterparty_name=name,
        counterparty_iban=iban,
        return_reason=code(tx, "RtrInf/Rsn"),
    )


def _check_adds_up(
    transactions: tuple[CamtTransaction, ...],
    value: Decimal,
    currency: str,
    number: int,
    charges: Decimal,
) -> None:
    """Refuse an entry whose details do not add up to it: one of the two is wrong, and
    settling either could book money the bank never moved. Charges the bank netted from
    the entry (given under ``Chrgs``) are the one difference allowed."""
    if any(tx.currency != currency for tx in transactions):
        # A detail in another currency (a foreign transfer's instructed amount) cannot be
        # added to the booking; its currency keeps it from settling anything in ours.
        return
    total = sum((tx.amount for tx in transactions), Decimal("0.00"))
    if total != value and (not charges or total + charges != value):
        raise BankFileError(
            f"Entry {number} books {value} {currency}, but its {len(transactions)} "
            f"transactions add up to {total} {currency}; the file was refused and nothing "
            "was applied. Ask the bank for a corrected statement."
        )


def _charges(ntry: Element, credit: bool) -> Decimal:
    """The charges the bank took out of (a credit) or added to (a debit) the entry's
    amount, signed so that details + charges = entry; zero when none are given.

    .02 gives them as ``Chrgs/Amt``, later versions as ``Chrgs/TtlChrgsAndTaxAmt`` or one
    ``Chrgs/Rcrd/Amt`` per charge. Whether a bank nets them is its choice (unverified for
    most banks), so they only ever excuse a difference; they are never booked."""
    total = find(ntry, "Chrgs/TtlChrgsAndTaxAmt")
    amounts = [total] if total is not None else findall(ntry, "Chrgs/Rcrd/Amt")
    amounts = amounts or findall(ntry, "Chrgs/Amt")
    charged = sum((amount(a, "charges")[0] for a in amounts), Decimal("0.00"))
    return -charged if credit else charged


def real(value: str | None) -> str | None:
    """``value``, or None when it is a placeholder (NOTPROVIDED...) standing for none."""
    if value is None or "".join(value.split()).upper() in PLACEHOLDERS:
        return None
    return value


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
