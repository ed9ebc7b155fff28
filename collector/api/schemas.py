"""marshmallow schemas of the API's resources."""

from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate

from collector.documents.models import (
    CustomerKind,
    DocumentKind,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.teamleader.models import SyncStatus


class ProfileSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, not silently ignored

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    allow_direct_debit = fields.Boolean(load_default=False)
    allow_payment_link = fields.Boolean(load_default=False)
    allow_bank_transfer = fields.Boolean(load_default=False)
    send_invitation_on_import = fields.Boolean(load_default=False)
    invitation_requires_pdf = fields.Boolean(load_default=False)
    reminder_days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=365)),
        load_default=list,
        validate=validate.Length(max=10),
    )
    payment_methods = fields.List(fields.String(), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class InvoiceSchema(Schema):
    """A document in lists: money as strings (exact), dates as ISO 8601."""

    id = fields.Integer()
    kind = fields.Enum(DocumentKind, by_value=True)
    number = fields.String()
    state = fields.Enum(InvoiceState, by_value=True)
    amount = fields.Decimal(as_string=True, attribute="total_incl_vat")
    amount_due = fields.Decimal(as_string=True)
    currency = fields.String()
    invoice_date = fields.Date()
    due_date = fields.Date()
    customer_number = fields.String(attribute="customer.customer_number")
    profile_id = fields.Integer()
    pdf_available = fields.Boolean()
    teamleader_id = fields.String()


class InvoiceEventSchema(Schema):
    kind = fields.String()
    occurred_at = fields.AwareDateTime()
    actor = fields.String()
    message = fields.String()
    details = fields.Dict()


class PaymentSchema(Schema):
    """A ledger row (``invoices.PaymentLine``): reversals have a negative amount."""

    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    source = fields.Enum(PaymentSource, by_value=True)
    kind = fields.Enum(PaymentKind, by_value=True)
    amount = fields.Decimal(as_string=True)
    currency = fields.String()
    reference = fields.String()
    reason = fields.String()
    counts = fields.Boolean()
    cancelled_at = fields.AwareDateTime()
    cancel_reason = fields.String()


class TeamleaderSyncSchema(Schema):
    status = fields.Enum(SyncStatus, by_value=True)
    last_error = fields.String()
    synced_at = fields.AwareDateTime()


class ArchiveSchema(Schema):
    class Meta:
        unknown = RAISE

    # Blank or too long is the service's rule (one message for the web and the API).
    reason = fields.String(required=True)


class MarkPaidSchema(ArchiveSchema):
    paid_at = fields.AwareDateTime(load_default=None, default_timezone=UTC)


class CustomerSchema(Schema):
    id = fields.Integer()
    customer_number = fields.String()
    teamleader_id = fields.String()
    kind = fields.Enum(CustomerKind, by_value=True)
    name = fields.String()
    email = fields.String()
    language = fields.String()
    address_line = fields.String()
    postal_code = fields.String()
    city = fields.String()
    country = fields.String()
    vat_number = fields.String()  # as typed in Teamleader
    vat_compact = fields.String()  # checked and compact; null when blank or not valid
    vat_warning = fields.String()  # why the VAT number is not valid, else null
    profile_id = fields.Integer()


class ImportRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")


class ImportSchema(Schema):
    id = fields.Integer()
    source = fields.Function(lambda imp: imp.source.value)
    status = fields.Function(lambda imp: imp.status.value)
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    counts = fields.Dict()
    problems = fields.List(fields.Dict())
    api_calls = fields.Dict()
    error = fields.String()
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime()
    deleted_at = fields.AwareDateTime()
