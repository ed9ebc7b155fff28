"""Nested value schemas that the record schemas in ``schemas.py`` are built from.

All exclude unknown keys; shapes are documented per schema. See ``schemas.py`` for the
conventions (Decimal money, UTC datetimes, null scalars as None, missing lists as []).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load

from collector.core.money import round_cents
from collector.core.records import properties
from collector.teamleader.fields import Money, Number, Ref, UtcDateTime, listing, nullable

Str = fields.String


class Base(Schema):
    """Ignore keys we do not know (they come and go without an API version)."""

    class Meta:
        unknown = EXCLUDE


KINDS = {
    "Int": fields.Integer,
    "Bool": fields.Boolean,
    "Date": fields.Date,
    "DateTime": UtcDateTime,
    "Number": Number,
    "Money": Money,
}


def record(spec: str):
    """Give a schema the keys ``spec`` lists: strings unless typed with one of ``KINDS``
    (``days:Int``), null loaded as None unless required (``id!``). Links, nested objects and
    lists are declared in the class body."""
    return properties(spec, KINDS)


def _lifted(data, outer: str, inner: str, name: str):
    """``data`` with ``data[outer][inner]`` copied up as ``data[name]``, when ``outer`` is an
    object; anything else unchanged (the schema then says what is wrong with it)."""
    if isinstance(data, dict) and isinstance(data.get(outer), dict):
        return {**data, name: data[outer].get(inner)}
    return data


@record("type! id!")
class LinkSchema(Base):
    """``{type, id}`` link kept whole (when the type matters, e.g. contact or company)."""


@record("type email")
class EmailSchema(Base):
    """``{type, email}``; type primary|invoicing (companies) or primary (contacts)."""


@record("type number")
class TelephoneSchema(Base):
    """``{type, number}``."""


@record("line_1 postal_code city country addressee")
class AddressSchema(Base):
    """``{line_1, postal_code, city, country, addressee}`` (addressee only on typed addresses)."""


@record("type")
class TypedAddressSchema(AddressSchema):
    """``{type, address: {...}}`` flattened to
    ``{type, line_1, postal_code, city, country, addressee}``."""

    @pre_load
    def _flatten(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("address"), dict):
            return {"type": data.get("type"), **data["address"]}
        return data


@record("type days:Int")
class PaymentTermSchema(Base):
    """``{type: cash|end_of_month|after_invoice_date, days}``."""


class CustomFieldValueSchema(Base):
    """``{definition_id, value}``; value is as sent: str, Decimal/int, list, bool, link or None."""

    definition_id = Ref(data_key="definition", required=True)
    value = fields.Raw(allow_none=True, load_default=None)


@record("rate:Number taxable:Money tax:Money")
class TaxSchema(Base):
    """``{rate, taxable, tax}`` as Decimals."""


@record("currency tax_exclusive:Money tax_inclusive:Money payable:Money due:Money")
class TotalSchema(Base):
    """``{currency, tax_exclusive, tax_inclusive, payable, due, taxes: [TaxSchema]}``.

    Amounts are Decimals; ``currency`` is the currency of the Money objects. ``due`` is what is
    still to be paid (invoices only; credit notes have no ``due``).
    """

    taxes = listing(fields.Nested(TaxSchema))

    @pre_load
    def _currency(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        for key in ("payable", "tax_inclusive", "tax_exclusive", "due"):
            money = data.get(key)
            if isinstance(money, dict) and money.get("currency"):
                return {**data, "currency": money["currency"]}
        return data

    @post_load
    def _to_the_cent(self, data, **kwargs):
        # A document's totals are printed to the cent. Whether the API can send more
        # digits is not documented [?]; if it does, read them as the invoice prints them
        # (half-up), since our money columns refuse fractions of a cent.
        for key in ("tax_exclusive", "tax_inclusive", "payable", "due"):
            if data.get(key) is not None:
                data[key] = round_cents(data[key])
        return data


@record(
    "tax_exclusive:Money tax_exclusive_before_discount:Money tax_inclusive:Money "
    "tax_inclusive_before_discount:Money"
)
class LineTotalSchema(Base):
    """Line totals as Decimals, before and after discount."""


@record("type value:Number description")
class DiscountSchema(Base):
    """``{type: percentage, value: Decimal, description}``."""


@record("quantity:Number description extended_description unit_price:Money unit_price_tax")
class LineItemSchema(Base):
    """``{product_id, product_category_id, quantity, description, extended_description,
    unit_price, unit_price_tax (excluding|including), tax_rate_id, discount, withheld_tax_id,
    total: LineTotalSchema}``."""

    product_id = nullable(Ref, data_key="product")
    product_category_id = nullable(Ref, data_key="product_category")
    tax_rate_id = nullable(Ref, data_key="tax")
    discount = nullable(fields.Nested, DiscountSchema)
    withheld_tax_id = nullable(Ref, data_key="withheld_tax")
    total = nullable(fields.Nested, LineTotalSchema)

    @pre_load
    def _unit_price_tax(self, data, **kwargs):
        return _lifted(data, "unit_price", "tax", "unit_price_tax")


@record("section_title")
class GroupedLinesSchema(Base):
    """``{section_title, line_items: [LineItemSchema]}``; the title can be null (§15.10)."""

    line_items = listing(fields.Nested(LineItemSchema))

    @pre_load
    def _section(self, data, **kwargs):
        return _lifted(data, "section", "title", "section_title")


@record("name vat_number email national_identification_number")
class InvoiceeSchema(Base):
    """``{name, vat_number, email, national_identification_number}`` (email only on .info);
    the customer link is lifted into the document's ``customer_type``/``customer_id``."""

    customer = nullable(fields.Nested, LinkSchema)


@record("paid_at:DateTime currency")
class PaymentSchema(Base):
    """A registered payment: ``{paid_at, amount, currency}``."""

    amount = Money(data_key="payment", required=True)

    @pre_load
    def _currency(self, data, **kwargs):
        return _lifted(data, "payment", "currency", "currency")

    @post_load
    def _to_the_cent(self, data, **kwargs):
        data["amount"] = round_cents(data["amount"])  # as TotalSchema's totals
        return data


@record("rate:Number")
class ExchangeRateSchema(Base):
    """``{from_currency, to_currency, rate}`` (Teamleader's ``from``/``to``)."""

    from_currency = nullable(Str, data_key="from")
    to_currency = nullable(Str, data_key="to")


@record("method reference")
class ExpectedPaymentMethodSchema(Base):
    """``{method, reference}``; method e.g. sepa_direct_debit, bank_transfer."""


@record("action payment_method")
class InvoiceGenerationSchema(Base):
    """``{action: draft|book|book_and_send, payment_method}`` (payment_method e.g. direct_debit)."""
