"""Short-lived download links, as ``invoices.download`` / ``creditNotes.download`` return.

Reference §6.4: the answer is ``{location, expires}``, a temporary URL to fetch at once;
no auth header is implied. Our locations point at ``/_files/<token>`` on the emulator
itself (built with ``url_for(..., _external=True)`` so they work when mounted under a
prefix); after ``expires`` (emulator clock, ``DOWNLOAD_TTL`` seconds) they answer 403 like
an expired pre-signed URL.

File faults (``POST /_control/files/faults``) spoil the next links issued:

- ``expired``: the link expires as it is issued, so fetching it answers 403;
- ``not_pdf``: the file answers 200 with an HTML page, as a login or error page would;
- ``oversized``: the document is padded to ``bytes`` bytes, produced while it is sent;
- ``foreign_host``: the location is ``http://files.invalid/<token>``, a host that never
  resolves (``.invalid`` is reserved, RFC 2606).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta

from flask import Blueprint, Response

from . import faults, pdf
from .clock import iso_datetime
from .emulator import Emulator, current

bp = Blueprint("files", __name__)
FOREIGN_HOST = "http://files.invalid"
NOT_PDF_PAGE = (
    b"<!doctype html>\n<html><head><title>Teamleader Focus</title></head>\n"
    b"<body><h1>Sign in</h1><p>Please sign in to view this document.</p></body></html>\n"
)
PAD_LINE = 64  # bytes per padding line
PAD_BLOCK = 1024  # lines per chunk sent: 64 KiB


def issue(
    em: Emulator, kind: str, ident: str, fmt: str, url_for_token: Callable[[str], str]
) -> dict:
    """Create a link to one document and return ``{location, expires}``."""
    token = secrets.token_urlsafe(24)
    now = em.clock.now()
    with em.store.lock:
        fault = faults.take_file(em.store) or {"kind": None, "bytes": None}
        expired = fault["kind"] == "expired"
        expires_at = now if expired else now + timedelta(seconds=em.settings["DOWNLOAD_TTL"])
        em.store.downloads[token] = {
            "kind": kind,
            "id": ident,
            "format": fmt,
            "expires_at": expires_at,
            "fault": fault["kind"],
            "bytes": fault["bytes"],
        }
    foreign = fault["kind"] == "foreign_host"
    location = f"{FOREIGN_HOST}/{token}" if foreign else url_for_token(token)
    return {"location": location, "expires": iso_datetime(expires_at)}


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
        if link["fault"] == "not_pdf":
            return Response(NOT_PDF_PAGE, 200, mimetype="text/html")
        body, mimetype, filename = _render(em, link)
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if link["fault"] == "oversized":
        chunks, size = _padded(body, mimetype, link["bytes"])
        headers["Content-Length"] = str(size)
        return Response(chunks, 200, mimetype=mimetype, headers=headers)
    return Response(body, 200, mimetype=mimetype, headers=headers)


def _padded(body: bytes, mimetype: str, size: int) -> tuple[Iterator[bytes], int]:
    """``body`` grown to ``size`` bytes as it is sent (not held in memory), and its length.

    A reader finds a PDF's cross-reference table through the last ``startxref … %%EOF``, so
    the padding (comment lines) is followed by a copy of the trailer, as after an
    incremental update; XML allows whitespace after its root element.
    """
    is_pdf = mimetype == "application/pdf"
    tail = body[body.rindex(b"startxref") :] if is_pdf else b""
    padding = size - len(body) - len(tail)
    if padding <= 0:
        return iter([body]), len(body)
    line = (b"%" if is_pdf else b" ") + b" " * (PAD_LINE - 2) + b"\n"

    def chunks() -> Iterator[bytes]:
        yield body
        full, rest = divmod(padding, PAD_LINE * PAD_BLOCK)
        block = line * PAD_BLOCK
        for _ in range(full):
            yield block
        # The last (partial) chunk still ends in whole lines, then one shorter line.
        lines, short = divmod(rest, PAD_LINE)
        yield line * lines + (line[: short - 1] + b"\n" if short else b"")
        yield tail

    return chunks(), size


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
