"""Marshmallow schemas for the records the Exact Online client returns.

Records are plain dicts keyed by Exact's own property names (``EntryID``, ``YourRef``, …).
Every schema excludes unknown keys (``__metadata``, ``__deferred`` links, the hundreds of
properties we do not use) and loads a missing or null property as None. Amounts are
``Decimal`` (bodies are decoded with ``parse_float=Decimal``), dates aware UTC ``datetime``
from Exact's ``"/Date(ms)/"``; padded codes (account ``Code`` to 18, VAT ``Code`` to 3) are
kept as Exact spells them, since filters must use the padded value (reference §2.2). Each
schema lists its properties with ``@record``, in the order its ``$select`` asks for them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from marshmallow import EXCLUDE, Schema, fields, pre_load

from collector.core.fields import Number, ParsedString, nullable, utc_from_iso
from collector.core.records import properties

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


KINDS = {"Int": Int, "Bool": Bool, "Amount": Amount, "Date": ExactDateTime}


def record(spec: str):
    """Give a schema the Exact properties ``spec`` lists, in ``$select`` order: strings unless
    typed with one of ``KINDS`` (``Type:Int``), null loaded as None unless required (``ID!``)."""
    return properties(spec, KINDS)


@record(
    "CurrentDivision:Int AccountingDivision:Int UserID UserName FullName Email LanguageCode "
    "Legislation DivisionCustomer DivisionCustomerName"
)
class MeSchema(Base):
    """``current/Me``: the user, and the division they last had open."""


@record(
    "Code:Int! Description CustomerName Country Currency VATNumber Hid:Int IsMainDivision:Bool "
    "Status:Int"
)
class DivisionSchema(Base):
    """``system/Divisions``: an administration the user may open. Not ``hrm/Divisions``,
    whose ``HID``/``Main`` are spelled ``Hid``/``IsMainDivision`` here; ``Status`` 0 inactive,
    1 active, 2 archived (``sandbox/exact/fields_master.py`` lists the names, with sources)."""


@record("ID! Code! Description Type:Int IsBlocked:Bool Currency")
class JournalSchema(Base):
    """``financial/Journals``; ``Code`` goes into ``SalesEntries.Journal``; ``Type`` 20 sales,
    21 return invoice."""


@record("ID! Code! Description Percentage:Amount Type VATTransactionType IsBlocked:Bool")
class VATCodeSchema(Base):
    """``vat/VATCodes``; ``Code`` padded to 3, ``Percentage`` a fraction (0.21), ``Type``
    E excl./I incl./N none/B base only, ``VATTransactionType`` S/P/B."""


@record("ID! Code! Description Type:Int BalanceType IsBlocked:Bool VATCode")
class GLAccountSchema(Base):
    """``financial/GLAccounts``; lines need ``ID``; ``Type`` 110 is revenue."""


# Not selected: the discount fields' names differ between the reference (§7,
# "DiscountPercentage") and picqer's generated model ("Percentage"), and an unknown name in
# $select fails the whole call. We only need the code and its days.
@record("ID Code! Description PaymentDays:Int PaymentEndOfMonths:Int PaymentMethod")
class PaymentConditionSchema(Base):
    """``cashflow/PaymentConditions``; ``Code`` goes into ``SalesEntries.PaymentCondition``."""


@record("ID:Int! Description TypeCategory:Int DocumentIsCreatable:Bool")
class DocumentTypeSchema(Base):
    """``documents/DocumentTypes``; ``ID`` is an integer (10 "Sales invoice")."""


@record(
    "ID! Code Name Status IsSales:Bool Blocked:Bool Email Phone VATNumber ChamberOfCommerce "
    "AddressLine1 Postcode City Country Language SearchCode PaymentConditionSales SalesVATCode "
    "Created:Date Modified:Date"
)
class AccountSchema(Base):
    """``crm/Accounts``; ``ID`` goes into ``SalesEntries.Customer``; ``Status`` C customer."""


@record("ID LineNumber:Int GLAccount Description AmountFC:Amount VATCode VATAmountFC:Amount")
class SalesEntryLineSchema(Base):
    """A line of a sales entry (present only when the lines were expanded)."""


@record(
    "EntryID! EntryNumber:Int InvoiceNumber:Int YourRef Customer Journal Type:Int Status:Int "
    "Description EntryDate:Date DueDate:Date AmountFC:Amount AmountDC:Amount VATAmountFC:Amount "
    "Currency PaymentCondition PaymentReference Document"
)
class SalesEntrySchema(Base):
    """``salesentry/SalesEntries``; store ``EntryID``. ``SalesEntryLines`` is a list, or None
    when Exact sent only a ``__deferred`` link."""

    SalesEntryLines = nullable(fields.List, fields.Nested(SalesEntryLineSchema))

    @pre_load
    def _lines(self, data, **kwargs):
        lines = data.get("SalesEntryLines") if isinstance(data, dict) else None
        if isinstance(lines, dict):
            # {"__deferred": {...}}, or {"results": [...]} when expanded in OData v2 style.
            data = {**data, "SalesEntryLines": lines.get("results")}
        return data


@record(
    "ID! Subject Type:Int TypeDescription Account DocumentDate:Date FinancialTransactionEntryID "
    "Created:Date"
)
class DocumentSchema(Base):
    """``documents/Documents``; its ``ID`` goes into ``SalesEntries.Document``."""


@record("ID! Document FileName FileSize:Amount Url")
class DocumentAttachmentSchema(Base):
    """``documents/DocumentAttachments``; ``Attachment`` comes back null, so it is left out."""


@record(
    "ID TransactionEntryID EntryNumber:Int InvoiceNumber:Int YourRef AmountFC:Amount "
    "AmountDC:Amount TransactionAmountFC:Amount IsFullyPaid:Bool Status:Int DueDate:Date "
    "LastPaymentDate:Date EndDate:Date Currency"
)
class ReceivableSchema(Base):
    """``cashflow/Receivables``: one term of a sales entry (``TransactionEntryID`` is its
    ``EntryID``); ``Status`` 20 open, 30 selected, 40 processed, 50 matched."""
