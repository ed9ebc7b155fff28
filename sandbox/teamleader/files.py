"""Short-lived download links, as ``invoices.download`` / ``creditNotes.download`` return.

Reference §6.4: the answer is ``{location, expires}``, a temporary URL to fetch at once;
no auth header is implied. Our locations point at ``/_files/<token>`` on the emulator
itself (built with ``url_for(..., _external=True)`` so they work when mounted under a
prefix); after ``expires`` (emulator clock, ``DOWNLOAD_TTL`` seconds) they answer 403 like
an expired pre-signed URL.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Response

from . import pdf
from .clock import iso_datetime
from .emulator import Emulator, current

bp = Blueprint("files", __name__)


def issue(
    em: Emulator, kind: str, ident: str, fmt: str, url_for_token: Callable[[str], str]
) -> dict:
    """Create a link to one document and return ``{location, expires}``."""
    token = secrets.token_urlsafe(24)
    expires_at = em.clock.now() + timedelta(seconds=em.settings["DOWNLOAD_TTL"])
    with em.store.lock:
        em.store.downloads[token] = {
            "kind": kind,
            "id": ident,
            "format": fmt,
            "expires_at": expires_at,
        }
    return {"location": url_for_token(token), "expires": iso_datetime(expires_at)}


@bp.get("/_files/<token>")
def download(token: str) -> Response:
    """Serve the document behind a link, or 404 (unknown) / 403 (expired)."""
    em = current()
    with em.store.lock:
        em.store.calls["files.download"] += 1
        link = em.store.downloads.get(token)
        if link is None:
            return Response("Not found\n", 404, mimetype="text/plain")
        if link["expires_at"] <= em.clock.now():
            return Response("Request has expired\n", 403, mimetype="text/plain")
        body, mimetype, filename = _render(em, link)
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    return Response(body, 200, mimetype=mimetype, headers=headers)


def _render(em: Emulator, link: dict) -> tuple[bytes, str, str]:
    data = em.store.data
    is_invoice = link["kind"] == "invoice"
    record = (data.invoices if is_invoice else data.credit_notes)[link["id"]]
    number = (record["invoice_number"] if is_invoice else record["credit_note_number"]) or "draft"
    issued = record["invoice_date"] if is_invoice else record["credit_note_date"]
    total = record["total"]["payable"]
    stem = (
        f"{'invoice' if is_invoice else 'credit-note'}-{number.replace(' ', '').replace('/', '-')}"
    )
    if link["format"] != "pdf":
        xml = pdf.render_ubl(
            link["kind"], number, str(issued or ""), str(total["amount"]), total["currency"]
        )
        return xml, "application/xml", f"{stem}.xml"
    department = data.departments[record["department"]["id"]]
    lines = [
        f"{'Invoice' if is_invoice else 'Credit note'} {number}",
        department["name"],
        f"Date: {issued or '-'}",
        f"Customer: {record['invoicee']['name']}",
        f"Total: {total['currency']} {total['amount']}",
    ]
    if is_invoice:
        lines += [
            f"Due on: {record['due_on'] or '-'}",
            f"Payment reference: {record['payment_reference'] or '-'}",
        ]
    return pdf.render_pdf(lines), "application/pdf", f"{stem}.pdf"
