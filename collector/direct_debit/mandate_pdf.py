"""The signed mandate as a PDF: the text exactly as shown, the debtor's details as given
and how it was signed, in the language it was signed in.

Made with fpdf2 and its built-in Helvetica, so no font file is needed; that font covers
Latin-1 (the accents of Dutch and French), and anything beyond it (a Czech or Polish
name, typographic quotes) is written as its nearest plain letter. No Flask, no database.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

from collector.direct_debit.mandate_text import LABELS, language_of

# Typographic marks a customer may type that Helvetica's encoding lacks, and their
# plain forms.
PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u20ac": "EUR"}
    | {"\u0141": "L", "\u0142": "l"}
)
MARGIN = 18  # mm


@dataclass(frozen=True)
class SignedMandate:
    """What the PDF prints."""

    title: str
    text: str  # the mandate text; its first paragraph is the title
    language: str
    account_holder: str
    address_lines: list[str]
    iban: str  # grouped by four
    bic: str | None
    signatory: str
    signed_at: datetime  # UTC
    ip_address: str
    revoked_at: datetime | None = None


def printable(text: str) -> str:
    """``text`` as Helvetica can print it: typographic quotes made plain, other letters
    outside Latin-1 written without their accent (or as "?")."""
    text = text.translate(PLAIN)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


def render(mandate: SignedMandate) -> bytes:
    """The PDF's bytes."""
    labels = LABELS[language_of(mandate.language)]
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_title(printable(mandate.title))
    pdf.set_creation_date(mandate.signed_at)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN

    paragraphs = mandate.text.split("\n\n")
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(width, 7, printable(paragraphs[0]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for number, paragraph in enumerate(paragraphs[1:]):
        pdf.set_font("Helvetica", "B" if number == 0 else "", 10)
        pdf.multi_cell(width, 5, printable(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width, 7, printable(labels["debtor"]), new_x="LMARGIN", new_y="NEXT")
    rows = [
        (labels["account_holder"], mandate.account_holder),
        (labels["address"], "\n".join(mandate.address_lines)),
        ("IBAN", mandate.iban),
    ]
    if mandate.bic:
        rows.append(("BIC", mandate.bic))
    rows.append((labels["signatory"], mandate.signatory))
    for label, value in rows:
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(45, 5, printable(label))
        pdf.multi_cell(width - 45, 5, printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 9)
    signed = labels["signed"].format(
        date=mandate.signed_at.strftime("%Y-%m-%d"),
        time=mandate.signed_at.strftime("%H:%M:%S"),
        ip=mandate.ip_address,
    )
    pdf.multi_cell(width, 5, printable(signed), new_x="LMARGIN", new_y="NEXT")
    if mandate.revoked_at is not None:
        revoked = labels["revoked"].format(
            date=mandate.revoked_at.strftime("%Y-%m-%d"),
            time=mandate.revoked_at.strftime("%H:%M:%S"),
        )
        pdf.multi_cell(width, 5, printable(revoked), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
