"""The customer's mandate page, ``/mandate/<token>``: public, one customer per unguessable
token (``signing``). It shows the mandate text to sign and the form, or the mandate
signed, its PDF and the way to revoke it.

Like the payment page it has no login, reveals nothing but its one customer's mandate,
answers an unknown token with the same plain 404 whatever its shape, keeps itself out of
caches, Referer headers and search engines, and speaks the customer's language (their
Teamleader language, else their browser's), which they may switch with ``?lang=nl|fr|en``
(carried on every link and form). It shows the creditor the mandate is given to as it
shows itself: name, logo, address.
"""

from __future__ import annotations

from babel import Locale
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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from collector.accounts import customer_pages, entities
from collector.accounts.customer_pages import keep, language_links
from collector.core.errors import Conflict, Invalid
from collector.core.storage import StoredDocumentMissing
from collector.direct_debit import mandate_text, signing, signing_form, signing_revoke
from collector.direct_debit.models import SigningLink
from collector.runtime import setup as runtime_setup
from collector.runtime.views import pdf_response

bp = Blueprint("mandate_signing", __name__, url_prefix="/mandate")

FIELDS = (
    "account_holder",
    "iban",
    "street",
    "postal_code",
    "city",
    "country",
    "signatory",
    "email",
)


def _language() -> str:
    """nl, fr or en: the language the page speaks now."""
    return mandate_text.language_of(str(get_locale() or "en"))


def _spoken(link: SigningLink) -> str | None:
    return link.customer.language if link.customer is not None else None


# ``view(link, …)`` for the token's customer, in their language (errors too); a 404 else.
in_customer_language = customer_pages.for_token(
    signing.find, _spoken, _l("There is no such mandate page.")
)


@bp.get("/<token>")
@in_customer_language
def page(link: SigningLink):
    return _render(link, signing.situation(link))


@bp.post("/<token>/sign")
@in_customer_language
def sign(link: SigningLink):
    data = {name: request.form.get(name, "") for name in FIELDS}
    data.update(
        consent=request.form.get("consent"),
        scheme=request.form.get("scheme", mandate_text.CORE),
        reference=request.form.get("reference", ""),
        digest=request.form.get("digest", ""),
    )
    try:
        signing.sign(link, data, _who(), runtime_setup.document_store(current_app))
    except Invalid as exc:
        return _render(link, signing.situation(link), values=data, errors=exc.errors, status=400)
    except signing.TextChanged:
        notice = _(
            "The mandate text changed since the page was opened. Read it again and sign below."
        )
        return _render(link, signing.situation(link), values=data, problem=notice, status=409)
    except Conflict as exc:
        return _render(link, signing.situation(link), problem=str(exc), status=409)
    return redirect(url_for("mandate_signing.page", token=link.token, signed=1, **keep()), 303)


@bp.get("/<token>/mandate-<int:mandate_id>.pdf")
@in_customer_language
def pdf(link: SigningLink, mandate_id: int):
    signature = signing.signed_here(link, mandate_id)
    if signature is None:
        abort(404, _("There is no such mandate page."))
    try:
        content = runtime_setup.document_store(current_app).get(signature.pdf_key)
    except StoredDocumentMissing:
        abort(404, _("There is no such mandate page."))
    return pdf_response(content, signing.pdf_filename(signature))


@bp.get("/<token>/revoke")
@in_customer_language
def confirm_revoke(link: SigningLink):
    found = signing.situation(link)
    if found.active is None:
        return redirect(url_for("mandate_signing.page", token=link.token, **keep()), 303)
    return render_template(
        "direct_debit/signing/revoke.html",
        link=link,
        situation=found,
        payee=_payee(found),
        keep=keep(),
        languages=language_links("mandate_signing.confirm_revoke", token=link.token),
    )


@bp.post("/<token>/revoke")
@in_customer_language
def revoke(link: SigningLink):
    try:
        mandate_id = int(request.form.get("mandate_id", ""))
        signing_revoke.revoke(link, mandate_id, _who())
    except (ValueError, Conflict) as exc:
        problem = str(exc) if isinstance(exc, Conflict) else _("There is no such mandate.")
        return _render(link, signing.situation(link), problem=problem, status=409)
    return redirect(url_for("mandate_signing.page", token=link.token, revoked=1, **keep()), 303)


@bp.get("/<token>/logo")
@in_customer_language
def logo(link: SigningLink):
    found = entities.logo(signing.creditor_of(link.customer), _store())
    if found is None:
        abort(404, _("There is no such mandate page."))
    content, media_type = found
    response = Response(content, mimetype=media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.after_request
def _private(response):
    return customer_pages.private_headers(response)  # no form leaves this site


def _store():
    return runtime_setup.document_store(current_app)


def _who() -> signing.Request:
    return signing.Request(
        ip_address=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
        language=_language(),
    )


def _payee(found: signing.Situation) -> dict:
    payee = found.creditor
    if payee is None:
        return {"name": "", "address_lines": [], "email": "", "phone": "", "has_logo": False}
    return {
        "name": payee.name,
        "address_lines": payee.address_lines,
        "email": payee.contact_email,
        "phone": payee.contact_phone,
        "has_logo": bool(payee.logo_key),
    }


def _render(
    link: SigningLink,
    found: signing.Situation,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
    status: int = 200,
):
    language = _language()
    scheme = request.values.get("scheme", mandate_text.CORE)
    if scheme not in found.schemes:
        scheme = mandate_text.CORE
    shown = None
    if found.can_sign:
        reference = signing.next_reference(found.customer)
        said = signing.facts(found, scheme, reference)
        text = mandate_text.text(said, language)
        shown = {
            "reference": reference,
            "scheme": scheme,
            "title": mandate_text.title(said, language),
            "paragraphs": text.split("\n\n")[1:],
            "digest": signing.digest(text),
        }
    customer = found.customer
    defaults = {
        "account_holder": customer.name,
        "street": customer.address_line or "",
        "postal_code": customer.postal_code or "",
        "city": customer.city or "",
        "country": (customer.country or "").upper(),
        "email": customer.email or "",
    }
    page = render_template(
        "direct_debit/signing/page.html",
        link=link,
        situation=found,
        payee=_payee(found),
        shown=shown,
        values={**defaults, **(values or {})},
        errors=errors or {},
        problem=problem,
        just_signed=request.args.get("signed") == "1",
        just_revoked=request.args.get("revoked") == "1",
        countries=_countries(language),
        keep=keep(),
        languages=language_links("mandate_signing.page", token=link.token, scheme=scheme),
    )
    return page, status


def _countries(language: str) -> list[tuple[str, str]]:
    """(code, name in the page's language) of every SEPA country, by name."""
    names = Locale.parse(language).territories
    return sorted(
        ((code, names.get(code, code)) for code in signing_form.COUNTRIES), key=lambda c: c[1]
    )
