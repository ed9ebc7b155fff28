"""Customers as accounts: the list with what each has open, one customer's balance and
statement (also as CSV), profile and number for admins, the mandates CSV export."""

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
from flask_babel import gettext as _
from marshmallow import fields

from collector.core import clock
from collector.core.errors import Invalid
from collector.direct_debit import statement_lines
from collector.direct_debit.unmandated import customers_without_mandate
from collector.documents import balances, customers, profiles, statements
from collector.documents.forms import CustomerForm
from collector.documents.models import Customer
from collector.dunning import hold_views as dunning_views
from collector.runtime.listing import Page
from collector.runtime.views import download_response, list_args, list_page, or_404, protect, saved

bp = protect(Blueprint("customers", __name__))

# The first click on a column sorts it this way; the next click turns it round.
FIRST_SORT = {"name": "name", "balance": "-balance"}
NO_PERIOD = {"currency": None, "date_from": None, "date_to": None}


@bp.get("/customers/")
def index():
    return list_page(
        "customers/index.html",
        _search_accounts,
        profiles=profiles.list_profiles(),
        sort_links=_sort_links(),
        without_mandate=_asks_without_mandate(),
    )


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
def detail(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = CustomerForm()
    form.offer(profiles.list_profiles())
    if not form.is_submitted():
        form.load(customer)
    if form.validate_on_submit() and saved(form, lambda d: customers.update_customer(customer, d)):
        flash(_("Customer “%(name)s” saved.", name=customer.name), "success")
        return redirect(url_for("customers.detail", customer_id=customer.id))
    try:
        period, errors = statements.parse_statement_query(request.args), {}
    except Invalid as exc:
        period, errors = NO_PERIOD, exc.errors
    page = render_template(
        "customers/detail.html",
        customer=customer,
        form=form,
        errors=errors,
        values=request.args,
        dunning=dunning_views.customer_panel(customer),
        **_account(customer, **period),
    )
    return page, 400 if form.errors or errors else 200


@bp.get("/customers/<int:customer_id>/statement.csv")
def statement_csv(customer_id: int):
    customer = _customer_or_404(customer_id)
    try:
        period = statements.parse_statement_query(request.args)
    except Invalid as exc:
        abort(400, _errors_text(exc))
    shown = _account(customer, **period)["statement"]
    name = f"statement-{customer.id}-{shown.currency}.csv"
    return download_response(statements.statement_csv(shown), name, "text/csv")


@bp.get("/customers.csv")
def export():
    try:
        args = balances.parse_account_query(request.args)  # the list's own, sort and all
    except Invalid as exc:
        abort(400, _errors_text(exc))
    unmandated = customers_without_mandate()
    rows = customers.customers_for_export(*balances.account_conditions(args, unmandated))
    # stream_with_context keeps the database session open while the body is sent.
    body = stream_with_context(customers.customers_csv(rows))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=customers.csv"},
    )


def _search_accounts(args) -> Page:
    # Mandates are direct debit's: the shell tells the documents' list who has none.
    return balances.search_accounts(args, without_mandate=customers_without_mandate())


def _asks_without_mandate() -> bool:
    """Whether the list is filtered to customers without a mandate, read as the list's
    schema reads it (``1``, ``true``, ``on``…), to show the filter as on."""
    given = request.args.get("without_mandate", "").strip()
    return given in fields.Boolean.truthy


def _account(customer: Customer, currency, date_from, date_to) -> dict:
    held = balances.currencies(customer.id)
    currency = currency or held[0]
    shown = statements.statement(
        customer.id,
        currency,
        date_from,
        date_to,
        more=statement_lines.collection_lines(customer.id),
    )
    owed = balances.balance(customer.id, currency, clock.local_today())
    return {"currencies": held, "balance": owed, "statement": shown}


def _sort_links() -> dict[str, str]:
    args = list_args()
    current = args.get("sort", "name")
    links = {}
    for column, first in FIRST_SORT.items():
        turned = first[1:] if first.startswith("-") else f"-{first}"
        links[column] = url_for(
            "customers.index", **{**args, "sort": turned if current == first else first}
        )
    return links


def _errors_text(exc: Invalid) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())


def _customer_or_404(customer_id: int) -> Customer:
    return or_404(customers.get_customer, customer_id)
