"""Customers: the list, one customer (profile and number for admins), the CSV export."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from collector.core.errors import Invalid
from collector.documents import customers, profiles
from collector.documents.forms import CustomerForm
from collector.documents.models import Customer
from collector.runtime.views import list_page, or_404, protect, saved
from collector.web import overview

bp = protect(Blueprint("customers", __name__))

DOCUMENTS_SHOWN = 20  # on the customer's page; the overview, filtered, has them all


@bp.get("/customers/")
def index():
    shown = profiles.list_profiles()
    return list_page("customers/index.html", customers.search_customers, profiles=shown)


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
def detail(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = CustomerForm()
    form.offer(profiles.list_profiles())
    if not form.is_submitted():
        form.load(customer)
    if form.validate_on_submit() and saved(form, lambda d: customers.update_customer(customer, d)):
        flash(f"Customer “{customer.name}” saved.", "success")
        return redirect(url_for("customers.detail", customer_id=customer.id))
    document_page = overview.search_invoices(
        overview.InvoiceFilter(customer_id=customer.id), per_page=DOCUMENTS_SHOWN
    )
    page = render_template(
        "customers/detail.html", customer=customer, form=form, document_page=document_page
    )
    return page, 400 if form.errors else 200


@bp.get("/customers.csv")
def export():
    try:
        args = customers.parse_query(request.args)
    except Invalid as exc:
        abort(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
    rows = customers.customers_for_export(args["q"], args["profile_id"])
    # stream_with_context keeps the database session open while the body is sent.
    body = stream_with_context(customers.customers_csv(rows))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=customers.csv"},
    )


def _customer_or_404(customer_id: int) -> Customer:
    return or_404(customers.get_customer, customer_id)
