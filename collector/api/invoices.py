"""/api/v1/invoices: the documents overview (same filters as the web), one document, its
payments, and marking it paid or archiving it."""

from flask import g, jsonify, request
from marshmallow import ValidationError

from collector.accounts.models.api_key import WRITE_PAYMENTS
from collector.api import bp, error, json_body, paged, requires
from collector.api.schemas import (
    ArchiveSchema,
    InvoiceEventSchema,
    InvoiceSchema,
    MarkPaidSchema,
    PaymentSchema,
    TeamleaderSyncSchema,
)
from collector.core.errors import Invalid
from collector.documents import changes
from collector.extensions import db
from collector.web import overview

schema = InvoiceSchema()
event_schema = InvoiceEventSchema()
payment_schema = PaymentSchema()
sync_schema = TeamleaderSyncSchema()
mark_paid_schema = MarkPaidSchema()
archive_schema = ArchiveSchema()


@bp.get("/invoices")
def list_invoices():
    result = overview.search_invoices(**overview.parse_query(request.args))
    return paged(result, schema)


@bp.get("/invoices/<int:invoice_id>")
def get_invoice(invoice_id: int):
    """The list item, plus the invoice a credit note credits, the timeline (newest first)
    and the Teamleader sync (null when Teamleader was never owed anything)."""
    return _detail(invoice_id)


@bp.get("/invoices/<int:invoice_id>/payments")
def list_payments(invoice_id: int):
    """The payment ledger, oldest first, cancelled rows included."""
    invoice = overview.get_invoice(invoice_id)
    return jsonify(data=payment_schema.dump(overview.payments_of(invoice), many=True))


@bp.post("/invoices/<int:invoice_id>/mark-paid")
@requires(WRITE_PAYMENTS)
def mark_paid(invoice_id: int):
    return _change(
        mark_paid_schema,
        lambda data: changes.mark_paid(invoice_id, actor=_actor(), **data),
    )


@bp.post("/invoices/<int:invoice_id>/archive")
@requires(WRITE_PAYMENTS)
def archive(invoice_id: int):
    return _change(
        archive_schema,
        lambda data: changes.archive(invoice_id, actor=_actor(), **data),
    )


def _change(body_schema, change):
    """Load the body and run ``change`` with it; a field the schema or the service
    refuses is a 422 naming it, a state that forbids the change a 409."""
    try:
        invoice = change(body_schema.load(json_body()))
    except ValidationError as exc:
        return error("The request has invalid fields.", 422, exc.messages)
    except Invalid as exc:
        db.session.rollback()
        return error(str(exc), 422, exc.errors)
    return _detail(invoice.id)


def _detail(invoice_id: int):
    found = overview.invoice_detail(invoice_id)
    sync = found.invoice.teamleader_sync
    data = schema.dump(found.invoice)
    data["credited_invoice_id"] = found.invoice.credited_invoice_id
    data["teamleader_sync"] = sync_schema.dump(sync) if sync is not None else None
    data["events"] = event_schema.dump(found.events, many=True)
    return jsonify(data=data)


def _actor() -> str:
    return f"api:{g.api_key.name}"
