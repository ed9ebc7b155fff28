"""Small but valid documents for ``invoices.download`` / ``creditNotes.download``.

The PDF is written by hand: one A4 page, Helvetica, a correct cross-reference table, so
any PDF reader (and collector's "is this really a PDF" checks) accept it. The UBL variant
is a minimal XML document for the ``ubl/*`` formats the reference lists in §6.4.
"""

from __future__ import annotations

from xml.sax.saxutils import escape


def _pdf_text(text: str) -> bytes:
    """Encode for a PDF string literal: WinAnsi bytes, with ``\\ ( )`` escaped."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content_stream(lines: list[str]) -> bytes:
    """Draw the lines top-down, the first one larger as a title."""
    ops = [b"BT", b"/F1 18 Tf", b"56 780 Td", b"(" + _pdf_text(lines[0]) + b") Tj", b"/F1 11 Tf"]
    for line in lines[1:]:
        ops += [b"0 -22 Td", b"(" + _pdf_text(line) + b") Tj"]
    ops.append(b"ET")
    return b"\n".join(ops)


def render_pdf(lines: list[str]) -> bytes:
    """Return the bytes of a one-page PDF showing ``lines``."""
    stream = _content_stream(lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    # Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, EOL.
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def render_ubl(kind: str, number: str, issued: str, amount: str, currency: str) -> bytes:
    """Return a minimal UBL 2.1 Invoice/CreditNote with number, date and payable amount."""
    root = "Invoice" if kind == "invoice" else "CreditNote"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">\n'
        f"  <cbc:ID>{escape(number)}</cbc:ID>\n"
        f"  <cbc:IssueDate>{escape(issued)}</cbc:IssueDate>\n"
        f"  <cbc:DocumentCurrencyCode>{escape(currency)}</cbc:DocumentCurrencyCode>\n"
        "  <cac:LegalMonetaryTotal>\n"
        f'    <cbc:PayableAmount currencyID="{escape(currency)}">{escape(amount)}'
        "</cbc:PayableAmount>\n"
        "  </cac:LegalMonetaryTotal>\n"
        f"</{root}>\n"
    )
    return xml.encode("utf-8")
