"""A customer's direct debits as lines of their statement, for information (a debit's
money shows as its own payment line). The documents domain may not read direct debits
(README › Architecture), so the pages that show a statement hand these to it."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from collector.direct_debit.models import Collection, CollectionStatus
from collector.documents import statements
from collector.documents.models import Invoice
from collector.extensions import db

DETAILS = {
    CollectionStatus.PENDING: _l("in a collection file"),
    CollectionStatus.SETTLED: _l("collected"),
    CollectionStatus.REJECTED: _l("refused by the bank"),
    CollectionStatus.RETURNED: _l("returned by the bank"),
}


def collection_lines(customer_id: int) -> list[statements.StatementLine]:
    """The customer's collections, one information line each."""
    rows = db.session.execute(
        sa.select(Collection, Invoice.number)
        .join(Invoice, Collection.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer_id)
        .where(Collection.status.in_(DETAILS))
    )
    return [
        statements.StatementLine(
            on=collection.collection_date,
            kind=statements.COLLECTION,
            number=number,
            invoice_id=collection.invoice_id,
            currency=collection.currency,
            detail=DETAILS[collection.status],
        )
        for collection, number in rows
    ]
