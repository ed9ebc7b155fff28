"""The outbox towards Teamleader: each document's sync row, owed in the transaction that
changes our payments of it (``documents.signals.payments_changed``), delivered by
``payment_sync``."""

from __future__ import annotations

import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.core.money import ZERO
from collector.documents.models import DocumentKind, Invoice
from collector.extensions import db
from collector.runtime import doorbell
from collector.teamleader.models import SyncStatus, TeamleaderSync


def sync_row(invoice: Invoice) -> TeamleaderSync:
    """The document's Teamleader sync row, made (owing nothing) on first use.

    A new row knows Teamleader holds none of our payments: only its deliveries register
    them. Payments made in Teamleader by hand are not ours to register; Teamleader's
    due (read at import) counts them, and a read (a webhook, the sweep) mirrors them."""
    if invoice.teamleader_sync is None:
        sync = TeamleaderSync(wanted=0, done=0, held=ZERO, entries=[], unsettled=0)
        db.session.add(sync)
        sync.invoice = invoice
    return invoice.teamleader_sync


def owe_teamleader(invoice: Invoice) -> None:
    """Teamleader must be brought in line with our payments of ``invoice``: bump the
    wanted version of its sync row, in the caller's transaction."""
    if invoice.kind != DocumentKind.INVOICE:
        return
    sync = sync_row(invoice)
    if sa.inspect(sync).pending:
        # Made by this transaction: no other can owe it yet, so it is born owing one.
        sync.wanted, sync.status, sync.next_attempt_at = 1, SyncStatus.PENDING, utcnow()
        db.session.flush()
        doorbell.wake(doorbell.TEAMLEADER, sync.id)
        return
    db.session.flush()
    # Atomic in SQL: two transactions owing the same document both count.
    db.session.execute(
        sa.update(TeamleaderSync)
        .where(TeamleaderSync.id == sync.id)
        .values(
            wanted=TeamleaderSync.wanted + 1,
            status=SyncStatus.PENDING,
            next_attempt_at=utcnow(),
            attempts=0,
            last_error=None,
        )
        .execution_options(synchronize_session="fetch")  # RETURNING where it can
    )
    doorbell.wake(doorbell.TEAMLEADER, sync.id)
