"""The customer's payment page, ``/pay/<token>``: public, one document per unguessable token.

It shows the document, its PDF and the ways to pay that its profile allows; paying
online goes through the provider's hosted checkout and comes back to ``/return``. It
reveals nothing but the one document its token names, and an unknown token is the same
plain 404 whatever its shape.

It speaks the customer's language, never the one a staff user picked for the finance UI
(``in_customer_language``); the customer may switch it with the page's language links
(``?lang=nl|fr|en``, carried on every link of the page). It shows the document's company
entity as its creditor shows itself: name, logo (``/logo``), address and contact details.
"""

from contextlib import suppress

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from collector.accounts import customer_pages
from collector.accounts.customer_pages import keep, language_links, public_url
from collector.documents.models import Invoice
from collector.payments import checkout, settings_views, webhooks
from collector.payments import page as payment_page
from collector.payments import setup as payments_setup
from collector.runtime import setup as runtime_setup
from collector.runtime.views import pdf_response
from collector.teamleader import pdfs

bp = Blueprint("pay", __name__, url_prefix="/pay")


def _spoken(invoice: Invoice) -> str | None:
    return invoice.customer.language if invoice.customer is not None else None


# ``view(invoice)`` for the token's document, in its customer's language (errors too).
in_customer_language = customer_pages.for_token(
    payment_page.find, _spoken, _l("There is no such payment page.")
)


@bp.get("/<token>")
@in_customer_language
def page(invoice: Invoice):
    provider = payments_setup.provider(current_app)
    returned = request.args.get("r") == "1"
    view = payment_page.view(invoice, online_available=provider is not None, returned=returned)
    return _render(view)


@bp.post("/<token>/online")
@in_customer_language
def online(invoice: Invoice):
    provider = payments_setup.provider(current_app)
    view = payment_page.view(invoice, online_available=provider is not None)
    refusal = payment_page.online_refusal(view)
    if refusal is not None:
        return _render(view, problem=refusal, status=409)
    try:
        checkout_url = checkout.start_checkout(
            provider,
            invoice,
            redirect_url=public_url("pay.returned", token=invoice.payment_token, **keep()),
            webhook_url=payments_setup.webhook_url(current_app),
        )
    except checkout.CheckoutRefused as exc:
        return _render(view, problem=str(exc), status=exc.status)
    return redirect(checkout_url, code=303)


@bp.get("/<token>/return")
@in_customer_language
def returned(invoice: Invoice):
    provider = payments_setup.provider(current_app)
    if provider is not None:
        # A provider outage only leaves the status as last fetched; its webhook follows.
        with suppress(checkout.CheckoutRefused):
            checkout.refresh_latest(provider, invoice)
    return redirect(url_for("pay.page", token=invoice.payment_token, r=1, **keep()), code=303)


@bp.get("/<token>/document.pdf")
@in_customer_language
def pdf(invoice: Invoice):
    content = pdfs.read_pdf(runtime_setup.document_store(current_app), invoice)
    if not content:
        abort(404, _("There is no such document."))
    return pdf_response(content, pdfs.pdf_filename(invoice))


@bp.get("/<token>/logo")
@in_customer_language
def logo(invoice: Invoice):
    found = payment_page.logo_of(invoice, runtime_setup.document_store(current_app))
    if found is None:
        abort(404, _("There is no such document."))
    content, media_type = found
    response = Response(content, mimetype=media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.after_request
def private_headers(response):
    """The payment page's headers: its forms may send the customer to the checkout only."""
    return customer_pages.private_headers(response, form_targets=_checkout_sources())


def _render(view: payment_page.PaymentView, *, problem: str | None = None, status: int = 200):
    return render_template(
        "payments/page.html",
        view=view,
        problem=problem,
        keep=keep(),
        languages=language_links("pay.page", token=view.token),
    ), status


def _checkout_sources() -> str:
    # "Pay online" is answered with a redirect to the provider's checkout, and browsers
    # hold that redirect to form-action too: only the checkout's own origin is allowed.
    return " ".join(payments_setup.checkout_origins(current_app))


BLUEPRINTS = (bp, webhooks.bp, settings_views.bp)
