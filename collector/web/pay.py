"""The customer's payment page, ``/pay/<token>``: public, one document per unguessable token.

This page shows the document and its PDF; the ways to pay come with the payments work.
It reveals nothing but the one document its token names, and an unknown token is a plain
404 whatever its shape.
"""

from flask import Blueprint, abort, current_app, render_template

from collector import clients
from collector.services import documents, payment_page
from collector.web.invoices import pdf_response

bp = Blueprint("pay", __name__, url_prefix="/pay")


@bp.get("/<token>")
def page(token: str):
    invoice = payment_page.find(token)
    if invoice is None:
        abort(404, "There is no such payment page.")
    return render_template("pay/page.html", view=payment_page.view(invoice))


@bp.get("/<token>/document.pdf")
def pdf(token: str):
    invoice = payment_page.find(token)
    content = invoice and documents.read_pdf(clients.document_store(current_app), invoice)
    if not content:
        abort(404, "There is no such document.")
    return pdf_response(content, documents.pdf_filename(invoice))


@bp.after_request
def _private(response):
    # The address is the secret: keep it out of shared caches, other sites' Referer
    # headers and search engines.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
