"""Notes people keep on documents and customers: free text, who and when. A document's
note is also told on its timeline."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from collector.core.errors import Invalid, NotFound
from collector.documents import timeline
from collector.documents.models import Customer, Invoice
from collector.dunning import wording
from collector.dunning.models import Note
from collector.extensions import db
from collector.runtime.wordings import says

TEXT_LIMIT = 2000


def _checked(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid({"text": [_("Write the note first.")]})
    if len(text) > TEXT_LIMIT:
        raise Invalid({"text": [_("Keep it under %(num)s characters.", num=TEXT_LIMIT)]})
    return text


def note_document(invoice_id: int, text: str, actor: str) -> Note:
    """Keep a note on a document, told on its timeline too. Commits."""
    text = _checked(text)
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice or credit note with id {invoice_id}.")
    note = Note(invoice_id=invoice.id, text=text, author=actor[:128])
    db.session.add(note)
    timeline.record(invoice, timeline.NOTE_ADDED, says(wording.NOTE, note=text[:400]), actor=actor)
    db.session.commit()
    return note


def note_customer(customer_id: int, text: str, actor: str) -> Note:
    """Keep a note on a customer. Commits."""
    text = _checked(text)
    if db.session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer with id {customer_id}.")
    note = Note(customer_id=customer_id, text=text, author=actor[:128])
    db.session.add(note)
    db.session.commit()
    return note


def notes_of_customer(customer_id: int) -> list[tuple[Note, Invoice | None]]:
    """The customer's notes and its documents' notes (with the document), newest first."""
    rows = db.session.execute(
        sa.select(Note, Invoice)
        .outerjoin(Invoice, Note.invoice_id == Invoice.id)
        .where((Note.customer_id == customer_id) | (Invoice.customer_id == customer_id))
        .order_by(Note.created_at.desc(), Note.id.desc())
    )
    return [(note, invoice) for note, invoice in rows]
