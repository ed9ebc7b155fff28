"""/api/v1/invoices: the documents overview (same filters as the web), one document."""

from flask import jsonify, request

from collector.api import bp, paged
from collector.api.schemas import InvoiceEventSchema, InvoiceSchema
from collector.services import invoices

schema = InvoiceSchema()
event_schema = InvoiceEventSchema()


@bp.get("/invoices")
def list_invoices():
    result = invoices.search_invoices(**invoices.parse_query(request.args))
    return paged(result, schema)


@bp.get("/invoices/<int:invoice_id>")
def get_invoice(invoice_id: int):
    """The list item, plus the invoice a credit note credits and the timeline (newest first)."""
    found = invoices.invoice_detail(invoice_id)
    data = schema.dump(found.invoice)
    data["credited_invoice_id"] = found.invoice.credited_invoice_id
    data["events"] = event_schema.dump(found.events, many=True)
    return jsonify(data=data)
