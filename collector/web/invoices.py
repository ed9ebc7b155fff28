"""Invoices and credit notes: the overview with its filters, and one document."""

from flask import Blueprint, abort, current_app, render_template, request, url_for

from collector.extensions import db
from collector.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.services import invoices, profiles
from collector.services import teamleader_connection as tl
from collector.services.errors import Invalid, NotFound
from collector.web import list_args, protect

bp = protect(Blueprint("invoices", __name__, url_prefix="/invoices"))

# The imports screen is its own blueprint; a document links to its import when
# that screen is there.
IMPORT_ENDPOINT = "imports.detail"


@bp.get("/")
def index():
    try:
        args = invoices.parse_query(request.args)
    except Invalid as exc:
        return _overview(None, exc.errors), 400
    customer_id = args["criteria"].customer_id
    customer = db.session.get(Customer, customer_id) if customer_id else None
    return _overview(invoices.search_invoices(**args), {}, customer)


def _overview(result, errors: dict, customer: Customer | None = None) -> str:
    return render_template(
        "invoices/index.html",
        result=result,
        errors=errors,
        values=request.args,
        query=list_args(),
        kinds=list(DocumentKind),
        states=list(InvoiceState),
        profiles=profiles.list_profiles(),
        departments=_departments(),
        customer=customer,
    )


@bp.get("/<int:invoice_id>")
def detail(invoice_id: int):
    try:
        found = invoices.invoice_detail(invoice_id)
    except NotFound as exc:
        abort(404, str(exc))
    invoice = found.invoice
    return render_template(
        "invoices/detail.html",
        invoice=invoice,
        events=found.events,
        credit_notes=found.credit_notes,
        department=_departments().get(invoice.department_id, invoice.department_id),
        import_url=_import_url(invoice),
    )


def _departments() -> dict[str, str]:
    """Teamleader department ids to their names, as read when connecting."""
    connection = tl.current_connection()
    return {d["id"]: d["name"] for d in (connection.departments if connection else [])}


def _import_url(invoice: Invoice) -> str | None:
    if invoice.import_id is None or IMPORT_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(IMPORT_ENDPOINT, import_id=invoice.import_id)
