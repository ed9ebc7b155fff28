"""The mails a failed direct debit calls for (``direct_debit.failed_debits``), owed from
the collection's next step — a query the schedule runs, so a crash never loses one:

- a debit being retried is announced again: an invitation keyed ``retry:<collection>``
  carries the new pre-notification (``composing.announce``; the day waits for the
  retry delay, ``debits.planned_debit``);
- a mandate the bank showed unusable: the customer is mailed a payment link, and a link
  to sign a new mandate online (``mandate_unusable:<collection>``).

Each row's key is unique per document, so each is owed exactly once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from collector.direct_debit import failed_debits, signing
from collector.direct_debit.models import Collection, ReturnAction
from collector.documents.models import Customer, DocumentMail, DocumentMailKind, Invoice
from collector.extensions import db
from collector.mail import invitations

KEYS = {
    ReturnAction.RETRY: ("retry", DocumentMailKind.INVITATION),
    ReturnAction.MANDATE_UNUSABLE: ("mandate_unusable", DocumentMailKind.MANDATE_UNUSABLE),
}
LIMIT = 500


def key_for(collection: Collection) -> str:
    """The mail row's key for what ``collection``'s failure calls for."""
    return f"{KEYS[collection.next_step][0]}:{collection.id}"


def owe_notices(actor: str = "system") -> int:
    """Owe each mail a failed debit calls for and nobody owed yet; how many. Does not
    commit."""
    owed = 0
    for collection in _waiting():
        invoice: Invoice = collection.invoice
        # Only the document's latest failure speaks for it, and only while it is open.
        if failed_debits.last_came_back(invoice.id) is not collection:
            continue
        if not invitations.invitable(invoice):
            continue
        kind = KEYS[collection.next_step][1]
        owed += invitations.owe(invoice, kind, key_for(collection), actor) is not None
    return owed


def _waiting() -> list[Collection]:
    """Collections whose step calls for a mail no row was made for yet, on documents
    still owed money and with no later collection: a small set, however long the
    history (documents paid since never fill the batch)."""
    later = aliased(Collection)
    conditions = [
        sa.and_(
            Collection.next_step == action,
            ~sa.exists().where(
                DocumentMail.invoice_id == Collection.invoice_id,
                # ``||`` on PostgreSQL and SQLite alike (SQLite has no concat()).
                DocumentMail.key == sa.literal(prefix + ":") + sa.cast(Collection.id, sa.String),
            ),
        )
        for action, (prefix, _kind) in KEYS.items()
    ]
    query = (
        sa.select(Collection)
        .join(Invoice, Invoice.id == Collection.invoice_id)
        .where(Collection.status.in_(failed_debits.CAME_BACK), sa.or_(*conditions))
        .where(Invoice.state.in_(invitations.INVITABLE), Invoice.amount_due > 0)
        .where(
            ~sa.exists().where(later.invoice_id == Collection.invoice_id, later.id > Collection.id)
        )
        .order_by(Collection.id)
        .limit(LIMIT)
    )
    return list(db.session.scalars(query))


def new_mandate_link(customer: Customer) -> str | None:
    """Where ``customer`` signs a new mandate online (``direct_debit.signing``)."""
    return signing.link_for(customer)
