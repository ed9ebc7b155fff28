"""PDFs of invoices and credit notes: fetched from Teamleader, stored, read back (DESIGN §1.6).

``invoices.download`` / ``creditNotes.download`` answer a short-lived location (reference
§6.4), fetched at once by a ``FileFetcher`` that accepts only a PDF of bounded size from an
allowed host. A refusal is an event on the document and a later retry with backoff, so a
document Teamleader cannot render never holds up the ones behind it in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collector.core.columns import utcnow
from collector.core.ratelimit import RateLimited
from collector.core.storage import DocumentStore
from collector.documents import timeline
from collector.documents.models import DocumentKind, Invoice
from collector.extensions import db
from collector.runtime.wordings import Sentence, count_value, english_of, instant_value, says
from collector.teamleader import (
    FileFetcher,
    FileRefused,
    Forbidden,
    NotFound,
    TeamleaderClient,
    ValidationFailed,
)
from collector.teamleader.wording import (
    DOWNLOAD_REFUSED,
    NO_SUCH_DOCUMENT,
    PDF_FETCHED,
    PDF_REFUSED,
)

# After the first refusal wait 15 minutes, then longer; a day at most between tries.
BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


@dataclass
class FetchResult:
    """What one run did: documents that got their PDF, refusals, and why it stopped early."""

    fetched: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    stopped: str | None = None

    def summary(self) -> str:
        text = f"{len(self.fetched)} PDF(s) fetched, {len(self.refused)} refused"
        return f"{text}; stopped: {self.stopped}" if self.stopped else text


def due_for_pdf(limit: int, now: datetime) -> list[int]:
    """Ids of documents without a PDF whose turn it is, oldest first."""
    query = (
        db.select(Invoice.id)
        .where(Invoice.pdf_key.is_(None))
        .where((Invoice.pdf_retry_at.is_(None)) | (Invoice.pdf_retry_at <= now))
        .order_by(Invoice.invoice_date, Invoice.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def fetch_pdfs(
    client: TeamleaderClient,
    fetcher: FileFetcher,
    store: DocumentStore,
    invoice_ids: list[int],
    *,
    actor: str,
    progress=None,
    now=utcnow,
) -> FetchResult:
    """Fetch and store the PDF of each document that has none yet; commits per document.

    A refusal of one document (no such document, not a PDF, too large, expired location)
    is recorded on it and the run goes on. When Teamleader itself fails (down, rate
    limited, token revoked) the run stops: the rest keep their turn for the next run.
    A rate limit the job will not wait for (``RateLimited``) is raised, for the job to be
    started again at the reset; it is no refusal of the document it met.
    """
    result = FetchResult()
    for invoice_id in invoice_ids:
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None or invoice.pdf_key is not None:
            _advance(progress, skipped=1)
            continue
        try:
            content = _download(client, fetcher, invoice)
        except (FileRefused, NotFound, Forbidden, ValidationFailed) as exc:
            result.refused[invoice.id] = _refuse(invoice, _reason(exc), actor, now())
            db.session.commit()
            _advance(progress, refused=1)
        except RateLimited:
            db.session.rollback()
            raise
        except Exception as exc:
            db.session.rollback()
            result.stopped = f"{type(exc).__name__}: {exc}"[:300]
            break
        else:
            store_pdf(invoice, store.put(content), len(content), actor, now())
            db.session.commit()
            result.fetched.append(invoice.id)
            _advance(progress, fetched=1)
    return result


def _advance(progress, **counts: int) -> None:
    if progress is not None:
        progress.advance(**counts)


def _download(client: TeamleaderClient, fetcher: FileFetcher, invoice: Invoice) -> bytes:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        link = client.credit_notes_download(invoice.teamleader_id)
    else:
        link = client.invoices_download(invoice.teamleader_id)
    # Never stored nor logged: a pre-signed location is a credential until it expires.
    return fetcher.fetch_pdf(link["location"])


def _reason(exc: Exception) -> str | Sentence:
    if isinstance(exc, FileRefused):
        return exc.reason
    if isinstance(exc, NotFound):
        return says(NO_SUCH_DOCUMENT)
    return says(DOWNLOAD_REFUSED, error=str(exc))


def store_pdf(invoice: Invoice, key: str, size: int, actor: str, at: datetime) -> None:
    """Attach a stored PDF to the document and say so on its timeline."""
    invoice.pdf_key = key
    invoice.pdf_fetched_at = at
    invoice.pdf_failures = 0
    invoice.pdf_retry_at = None
    fetched = says(PDF_FETCHED, size=count_value(size))
    timeline.record(invoice, timeline.PDF_FETCHED, fetched, actor=actor)


def _refuse(invoice: Invoice, reason: str | Sentence, actor: str, at: datetime) -> str:
    invoice.pdf_failures += 1
    wait = BACKOFF[min(invoice.pdf_failures, len(BACKOFF)) - 1]
    invoice.pdf_retry_at = at + wait
    timeline.record(
        invoice,
        timeline.PDF_REFUSED,
        says(PDF_REFUSED, reason=reason, at=instant_value(invoice.pdf_retry_at)),
        actor=actor,
        reason=english_of(reason),
        failures=invoice.pdf_failures,
    )
    return english_of(reason)


def read_pdf(store: DocumentStore, invoice: Invoice) -> bytes | None:
    """The document's PDF, or None when there is none (or the file went missing)."""
    if invoice.pdf_key is None or not store.exists(invoice.pdf_key):
        return None
    return store.get(invoice.pdf_key)


def pdf_filename(invoice: Invoice) -> str:
    """A file name safe for a header and a mail attachment, e.g. ``invoice-2026-0042.pdf``."""
    stem = "credit-note" if invoice.kind == DocumentKind.CREDIT_NOTE else "invoice"
    number = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.number)
    return f"{stem}-{number.strip('-') or invoice.id}.pdf"


def missing_pdf(invoice_ids: list[int]) -> list[int]:
    """Those of ``invoice_ids`` that have no PDF yet, in the schedule's order."""
    query = (
        db.select(Invoice.id)
        .where(Invoice.id.in_(invoice_ids), Invoice.pdf_key.is_(None))
        .order_by(Invoice.invoice_date, Invoice.id)
    )
    return list(db.session.scalars(query))
