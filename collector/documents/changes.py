"""An admin's changes to one document: "mark as paid", "archive", keep an overpayment —
each under the document's lock, committed whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from collector.accounts import audit
from collector.core.columns import utcnow
from collector.core.errors import Invalid, NotFound, ServiceError
from collector.documents import ledger, overpayments
from collector.documents.models import Invoice
from collector.extensions import db


def mark_paid(invoice_id: int, reason: str, actor: str, paid_at: datetime | None = None) -> Invoice:
    """An admin says the rest of the document was paid (``paid_at``, an aware datetime,
    or now), with a reason; Teamleader is owed the payment. Commits."""
    with changing(invoice_id) as invoice:
        if paid_at is not None and paid_at > utcnow():
            raise Invalid({"paid_at": ["A payment cannot be dated in the future."]})
        ledger.mark_paid(invoice, reason, actor=actor, paid_at=paid_at)
        _record("invoice.marked_paid", invoice, reason, actor, paid_at=paid_at)
    return invoice


def archive(invoice_id: int, reason: str, actor: str) -> Invoice:
    """An admin closes the document without (further) payment, with a reason. Commits."""
    with changing(invoice_id) as invoice:
        ledger.archive(invoice, reason, actor=actor)
        _record("invoice.archived", invoice, reason, actor)
    return invoice


def keep_overpayment(invoice_id: int, reason: str, actor: str) -> Invoice:
    """An admin keeps the document's overpayment, with a reason. Commits."""
    with changing(invoice_id) as invoice:
        overpayments.keep(invoice, reason, actor=actor)
        _record("invoice.overpayment_kept", invoice, reason, actor)
    return invoice


def _record(action: str, invoice: Invoice, reason: str, actor: str, **details) -> None:
    facts = {"number": invoice.number, "reason": reason, **details}
    audit.record(action, target=f"invoice:{invoice.id}", details=facts, actor=actor)


@contextmanager
def changing(invoice_id: int) -> Iterator[Invoice]:
    """The document locked for a change that is committed at the end of the block."""
    invoice = ledger.lock(invoice_id)
    if invoice is None:
        db.session.rollback()
        raise NotFound(f"No invoice or credit note with id {invoice_id}.")
    try:
        yield invoice
    except ServiceError:
        # A refusal has written nothing; ending the transaction frees the row lock at once.
        db.session.rollback()
        raise
    db.session.commit()
