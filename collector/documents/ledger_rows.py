"""Writing a row of the payment ledger (``ledger``'s verbs call it): one statement, and
no read of the document's rows when it has none yet."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from collector.core.inserts import insert_unless_exists
from collector.documents.models import Invoice, Payment
from collector.extensions import db


def write(row: Payment, invoice: Invoice) -> Payment | None:
    """Write ``row`` on ``invoice`` unless its key exists (then None): one statement, and
    the caller's transaction is kept either way. The row written joins the document's
    payments if they were read, or is them if it is the first (``ledger_empty``)."""
    if invoice.id is None:
        db.session.flush()
    row.invoice_id = invoice.id
    row.reverses_id = row.reverses.id if row.reverses is not None else None
    written = insert_unless_exists(db.session, row, "key")
    if written is None:
        return None
    if "payments" in sa.inspect(invoice).dict:
        set_committed_value(invoice, "payments", [*invoice.payments, written])
    elif invoice.ledger_empty:  # it is the first: nothing else to read
        set_committed_value(invoice, "payments", [written])
    return written
