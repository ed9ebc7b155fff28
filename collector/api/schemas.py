"""marshmallow schemas of the API's resources."""

from datetime import UTC
from functools import partial

from marshmallow import RAISE, Schema, fields, validate

from collector.core.records import properties
from collector.documents.models import (
    CustomerKind,
    DocumentKind,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.teamleader.models import ImportSource, ImportStatus, SyncStatus

# The resources' plain attributes, by the type they are written as: money as a string
# (exact), enums by their value.
ENUMS = (
    CustomerKind,
    DocumentKind,
    ImportSource,
    ImportStatus,
    InvoiceState,
    PaymentKind,
    PaymentSource,
    SyncStatus,
)
KINDS = {
    "Int": fields.Integer,
    "Bool": fields.Boolean,
    "Date": fields.Date,
    "DateTime": fields.AwareDateTime,
    "Money": partial(fields.Decimal, as_string=True),
    "Dict": fields.Dict,
    **{enum.__name__: partial(fields.Enum, enum, by_value=True) for enum in ENUMS},
}


def resource(spec: str):
    """Give an output schema the attributes ``spec`` lists: strings unless typed with one of
    ``KINDS`` (``id:Int``, ``state:InvoiceState``); the class body declares the rest."""
    return properties(spec, KINDS, nullable=False)


class ProfileSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelled field is an error, not silently ignored

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    allow_direct_debit = fields.Boolean(load_default=False)
    allow_b2b_mandates = fields.Boolean(load_default=False)
    allow_payment_link = fields.Boolean(load_default=False)
    allow_bank_transfer = fields.Boolean(load_default=False)
    send_invitation_on_import = fields.Boolean(load_default=False)
    invitation_requires_pdf = fields.Boolean(load_default=False)
    # The dunning schedule, edited in the UI: [{"kind": "reminder", "days": 7}, …].
    dunning_steps = fields.Method("_steps", dump_only=True)
    payment_methods = fields.List(fields.String(), dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)

    def _steps(self, profile) -> list[dict]:
        return [{"kind": s.kind.value, "days": s.days} for s in profile.dunning_steps]


@resource(
    "id:Int kind:DocumentKind number state:InvoiceState amount_due:Money currency "
    "invoice_date:Date due_date:Date profile_id:Int pdf_available:Bool teamleader_id"
)
class InvoiceSchema(Schema):
    """A document in lists: money as strings (exact), dates as ISO 8601."""

    amount = fields.Decimal(as_string=True, attribute="total_incl_vat")
    customer_number = fields.String(attribute="customer.customer_number")


@resource("kind occurred_at:DateTime actor message details:Dict")
class InvoiceEventSchema(Schema):
    """An event on a document's timeline."""


@resource(
    "id:Int occurred_at:DateTime source:PaymentSource kind:PaymentKind amount:Money currency "
    "reference reason counts:Bool cancelled_at:DateTime cancel_reason"
)
class PaymentSchema(Schema):
    """A ledger row (``invoices.PaymentLine``): reversals have a negative amount."""


@resource("status:SyncStatus last_error synced_at:DateTime")
class TeamleaderSyncSchema(Schema):
    """Where the document's payments stand in Teamleader."""


class ArchiveSchema(Schema):
    class Meta:
        unknown = RAISE

    # Blank or too long is the service's rule (one message for the web and the API).
    reason = fields.String(required=True)


class MarkPaidSchema(ArchiveSchema):
    paid_at = fields.AwareDateTime(load_default=None, default_timezone=UTC)


@resource(
    "id:Int customer_number teamleader_id kind:CustomerKind name email language address_line "
    "postal_code city country vat_number vat_compact vat_warning profile_id:Int"
)
class CustomerSchema(Schema):
    """A customer. ``vat_number`` is as typed in Teamleader; ``vat_compact`` is checked and
    compact, null when blank or not valid; ``vat_warning`` says why it is not valid, else null."""


class ImportRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    date_from = fields.Date(required=True, data_key="from")
    date_to = fields.Date(required=True, data_key="to")
    # Mail overdue and older documents too; otherwise their invitations are held.
    mail_old_documents = fields.Boolean(load_default=False)


@resource(
    "id:Int source:ImportSource status:ImportStatus counts:Dict api_calls:Dict error "
    "created_at:DateTime started_at:DateTime finished_at:DateTime deleted_at:DateTime"
)
class ImportSchema(Schema):
    """An import of documents from Teamleader, its counts and problems. ``status``:
    queued, running, finished, failed, interrupted (its worker stopped; what it imported
    stays: resume or delete it) or deleted; failed and interrupted ones can be resumed."""

    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    problems = fields.List(fields.Dict())
