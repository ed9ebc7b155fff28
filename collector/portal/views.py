"""The customer portal, ``/portal/<token>``: public, one customer per unguessable token,
with the payment page's security headers (``payments.views.private_headers``) and an
unknown token the same plain 404 whatever its shape. It speaks the customer's language
(their Teamleader language, else their browser's; ``?lang=nl|fr|en`` switches it and is
carried on every link and form).

Also the admins' side on the customer's page: rotate the address, mail it to the customer.
"""

from __future__ import annotations

from contextlib import suppress

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from collector.accounts import alerts, customer_pages, languages
from collector.accounts.customer_pages import keep, language_links, public_url
from collector.core.errors import Conflict, Invalid
from collector.direct_debit import statement_lines
from collector.documents import balances, customers, statements
from collector.documents.models import Customer, Invoice
from collector.extensions import db
from collector.payments import ProviderError, checkout, several
from collector.payments import page as payment_page
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment, OnlinePaymentDocument
from collector.payments.views import private_headers
from collector.portal import links, page, said
from collector.portal.forms import DisputeForm, PaidForm, PayForm
from collector.runtime import setup as runtime_setup
from collector.runtime.views import (
    admin_required,
    download_response,
    or_404,
    pdf_response,
    protect,
)
from collector.teamleader import pdfs

bp = Blueprint("portal", __name__, url_prefix="/portal")
admin_bp = protect(Blueprint("portal_admin", __name__))


def _spoken(customer: Customer) -> str | None:
    return customer.language


# ``view(customer, …)`` for the token's customer, in their language; a 404 else.
for_customer = customer_pages.for_token(links.find, _spoken, _l("There is no such page."))


@bp.get("/<token>")
@for_customer
def index(customer: Customer):
    return _render(customer)


@bp.post("/<token>/pay")
@for_customer
def pay(customer: Customer):
    form = PayForm()
    if not form.validate_on_submit():
        return _render(customer, problem=_("The form expired. Please try again."), status=400)
    provider = payments_setup.provider(current_app)
    if provider is None:
        return _render(customer, problem=_("This document cannot be paid online."), status=409)
    try:
        ids = [int(value) for value in request.form.getlist("invoice")]
    except ValueError:
        abort(400)
    if not all(0 < i < page.ROW_ID_LIMIT for i in ids):
        abort(400)
    try:
        url = several.start(
            provider,
            customer.id,
            ids,
            redirect_url=public_url("portal.returned", token=customer.portal_token, **keep()),
            webhook_url=payments_setup.webhook_url(current_app),
        )
    except checkout.CheckoutRefused as exc:
        return _render(customer, problem=str(exc), status=exc.status)
    return redirect(url, code=303)


@bp.get("/<token>/return")
@for_customer
def returned(customer: Customer):
    provider = payments_setup.provider(current_app)
    latest = _latest_payment(customer)
    if provider is not None and latest is not None:
        # A provider outage only leaves the status as last fetched; its webhook follows.
        with suppress(ProviderError):
            checkout.refresh(provider, latest.provider_id)
    return redirect(url_for("portal.index", token=customer.portal_token, r=1, **keep()), 303)


@bp.get("/<token>/documents/<int:invoice_id>.pdf")
@for_customer
def pdf(customer: Customer, invoice_id: int):
    invoice = page.document_of(customer, invoice_id)
    content = pdfs.read_pdf(runtime_setup.document_store(current_app), invoice) if invoice else None
    if not content:
        abort(404, _("There is no such document."))
    return pdf_response(content, pdfs.pdf_filename(invoice))


@bp.get("/<token>/statement.csv")
@for_customer
def statement(customer: Customer):
    currency = request.args.get("currency") or balances.currencies(customer.id)[0]
    if currency not in balances.currencies(customer.id):
        abort(404, _("There is no such document."))
    shown = statements.statement(
        customer.id, currency, more=statement_lines.collection_lines(customer.id)
    )
    return download_response(
        statements.statement_csv(shown), f"statement-{currency}.csv", "text/csv"
    )


@bp.get("/<token>/logo")
@for_customer
def logo(customer: Customer):
    store = runtime_setup.document_store(current_app)
    found = page.logo_of(customer, request.args.get("entity", ""), store)
    if found is None:
        abort(404, _("There is no such document."))
    content, media_type = found
    response = Response(content, mimetype=media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<token>/documents/<int:invoice_id>/paid")
@for_customer
def paid(customer: Customer, invoice_id: int):
    form = PaidForm()
    return _said(
        customer,
        invoice_id,
        form,
        lambda i: said.said_paid(customer, i, form.paid_on.data, form.note.data or ""),
    )


@bp.post("/<token>/documents/<int:invoice_id>/disputed")
@for_customer
def disputed(customer: Customer, invoice_id: int):
    form = DisputeForm()
    return _said(
        customer,
        invoice_id,
        form,
        lambda i: said.said_disputed(customer, i, form.reason.data or ""),
    )


def _said(customer: Customer, invoice_id: int, form, say):
    invoice = page.document_of(customer, invoice_id)
    if invoice is None:
        abort(404, _("There is no such document."))
    if not form.validate_on_submit():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        errors.setdefault("form", [_("The form expired. Please try again.")])
        return _render(customer, said_errors={invoice_id: errors}, status=400)
    try:
        say(invoice)
    except Invalid as exc:
        return _render(customer, said_errors={invoice_id: exc.errors}, status=400)
    except said.TooMany as exc:
        return _render(customer, problem=str(exc), status=429)
    except Conflict as exc:
        return _render(customer, problem=str(exc), status=409)
    notice = _(
        "Thank you. We have paused reminders for invoice %(number)s and will look at it.",
        number=invoice.number,
    )
    return _render(customer, notice=notice)


bp.after_request(private_headers)


def _render(customer: Customer, *, problem=None, notice=None, said_errors=None, status=200):
    provider = payments_setup.provider(current_app)
    view = page.view(customer, online_available=provider is not None)
    if notice is None and problem is None and request.args.get("r") == "1":
        notice, problem = _back_from_checkout(customer)
    return render_template(
        "portal/index.html",
        view=view,
        problem=problem,
        notice=notice,
        said_errors=said_errors or {},
        keep=keep(),
        languages=language_links("portal.index", token=customer.portal_token),
        pay_form=PayForm(formdata=None),
    ), status


def _back_from_checkout(customer: Customer) -> tuple[str | None, str | None]:
    """(notice, problem) after the provider's checkout, as its last fetch says."""
    latest = _latest_payment(customer)
    if latest is not None and latest.status in payment_page.NOT_THROUGH:
        return None, str(payment_page.NOT_THROUGH_NOTICE)
    if latest is not None and latest.status == "paid":
        return _("Thank you. We received your payment."), None
    return _("Thank you. Your payment is being processed."), None


def _latest_payment(customer: Customer) -> OnlinePayment | None:
    mine = (
        sa.select(OnlinePaymentDocument.online_payment_id)
        .join(Invoice, OnlinePaymentDocument.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer.id)
    )
    return db.session.scalars(
        sa.select(OnlinePayment).where(OnlinePayment.id.in_(mine)).order_by(OnlinePayment.id.desc())
    ).first()


# -- the admins' buttons on the customer's page -----------------------------------------------


@admin_bp.post("/customers/<int:customer_id>/portal/rotate")
@admin_required
def rotate(customer_id: int):
    customer = _customer(customer_id)
    links.rotate(customer, actor=f"user:{current_user.email}")
    flash(_("The portal has a new address; the old one no longer opens."), "success")
    return redirect(url_for("customers.detail", customer_id=customer.id, _anchor="portal"))


@admin_bp.post("/customers/<int:customer_id>/portal/send")
@admin_required
def send(customer_id: int):
    customer = _customer(customer_id)
    if not customer.email:
        flash(_("This customer has no email address in Teamleader."), "error")
    else:
        sent = send_link(customer, links.address(current_app.config["PUBLIC_BASE_URL"], customer))
        if sent:
            flash(
                _("The portal's address was mailed to %(email)s.", email=customer.email), "success"
            )
        else:
            flash(_("The mail could not be sent; see the mail log."), "error")
    return redirect(url_for("customers.detail", customer_id=customer.id, _anchor="portal"))


def send_link(customer: Customer, address: str) -> bool:
    """Mail ``customer`` their portal's address, in their language; False when it failed."""
    with force_locale(languages.normalize(customer.language) or languages.DEFAULT):
        subject = _("Your invoices and payments")
        text = _(
            "Dear %(name)s,\n\nAll your open invoices, credit notes and recent payments are on "
            "one page, where you can also pay several invoices at once:\n\n%(address)s\n\n"
            "Keep this link to yourself: anyone who has it can see your invoices.",
            name=customer.name,
            address=address,
        )
    return alerts.notify(customer.email, kind="portal_link", subject=subject, text=text)


@admin_bp.app_template_global()
def portal_address(customer: Customer) -> str:
    """The customer's portal address, for their page in the app."""
    return links.address(current_app.config["PUBLIC_BASE_URL"], customer)


def _customer(customer_id: int) -> Customer:
    return or_404(customers.get_customer, customer_id)


BLUEPRINTS = (bp, admin_bp)
