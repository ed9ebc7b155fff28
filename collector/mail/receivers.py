"""What the mail domain does when other domains tell of documents
(``documents.signals``): invite the customers of newly imported documents."""

from __future__ import annotations

from datetime import date

from collector.core import clock
from collector.documents import signals
from collector.documents.held_mail import HoldRule
from collector.mail import invitations


def _documents_imported(
    actor: str,
    *,
    invoice_ids: list[int],
    today: date | None = None,
    hold_after_days: int | None = None,
    mail_old: bool = False,
) -> None:
    rule = HoldRule.of(today or clock.local_today(), hold_after_days, opted_in=mail_old)
    invitations.queue_on_import(invoice_ids, actor=actor, rule=rule)


def connect() -> None:
    """Owe invitations for the documents an import brings in, in the import's transaction."""
    signals.documents_imported.connect(_documents_imported, weak=False)
