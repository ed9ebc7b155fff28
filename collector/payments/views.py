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

import functools
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
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from collector.accounts import languages
from collector.documents.models import Invoice
from collector.payments import checkout, settings_views, webhooks
from collector.payments import page as payment_page
from collector.payments import setup as payments_setup
from collector.runtime import setup as runtime_setup
from collector.runtime.views import content_security_policy, pdf_response
from collector.teamleader import pdfs

bp = Blueprint("pay", __name__, url_prefix="/pay")

# The languages a customer can switch the page to, each named in itself.
CHOICES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


def customer_locale(invoice: Invoice | None) -> str:
    """The locale the customer reads the page in: the one they picked with the page's
    language links, else their own language as the mails choose it (the customer's
    Teamleader language: nl, fr or en), else their browser's. A staff user opening the
    link sees what the customer sees."""
    customer = invoice.customer if invoice is not None else None
    spoken = languages.normalize(customer.language) if customer is not None else None
    chosen = chosen_language()
    if chosen and (spoken is None or languages.language_of(spoken) != chosen):
        return languages.BY_LANGUAGE[chosen]
    return spoken or languages.from_browser(request.accept_languages)


def chosen_language() -> str | None:
    """The language picked with the page's links (``?lang=``), if it is one we speak."""
    chosen = request.args.get("lang", "")
    return chosen if chosen in CHOICES else None


def _keep() -> dict[str, str]:
    """What every link of the page carries so the picked language stays."""
    chosen = chosen_language()
    return {"lang": chosen} if chosen else {}


def in_customer_language(view):
    """``view(invoice)`` for the token's document, rendered in ``customer_locale`` — its error
    page too (an unknown token is a 404 in the browser's language)."""

    @functools.wraps(view)
    def wrapped(token: str):
        invoice = payment_page.find(token)
        with force_locale(customer_locale(invoice)):
            try:
                if invoice is None:
                    abort(404, _("There is no such payment page."))
                return view(invoice)
            except HTTPException as exc:
                return current_app.handle_http_exception(exc)

    return wrapped


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
            redirect_url=_public_url("pay.returned", token=invoice.payment_token, **_keep()),
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
    return redirect(url_for("pay.page", token=invoice.payment_token, r=1, **_keep()), code=303)


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
    """The payment page's headers; the customer portal answers with the same."""
    # The address is the secret: keep it out of shared caches, other sites' Referer
    # headers and search engines.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # The PDF keeps its own policy (the browser's PDF viewer needs it).
    response.headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(form_targets=_checkout_sources(), oauth_hosts=False),
    )
    return response


def _render(view: payment_page.PaymentView, *, problem: str | None = None, status: int = 200):
    return render_template(
        "payments/page.html",
        view=view,
        problem=problem,
        keep=_keep(),
        languages=_language_links(view.token),
    ), status


def _language_links(token: str) -> list[tuple[str, str, str]]:
    """(code, name, address) of each language the page can be read in."""
    return [
        (code, name, url_for("pay.page", token=token, lang=code)) for code, name in CHOICES.items()
    ]


def _public_url(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _checkout_sources() -> str:
    # "Pay online" is answered with a redirect to the provider's checkout, and browsers
    # hold that redirect to form-action too: only the checkout's own origin is allowed.
    return " ".join(payments_setup.checkout_origins(current_app))


BLUEPRINTS = (bp, webhooks.bp, settings_views.bp)
