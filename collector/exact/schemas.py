"""Marshmallow schemas for the records the Exact Online client returns.

Records are plain dicts keyed by Exact's own property names (``EntryID``, ``YourRef``, …).
Every schema excludes unknown keys (``__metadata``, ``__deferred`` links, the hundreds of
properties we do not use) and loads a missing or null property as None. Amounts are
``Decimal`` (bodies are decoded with ``parse_float=Decimal``), dates aware UTC ``datetime``
from Exact's ``"/Date(ms)/"``; padded codes (account ``Code`` to 18, VAT ``Code`` to 3) are
kept as Exact spells them, since filters must use the padded value (reference §2.2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from marshmallow import EXCLUDE, Schema, fields, pre_load

from collector.core.fields import Number, ParsedString, nullable, utc_from_iso

Str = fields.String
Int = fields.Integer
Bool = fields.Boolean

# "/Date(1382667872203)/"; OData v2 may add an offset ("/Date(1382667872203+0060)/") that does
# not change the instant (the milliseconds are UTC); dates before 1970 are negative.
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_exact_date(value: str) -> datetime:
    """``"/Date(ms)/"`` (or an ISO 8601 string) → aware UTC datetime; ValueError otherwise."""
    match = _MS_DATE.match(value.strip())
    if match:
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    return utc_from_iso(value)  # tolerated: what we send Exact is ISO 8601


class ExactDateTime(ParsedString):
    """An Exact date property → aware ``datetime`` in UTC."""

    default_error_messages = {"invalid": "Not a valid Exact date."}
    refused = (ValueError, OverflowError)

    def parse(self, value: str) -> datetime:
        return parse_exact_date(value)


class Amount(Number):
    """An Edm.Double amount (decoded as Decimal or int, never float) → ``Decimal``."""

    default_error_messages = {"invalid": "Not a valid amount."}


class Base(Schema):
    """Ignore the keys we do not know; Exact adds properties without a version."""

    class Meta:
        unknown = EXCLUDE


class MeSchema(Base):
    """``current/Me``: the user, and the division they last had open."""

    CurrentDivision = nullable(Int)
    AccountingDivision = nullable(Int)
    UserID = nullable(Str)
    UserName = nullable(Str)
    FullName = nullable(Str)
    Email = nullable(Str)
    LanguageCode = nullable(Str)
    Legislation = nullable(Str)
    DivisionCustomer = nullable(Str)
    DivisionCustomerName = nullable(Str)


class DivisionSchema(Base):
    """``system/Divisions``: an administration the user may open."""

    Code = Int(required=True)
    Description = nullable(Str)
    CustomerName = nullable(Str)
    Country = nullable(Str)
    Currency = nullable(Str)
    VATNumber = nullable(Str)
    HID = nullable(Int)
    Main = nullable(Bool)
    Status = nullable(Int)
    BlockingStatus = nullable(Int)


class JournalSchema(Base):
    """``financial/Journals``; ``Code`` goes into ``SalesEntries.Journal``; ``Type`` 20 sales,
    21 return invoice."""

    ID = Str(required=True)
    Code = Str(required=True)
    Description = nullable(Str)
    Type = nullable(Int)
    IsBlocked = nullable(Bool)
    Currency = nullable(Str)


class VATCodeSchema(Base):
    """``vat/VATCodes``; ``Code`` padded to 3, ``Percentage`` a fraction (0.21), ``Type``
    E excl./I incl./N none/B base only, ``VATTransactionType`` S/P/B."""

    ID = Str(required=True)
    Code = Str(required=True)
    Description = nullable(Str)
    Percentage = nullable(Amount)
    Type = nullable(Str)
    VATTransactionType = nullable(Str)
    IsBlocked = nullable(Bool)


class GLAccountSchema(Base):
    """``financial/GLAccounts``; lines need ``ID``; ``Type`` 110 is revenue."""

    ID = Str(required=True)
    Code = Str(required=True)
    Description = nullable(Str)
    Type = nullable(Int)
    BalanceType = nullable(Str)
    IsBlocked = nullable(Bool)
    VATCode = nullable(Str)


class PaymentConditionSchema(Base):
    """``cashflow/PaymentConditions``; ``Code`` goes into ``SalesEntries.PaymentCondition``."""

    ID = nullable(Str)
    Code = Str(required=True)
    Description = nullable(Str)
    PaymentDays = nullable(Int)
    PaymentEndOfMonths = nullable(Int)
    PaymentMethod = nullable(Str)
    # Not selected: the discount fields' names differ between the reference (§7,
    # "DiscountPercentage") and picqer's generated model ("Percentage"), and an unknown
    # name in $select fails the whole call. We only need the code and its days.


class DocumentTypeSchema(Base):
    """``documents/DocumentTypes``; ``ID`` is an integer (10 "Sales invoice")."""

    ID = Int(required=True)
    Description = nullable(Str)
    TypeCategory = nullable(Int)
    DocumentIsCreatable = nullable(Bool)


class AccountSchema(Base):
    """``crm/Accounts``; ``ID`` goes into ``SalesEntries.Customer``; ``Status`` C customer."""

    ID = Str(required=True)
    Code = nullable(Str)
    Name = nullable(Str)
    Status = nullable(Str)
    IsSales = nullable(Bool)
    Blocked = nullable(Bool)
    Email = nullable(Str)
    Phone = nullable(Str)
    VATNumber = nullable(Str)
    ChamberOfCommerce = nullable(Str)
    AddressLine1 = nullable(Str)
    Postcode = nullable(Str)
    City = nullable(Str)
    Country = nullable(Str)
    Language = nullable(Str)
    SearchCode = nullable(Str)
    PaymentConditionSales = nullable(Str)
    SalesVATCode = nullable(Str)
    Created = nullable(ExactDateTime)
    Modified = nullable(ExactDateTime)


class SalesEntryLineSchema(Base):
    """A line of a sales entry (present only when the lines were expanded)."""

    ID = nullable(Str)
    LineNumber = nullable(Int)
    GLAccount = nullable(Str)
    Description = nullable(Str)
    AmountFC = nullable(Amount)
    VATCode = nullable(Str)
    VATAmountFC = nullable(Amount)


class SalesEntrySchema(Base):
    """``salesentry/SalesEntries``; store ``EntryID``. ``SalesEntryLines`` is a list, or None
    when Exact sent only a ``__deferred`` link."""

    EntryID = Str(required=True)
    EntryNumber = nullable(Int)
    InvoiceNumber = nullable(Int)
    YourRef = nullable(Str)
    Customer = nullable(Str)
    Journal = nullable(Str)
    Type = nullable(Int)
    Status = nullable(Int)
    Description = nullable(Str)
    EntryDate = nullable(ExactDateTime)
    DueDate = nullable(ExactDateTime)
    AmountFC = nullable(Amount)
    AmountDC = nullable(Amount)
    VATAmountFC = nullable(Amount)
    Currency = nullable(Str)
    PaymentCondition = nullable(Str)
    PaymentReference = nullable(Str)
    Document = nullable(Str)
    SalesEntryLines = nullable(fields.List, fields.Nested(SalesEntryLineSchema))

    @pre_load
    def _lines(self, data, **kwargs):
        lines = data.get("SalesEntryLines") if isinstance(data, dict) else None
        if isinstance(lines, dict):
            # {"__deferred": {...}}, or {"results": [...]} when expanded in OData v2 style.
            data = {**data, "SalesEntryLines": lines.get("results")}
        return data


class DocumentSchema(Base):
    """``documents/Documents``; its ``ID`` goes into ``SalesEntries.Document``."""

    ID = Str(required=True)
    Subject = nullable(Str)
    Type = nullable(Int)
    TypeDescription = nullable(Str)
    Account = nullable(Str)
    DocumentDate = nullable(ExactDateTime)
    FinancialTransactionEntryID = nullable(Str)
    Created = nullable(ExactDateTime)


class DocumentAttachmentSchema(Base):
    """``documents/DocumentAttachments``; ``Attachment`` comes back null, so it is left out."""

    ID = Str(required=True)
    Document = nullable(Str)
    FileName = nullable(Str)
    FileSize = nullable(Amount)
    Url = nullable(Str)


class ReceivableSchema(Base):
    """``cashflow/Receivables``: one term of a sales entry (``TransactionEntryID`` is its
    ``EntryID``); ``Status`` 20 open, 30 selected, 40 processed, 50 matched."""

    ID = nullable(Str)
    TransactionEntryID = nullable(Str)
    EntryNumber = nullable(Int)
    InvoiceNumber = nullable(Int)
    YourRef = nullable(Str)
    AmountFC = nullable(Amount)
    AmountDC = nullable(Amount)
    TransactionAmountFC = nullable(Amount)
    IsFullyPaid = nullable(Bool)
    Status = nullable(Int)
    DueDate = nullable(ExactDateTime)
    LastPaymentDate = nullable(ExactDateTime)
    EndDate = nullable(ExactDateTime)
    Currency = nullable(Str)
