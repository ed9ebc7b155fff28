"""``POST salesentry/SalesEntries``: book an invoice or credit note (reference §5).

``Journal`` is the journal *code* of a sales (20) or return-invoice (21) journal that is
not blocked; ``Customer`` an account with customer status; ``SalesEntryLines`` non-empty,
each with a revenue G/L account (type 110) and ``AmountFC`` (excl. VAT). ``VATCode``
defaults to the G/L account's; the VAT is computed from its percentage unless
``VATAmountFC`` is given. ``Type`` is read-only: 21 when the total is negative, else 20.
There is no duplicate check. All failures come back together as one HTTP 500.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from . import entities, errors, payload, receivables
from .clock import as_day
from .context import Context

CENT = Decimal("0.01")
TYPES = {20: "Sales entry", 21: "Sales credit note"}


def cents(amount: Decimal) -> Decimal:
    """Round to cents, halves away from zero."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def create(ctx: Context, values: dict) -> dict:
    """Validate and store a sales entry with its lines and receivable; return the entry."""
    messages: list[str] = []
    journal = _journal(ctx, values.get("Journal"), messages)
    customer = _customer(ctx, values.get("Customer"), messages)
    raw = payload.collection("SalesEntryLines", values.pop("SalesEntryLines", None))
    if not raw:
        messages.append("Mandatory: SalesEntryLines")
    lines = [_line(ctx, item, messages) for item in raw]
    condition = _condition(ctx, values.get("PaymentCondition"), customer, messages)
    if values.get("Document") and ctx.get("documents/Documents", values["Document"]) is None:
        messages.append("Invalid reference: Document")
    currency = ctx.division.header["Currency"]
    if values.get("Currency") not in (None, currency):
        messages.append("Not allowed: Currency")
    if messages:
        raise errors.validation(list(dict.fromkeys(messages)))
    entry = _entry(ctx, values, journal, customer, condition, lines)
    ctx.division.table("salesentry/SalesEntries")[entry["EntryID"]] = entry
    for number, line in enumerate(lines, start=1):
        line.update(EntryID=entry["EntryID"], LineNumber=number, Type=entry["Type"])
        ctx.division.table("salesentry/SalesEntryLines")[line["ID"]] = line
    receivables.open_for(ctx, entry, condition)
    return entry


def _journal(ctx: Context, code: object, messages: list[str]) -> dict | None:
    if not code:
        messages.append("Mandatory: Journal")
        return None
    journal = ctx.find("financial/Journals", "Code", code)
    if journal is None:
        messages.append("Invalid reference: Journal")
    elif journal["Type"] not in (20, 21):
        messages.append("Invalid journal. The journal must be a sales journal.")
    elif journal["IsBlocked"]:
        messages.append("Not allowed: Journal (blocked)")
    return journal


def _customer(ctx: Context, ident: object, messages: list[str]) -> dict | None:
    if ident is None:
        messages.append("Mandatory: Customer")
        return None
    customer = ctx.get("crm/Accounts", ident)
    if customer is None:
        messages.append("Invalid reference: Customer")
    elif customer["Status"] != "C":
        messages.append("Invalid: Invoice to (Type)")
    elif customer["Blocked"]:
        messages.append("Not allowed: Customer (blocked)")
    return customer


def _condition(ctx: Context, code, customer, messages: list[str]) -> dict | None:
    code = code or (customer or {}).get("PaymentConditionSales")
    if not code:
        return None
    condition = ctx.find("cashflow/PaymentConditions", "Code", code)
    if condition is None:
        messages.append("Invalid reference: Payment condition")
    return condition


def _line(ctx: Context, raw: dict, messages: list[str]) -> dict:
    values = payload.convert(entities.lookup("salesentry/SalesEntryLines"), raw)
    line = entities.lookup("salesentry/SalesEntryLines").blank()
    line.update(values)
    line.update(ID=uuid.uuid4(), Division=ctx.division.code)
    gl = (
        ctx.get("financial/GLAccounts", values.get("GLAccount"))
        if values.get("GLAccount")
        else None
    )
    if values.get("GLAccount") is None:
        messages.append("Mandatory: G/L account")
    elif gl is None:
        messages.append("Invalid reference: G/L account")
    elif gl["Type"] != 110:
        messages.append("Invalid: G/L account type")
    if values.get("AmountFC") is None:
        messages.append("Mandatory: AmountFC")
    code = values.get("VATCode") if "VATCode" in values else (gl or {}).get("VATCode")
    vat = _vat_code(ctx, code, messages) if code and str(code).strip() else None
    if gl is not None:
        line.update(GLAccountCode=gl["Code"], GLAccountDescription=gl["Description"])
    if values.get("AmountFC") is not None:
        _amounts(line, vat)
    return line


def _vat_code(ctx: Context, code: str, messages: list[str]) -> dict | None:
    wanted = str(code).rstrip()
    vat = next(
        (v for v in ctx.division.table("vat/VATCodes").values() if v["Code"].rstrip() == wanted),
        None,
    )
    if vat is None:
        messages.append("Invalid reference: VAT code")
    elif vat["IsBlocked"] or vat["VATTransactionType"] not in ("S", "B"):
        messages.append("Not allowed: VAT-code")
    return vat


def _amounts(line: dict, vat: dict | None) -> None:
    amount, given = line["AmountFC"], line.get("VATAmountFC")
    rate = vat["Percentage"] if vat and vat["Type"] in ("E", "I") else Decimal(0)
    if vat and vat["Type"] == "I" and given is None:
        # Inclusive code: the amount given holds the VAT; book the part excluding it.
        tax = cents(amount * rate / (1 + rate))
        amount = amount - tax
    else:
        tax = cents(given) if given is not None else cents(amount * rate)
    line.update(
        AmountFC=amount,
        AmountDC=amount,
        VATAmountFC=tax,
        VATAmountDC=tax,
        VATBaseAmountFC=amount,
        VATBaseAmountDC=amount,
        VATCode=vat["Code"] if vat else None,
        VATCodeDescription=vat["Description"] if vat else None,
        VATPercentage=rate,
    )


def _entry(ctx: Context, values: dict, journal, customer, condition, lines) -> dict:
    entry = entities.lookup("salesentry/SalesEntries").blank()
    entry.update(values)
    entry.update(ctx.audit())
    entry_date = as_day(values.get("EntryDate") or ctx.now)
    net = sum((line["AmountFC"] for line in lines), Decimal(0))
    tax = sum((line["VATAmountFC"] for line in lines), Decimal(0))
    kind = 21 if net + tax < 0 else 20
    number = values.get("EntryNumber") or _next_number(ctx, journal["Code"], entry_date)
    entry.update(
        EntryID=uuid.uuid4(),
        Journal=journal["Code"],
        JournalDescription=journal["Description"],
        CustomerName=customer["Name"],
        EntryDate=entry_date,
        DueDate=as_day(values.get("DueDate") or due_date(entry_date, condition)),
        EntryNumber=number,
        InvoiceNumber=values.get("InvoiceNumber") or number,
        ReportingYear=values.get("ReportingYear") or entry_date.year,
        ReportingPeriod=values.get("ReportingPeriod") or entry_date.month,
        PaymentCondition=condition["Code"] if condition else None,
        PaymentConditionDescription=condition["Description"] if condition else None,
        Currency=ctx.division.header["Currency"],
        Rate=Decimal(1),
        AmountFC=net + tax,
        AmountDC=net + tax,
        VATAmountFC=tax,
        VATAmountDC=tax,
        Type=kind,
        TypeDescription=TYPES[kind],
        Status=20,
        StatusDescription="Open",
        Reversal=bool(values.get("Reversal")),
    )
    return entry


def _next_number(ctx: Context, journal_code: str, entry_date: datetime) -> int:
    """Exact-style numbering per journal and year: 26700001, 26700002, …"""
    prefix = int(f"{entry_date:%y}{journal_code}")
    taken = [
        e["EntryNumber"]
        for e in ctx.division.table("salesentry/SalesEntries").values()
        if e["Journal"] == journal_code and e["EntryNumber"] // 10000 == prefix
    ]
    return max(taken, default=prefix * 10000) + 1


def due_date(entry_date: datetime, condition: dict | None) -> datetime:
    """EntryDate plus the payment days, then to the end of a month if the condition says so."""
    if condition is None:
        return entry_date
    due = entry_date + timedelta(days=condition["PaymentDays"] or 0)
    months = condition["PaymentEndOfMonths"] or 0
    if months:
        month_index = due.month - 1 + months - 1
        year, month = due.year + month_index // 12, month_index % 12 + 1
        due = due.replace(year=year, month=month, day=calendar.monthrange(year, month)[1])
    return due
