"""marshmallow schemas of the API's resources."""

from marshmallow import RAISE, Schema, fields, validate

from collector.models import CustomerKind, DocumentKind, InvoiceState


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
    vat_number = fields.String()
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
