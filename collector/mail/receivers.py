"""What the mail domain does when other domains tell of documents
(``documents.signals``): invite the customers of newly imported documents."""

from __future__ import annotations

from collector.documents import signals
from collector.mail import invitations


def _documents_imported(actor: str, *, invoice_ids: list[int]) -> None:
    invitations.queue_on_import(invoice_ids, actor=actor)


def connect() -> None:
    """Owe invitations for the documents an import brings in, in the import's transaction."""
    signals.documents_imported.connect(_documents_imported, weak=False)
