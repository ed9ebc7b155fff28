"""Nested value schemas that the record schemas in ``schemas.py`` are built from.

All exclude unknown keys; shapes are documented per schema. See ``schemas.py`` for the
conventions (Decimal money, UTC datetimes, null scalars as None, missing lists as []).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load

from collector.core.money import round_cents
from collector.teamleader.fields import Money, Number, Ref, UtcDateTime, listing, nullable

Str = fields.String


class Base(Schema):
    """Ignore keys we do not know (they come and go without an API version)."""

    class Meta:
        unknown = EXCLUDE


def _lifted(data, outer: str, inner: str, name: str):
    """``data`` with ``data[outer][inner]`` copied up as ``data[name]``, when ``outer`` is an
    object; anything else unchanged (the schema then says what is wrong with it)."""
    if isinstance(data, dict) and isinstance(data.get(outer), dict):
        return {**data, name: data[outer].get(inner)}
    return data


class LinkSchema(Base):
    """``{type, id}`` link kept whole (when the type matters, e.g. contact or company)."""

    type = Str(required=True)
    id = Str(required=True)


class EmailSchema(Base):
    """``{type, email}``; type primary|invoicing (companies) or primary (contacts)."""

    type = nullable(Str)
    email = nullable(Str)


class TelephoneSchema(Base):
    """``{type, number}``."""

    type = nullable(Str)
    number = nullable(Str)


class AddressSchema(Base):
    """``{line_1, postal_code, city, country, addressee}`` (addressee only on typed addresses)."""

    line_1 = nullable(Str)
    postal_code = nullable(Str)
    city = nullable(Str)
    country = nullable(Str)
    addressee = nullable(Str)


class TypedAddressSchema(AddressSchema):
    """``{type, address: {...}}`` flattened to
    ``{type, line_1, postal_code, city, country, addressee}``."""

    type = nullable(Str)

    @pre_load
    def _flatten(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("address"), dict):
            return {"type": data.get("type"), **data["address"]}
        return data


class PaymentTermSchema(Base):
    """``{type: cash|end_of_month|after_invoice_date, days}``."""

    type = nullable(Str)
    days = nullable(fields.Integer)


class CustomFieldValueSchema(Base):
    """``{definition_id, value}``; value is as sent: str, Decimal/int, list, bool, link or None."""

    definition_id = Ref(data_key="definition", required=True)
    value = fields.Raw(allow_none=True, load_default=None)


class TaxSchema(Base):
    """``{rate, taxable, tax}`` as Decimals."""

    rate = nullable(Number)
    taxable = nullable(Money)
    tax = nullable(Money)


class TotalSchema(Base):
    """``{currency, tax_exclusive, tax_inclusive, payable, due, taxes: [TaxSchema]}``.

    Amounts are Decimals; ``currency`` is the currency of the Money objects. ``due`` is what is
    still to be paid (invoices only; credit notes have no ``due``).
    """

    currency = nullable(Str)
    tax_exclusive = nullable(Money)
    tax_inclusive = nullable(Money)
    payable = nullable(Money)
    due = nullable(Money)
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


class LineTotalSchema(Base):
    """Line totals as Decimals, before and after discount."""

    tax_exclusive = nullable(Money)
    tax_exclusive_before_discount = nullable(Money)
    tax_inclusive = nullable(Money)
    tax_inclusive_before_discount = nullable(Money)


class DiscountSchema(Base):
    """``{type: percentage, value: Decimal, description}``."""

    type = nullable(Str)
    value = nullable(Number)
    description = nullable(Str)


class LineItemSchema(Base):
    """``{product_id, product_category_id, quantity, description, extended_description,
    unit_price, unit_price_tax (excluding|including), tax_rate_id, discount, withheld_tax_id,
    total: LineTotalSchema}``."""

    product_id = nullable(Ref, data_key="product")
    product_category_id = nullable(Ref, data_key="product_category")
    quantity = nullable(Number)
    description = nullable(Str)
    extended_description = nullable(Str)
    unit_price = nullable(Money)
    unit_price_tax = nullable(Str)
    tax_rate_id = nullable(Ref, data_key="tax")
    discount = nullable(fields.Nested, DiscountSchema)
    withheld_tax_id = nullable(Ref, data_key="withheld_tax")
    total = nullable(fields.Nested, LineTotalSchema)

    @pre_load
    def _unit_price_tax(self, data, **kwargs):
        return _lifted(data, "unit_price", "tax", "unit_price_tax")


class GroupedLinesSchema(Base):
    """``{section_title, line_items: [LineItemSchema]}``; the title can be null (§15.10)."""

    section_title = nullable(Str)
    line_items = listing(fields.Nested(LineItemSchema))

    @pre_load
    def _section(self, data, **kwargs):
        return _lifted(data, "section", "title", "section_title")


class InvoiceeSchema(Base):
    """``{name, vat_number, email, national_identification_number}`` (email only on .info);
    the customer link is lifted into the document's ``customer_type``/``customer_id``."""

    name = nullable(Str)
    vat_number = nullable(Str)
    email = nullable(Str)
    national_identification_number = nullable(Str)
    customer = nullable(fields.Nested, LinkSchema)


class PaymentSchema(Base):
    """A registered payment: ``{paid_at, amount, currency}``."""

    paid_at = nullable(UtcDateTime)
    amount = Money(data_key="payment", required=True)
    currency = nullable(Str)

    @pre_load
    def _currency(self, data, **kwargs):
        return _lifted(data, "payment", "currency", "currency")

    @post_load
    def _to_the_cent(self, data, **kwargs):
        data["amount"] = round_cents(data["amount"])  # as TotalSchema's totals
        return data


class ExchangeRateSchema(Base):
    """``{from_currency, to_currency, rate}`` (Teamleader's ``from``/``to``)."""

    from_currency = nullable(Str, data_key="from")
    to_currency = nullable(Str, data_key="to")
    rate = nullable(Number)


class ExpectedPaymentMethodSchema(Base):
    """``{method, reference}``; method e.g. sepa_direct_debit, bank_transfer."""

    method = nullable(Str)
    reference = nullable(Str)


class InvoiceGenerationSchema(Base):
    """``{action: draft|book|book_and_send, payment_method}`` (payment_method e.g. direct_debit)."""

    action = nullable(Str)
    payment_method = nullable(Str)
