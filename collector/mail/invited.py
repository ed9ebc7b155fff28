"""What invitations a document had: the questions asked before inviting again."""

from __future__ import annotations

import sqlalchemy as sa

from collector.documents.models import DocumentMail, DocumentMailKind, DocumentMailStatus, Invoice
from collector.extensions import db

RECEIVED = (DocumentMailStatus.SENT, DocumentMailStatus.UNCERTAIN)  # or may have been


def already_invited(invoice_ids: list[int]) -> list[tuple[Invoice, DocumentMail]]:
    """(document, its last invitation) for those that received one, or may have: the
    ones a person is asked about before inviting again."""
    history = invitations_of(invoice_ids)
    received = [(invoice_id, last_received(rows)) for invoice_id, rows in history.items()]
    found = {i: last for i, last in received if last is not None}
    invoices = db.session.scalars(sa.select(Invoice).where(Invoice.id.in_(found))).all()
    return [(invoice, found[invoice.id]) for invoice in sorted(invoices, key=lambda i: i.id)]


def last_received(rows: list[DocumentMail]) -> DocumentMail | None:
    sent = [r for r in rows if r.status in RECEIVED]
    return sent[-1] if sent else None


def invitations_of(invoice_ids: list[int]) -> dict[int, list[DocumentMail]]:
    """The invitation rows of each document, oldest first (for "already sent?" questions)."""
    rows = db.session.scalars(
        sa.select(DocumentMail)
        .where(DocumentMail.invoice_id.in_(invoice_ids))
        .where(DocumentMail.kind == DocumentMailKind.INVITATION)
        .order_by(DocumentMail.id)
    ).all()
    found: dict[int, list[DocumentMail]] = {}
    for row in rows:
        found.setdefault(row.invoice_id, []).append(row)
    return found
