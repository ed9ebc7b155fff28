"""Marshmallow schemas for the records the Teamleader client returns.

Every schema excludes unknown keys: Teamleader adds fields without a new API version (§2).
Records are plain dicts with Teamleader's snake_case keys; links ``{type, id}`` are flattened
to ``<name>_id`` (``department_id``, ``subscription_id``), the invoicee's customer link to
``customer_type``/``customer_id``. Money is ``Decimal``, ``*_on``/``*_date`` are ``date``,
``*_at`` are aware UTC ``datetime``. Scalars the API may send as null load as ``None``, lists
as ``[]``; keys the list endpoints do not return are present with ``None``/``[]``. Plain keys
are listed with ``@record`` (``components``); links, nested objects and lists are declared in
the class body.
"""

from __future__ import annotations

from marshmallow import fields, post_load, pre_load

from collector.teamleader.components import (
    AddressSchema,
    Base,
    CustomFieldValueSchema,
    DiscountSchema,
    EmailSchema,
    ExchangeRateSchema,
    ExpectedPaymentMethodSchema,
    GroupedLinesSchema,
    InvoiceeSchema,
    InvoiceGenerationSchema,
    PaymentSchema,
    PaymentTermSchema,
    TelephoneSchema,
    TotalSchema,
    TypedAddressSchema,
    record,
)
from collector.teamleader.fields import Option, Ref, listing, nullable

Str = fields.String


def _lift_customer(data: dict) -> dict:
    """Move ``invoicee.customer`` to top-level ``customer_type`` and ``customer_id``."""
    invoicee = data.get("invoicee") or {}
    customer = invoicee.pop("customer", None) or {}
    data["customer_type"] = customer.get("type")
    data["customer_id"] = customer.get("id")
    return data


@record(
    "id! status paid:Bool paid_at:DateTime currency peppol_status web_url created_at:DateTime "
    "updated_at:DateTime"
)
class DocumentSchema(Base):
    """Fields shared by invoices and credit notes (see ``InvoiceSchema``)."""

    department_id = nullable(Ref, data_key="department")
    invoicee = nullable(fields.Nested, InvoiceeSchema)
    total = nullable(fields.Nested, TotalSchema)
    currency_exchange_rate = nullable(fields.Nested, ExchangeRateSchema)
    discounts = listing(fields.Nested(DiscountSchema))
    grouped_lines = listing(fields.Nested(GroupedLinesSchema))

    @post_load
    def _normalise(self, data, **kwargs):
        _lift_customer(data)
        # invoices.list and creditNotes.list have no top-level currency; the totals do.
        if data["currency"] is None and data["total"]:
            data["currency"] = data["total"]["currency"]
        return data


@record(
    "invoice_number invoice_date:Date due_on:Date sent:Bool purchase_order_number "
    "payment_reference on_hold_since:Date"
)
class InvoiceSchema(DocumentSchema):
    """An invoice from invoices.list or invoices.info.

    ``{id, department_id, invoice_number, invoice_date, due_on, status (draft|outstanding|matched),
    paid, paid_at, sent, purchase_order_number, payment_reference, on_hold_since,
    customer_type (contact|company), customer_id, invoicee: InvoiceeSchema,
    total: TotalSchema, currency, currency_exchange_rate, subscription_id, deal_id, project_id,
    web_url, peppol_status, created_at, updated_at}`` and, filled by invoices.info only (empty on
    list items): ``payment_term, payments: [PaymentSchema], expected_payment_method,
    custom_fields: [CustomFieldValueSchema], discounts, grouped_lines: [GroupedLinesSchema]``.
    ``subscription_id`` comes only from invoices.list (§6.2).
    """

    payment_term = nullable(fields.Nested, PaymentTermSchema)
    payments = listing(fields.Nested(PaymentSchema))
    expected_payment_method = nullable(fields.Nested, ExpectedPaymentMethodSchema)
    custom_fields = listing(fields.Nested(CustomFieldValueSchema))
    subscription_id = nullable(Ref, data_key="subscription")
    deal_id = nullable(Ref, data_key="deal")
    project_id = nullable(Ref, data_key="project")


@record("credit_note_number credit_note_date:Date")
class CreditNoteSchema(DocumentSchema):
    """A credit note from creditNotes.list or creditNotes.info.

    ``{id, department_id, credit_note_number, credit_note_date, status (booked), invoice_id
    (None when it credits no invoice), paid, paid_at, customer_type, customer_id,
    invoicee: InvoiceeSchema, total: TotalSchema without due, currency, currency_exchange_rate,
    web_url, peppol_status, created_at, updated_at}``; info adds ``discounts, grouped_lines``.
    """

    invoice_id = nullable(Ref, data_key="invoice")
    total = nullable(fields.Nested, TotalSchema, exclude=("due",))


@record(
    "id! status vat_number national_identification_number website iban bic language "
    "added_at:DateTime updated_at:DateTime web_url"
)
class PartySchema(Base):
    """Fields shared by contacts and companies (see ``ContactSchema``)."""

    emails = listing(fields.Nested(EmailSchema))
    telephones = listing(fields.Nested(TelephoneSchema))
    primary_address = nullable(fields.Nested, AddressSchema)
    addresses = listing(fields.Nested(TypedAddressSchema))
    payment_term = nullable(fields.Nested, PaymentTermSchema)
    custom_fields = listing(fields.Nested(CustomFieldValueSchema))
    tags = listing(Str())

    @post_load
    def _primary_address(self, data, **kwargs):
        # .list returns primary_address, .info only addresses[] (§8): fill one from the other.
        if data["primary_address"] is None:
            primary = [a for a in data["addresses"] if a.get("type") == "primary"]
            if primary:
                data["primary_address"] = {k: v for k, v in primary[0].items() if k != "type"}
        return data


@record("first_name last_name salutation")
class ContactSchema(PartySchema):
    """A contact from contacts.list or contacts.info.

    ``{id, name ("first last"), first_name, last_name, salutation, status, vat_number,
    national_identification_number, emails: [{type, email}], telephones: [{type, number}],
    website, primary_address: AddressSchema, addresses: [{type, line_1, postal_code, city,
    country, addressee}] (info only), iban, bic, language, payment_term, custom_fields (info, or
    list with custom fields included), tags, added_at, updated_at, web_url}``.
    """

    @post_load
    def _name(self, data, **kwargs):
        parts = (data["first_name"], data["last_name"])
        data["name"] = " ".join(part for part in parts if part) or None
        return data


@record("name preferred_currency")
class CompanySchema(PartySchema):
    """A company from companies.list or companies.info.

    ``{id, name, status, vat_number, national_identification_number, emails: [{type
    (primary|invoicing), email}], telephones, website, primary_address, addresses (info only),
    iban, bic, language, preferred_currency, payment_term, custom_fields, tags, added_at,
    updated_at, web_url}`` — same shapes as ``ContactSchema``.
    """


@record("id! first_name last_name email language time_zone")
class UserSchema(Base):
    """users.me: ``{id, account_id, first_name, last_name, email, language, time_zone}``.

    ``account_id`` identifies the Teamleader account (tenant) of the connection (§1).
    """

    account_id = Ref(data_key="account", required=True)


@record("id! name vat_number currency status website iban bic fiscal_regime")
class DepartmentSchema(Base):
    """A department (company entity): ``{id, name, vat_number, currency, emails, status}``;
    departments.info adds ``address, telephones, website, iban, bic, fiscal_regime``."""

    emails = listing(fields.Nested(EmailSchema))
    address = nullable(fields.Nested, AddressSchema)
    telephones = listing(fields.Nested(TelephoneSchema))


@record("id! context type label group required:Bool extra_option_allowed:Bool")
class CustomFieldDefinitionSchema(Base):
    """``{id, context, type, label, group, required, options: [{id, value}],
    extra_option_allowed}``; ``options`` is lifted out of ``configuration``."""

    options = listing(Option())

    @pre_load
    def _configuration(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        configuration = data.get("configuration")
        configuration = configuration if isinstance(configuration, dict) else {}
        return {
            **data,
            "options": configuration.get("options"),
            "extra_option_allowed": configuration.get("extra_option_allowed"),
        }


@record(
    "id! title status starts_on:Date ends_on:Date next_renewal_date:Date currency web_url "
    "created_at:DateTime"
)
class SubscriptionSchema(Base):
    """A subscription: ``{id, title, status (active|deactivated), department_id, customer_type,
    customer_id, starts_on, ends_on, next_renewal_date, currency, web_url, created_at}``;
    subscriptions.info adds ``payment_term, custom_fields, invoice_generation``."""

    department_id = nullable(Ref, data_key="department")
    invoicee = nullable(fields.Nested, InvoiceeSchema)
    payment_term = nullable(fields.Nested, PaymentTermSchema)
    custom_fields = listing(fields.Nested(CustomFieldValueSchema))
    invoice_generation = nullable(fields.Nested, InvoiceGenerationSchema)

    @post_load
    def _customer(self, data, **kwargs):
        _lift_customer(data)
        del data["invoicee"]  # a subscription's invoicee is only the customer link
        return data


@record("id! name status")
class PaymentMethodSchema(Base):
    """``{id, name, status (active|archived)}`` — the id is registerPayment's payment_method_id."""


@record("id! description rate:Number!")
class TaxRateSchema(Base):
    """``{id, description, rate (0.21), department: {type, id}}``. Not in our reference: the
    shape is the one Teamleader's API docs and SDKs show; ``rate`` is read as a number or a
    numeric string, and a missing department is tolerated."""

    department_id = nullable(Ref, data_key="department")


@record("url!")
class WebhookSchema(Base):
    """``{url, types: [str]}``."""

    types = listing(Str())


@record("location! expires:DateTime")
class DownloadSchema(Base):
    """``{location, expires}``: a short-lived URL (§6.4) — fetch it at once, never store it."""
