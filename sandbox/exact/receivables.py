"""``cashflow/Receivables``: one open receivable per booked sales entry, and payments.

Reference §8: ``TransactionEntryID`` is the sales entry's ``EntryID``; ``AmountDC`` and
``AmountFC`` the total including VAT; ``Status`` 20 open, 50 matched; ``IsFullyPaid``.
Payments come only from the control API (the user matching a bank line in Exact).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from . import entities
from .clock import as_day
from .context import Context


def open_for(ctx: Context, entry: dict, condition: dict | None) -> dict:
    """Create the receivable of a sales entry."""
    customer = ctx.get("crm/Accounts", entry["Customer"])
    ar = ctx.find("financial/GLAccounts", "Code", "400000") or {}
    record = entities.lookup("cashflow/Receivables").blank()
    record.update(ctx.audit())
    total = entry["AmountFC"]
    record.update(
        ID=uuid.uuid4(),
        Account=customer["ID"],
        AccountCode=customer["Code"],
        AccountName=customer["Name"],
        AmountDC=total,
        AmountFC=total,
        TransactionAmountDC=total,
        TransactionAmountFC=total,
        AmountDiscountDC=Decimal(0),
        AmountDiscountFC=Decimal(0),
        Currency=entry["Currency"],
        Description=entry["Description"],
        DueDate=entry["DueDate"],
        TransactionDueDate=entry["DueDate"],
        EntryDate=entry["EntryDate"],
        InvoiceDate=entry["EntryDate"],
        EntryID=uuid.uuid4(),
        EntryNumber=entry["EntryNumber"],
        InvoiceNumber=entry["InvoiceNumber"],
        GLAccount=ar.get("ID"),
        GLAccountCode=ar.get("Code"),
        GLAccountDescription=ar.get("Description"),
        IsFullyPaid=False,
        Journal=entry["Journal"],
        JournalDescription=entry["JournalDescription"],
        PaymentCondition=entry["PaymentCondition"],
        PaymentConditionDescription=entry["PaymentConditionDescription"],
        PaymentDays=condition["PaymentDays"] if condition else 0,
        PaymentMethod=condition["PaymentMethod"] if condition else None,
        PaymentReference=entry["PaymentReference"],
        RateFC=Decimal(1),
        Source=1,
        Status=20,
        TransactionEntryID=entry["EntryID"],
        TransactionIsReversal=False,
        TransactionReportingPeriod=entry["ReportingPeriod"],
        TransactionReportingYear=entry["ReportingYear"],
        TransactionStatus=entry["Status"],
        TransactionType=entry["Type"],
        YourRef=entry["YourRef"],
    )
    record["_paid"] = Decimal(0)
    ctx.division.table("cashflow/Receivables")[record["ID"]] = record
    return record


def for_entry(division, entry_id: uuid.UUID) -> list[dict]:
    """The receivables of a sales entry."""
    rows = division.table("cashflow/Receivables").values()
    return [r for r in rows if r["TransactionEntryID"] == entry_id]


def pay(record: dict, amount: Decimal | None, when: datetime) -> dict:
    """Register a payment (all that is due when ``amount`` is None)."""
    due = record["AmountDC"] - record["_paid"]
    record["_paid"] += due if amount is None else amount
    fully = abs(record["_paid"]) >= abs(record["AmountDC"])
    record.update(IsFullyPaid=fully, LastPaymentDate=as_day(when), Modified=when)
    if fully:
        record.update(Status=50, EndDate=as_day(when), EndYear=when.year, EndPeriod=when.month)
    return record
