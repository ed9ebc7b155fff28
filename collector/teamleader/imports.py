"""Imports of booked invoices and credit notes from Teamleader (DESIGN §1.3).

An import is a ``DocumentImport`` row: created here with its range or its ids,
run by a job (``run_import``), summarised by email, and deletable afterwards. The
API budget: one list call per 100 documents per department, one batched customer
call per 100 customers, ``invoices.info`` only when a custom field chooses profiles.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from collector.accounts.models import User
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid
from collector.documents import signals, timeline
from collector.documents.models import DocumentKind, Invoice
from collector.extensions import db
from collector.teamleader import TeamleaderClient, TeamleaderError
from collector.teamleader.crediting import apply_credit
from collector.teamleader.importer import BOOKED, Importer, Progress
from collector.teamleader.models import (
    DocumentImport,
    ImportSource,
    ImportStatus,
    TeamleaderConnection,
)

MAX_RANGE_DAYS = 731  # two years: a longer range is a typo, not a plan
EARLIEST = date(2000, 1, 1)
SUBJECT_TYPES = ("invoice", "creditNote")


def validate_range(date_from: date | None, date_to: date | None, today: date) -> None:
    """Refuse a range that is missing, reversed, in the future or absurdly long."""
    errors: dict[str, list[str]] = {}
    if date_from is None:
        errors["date_from"] = ["Give the first day of the range."]
    if date_to is None:
        errors["date_to"] = ["Give the last day of the range."]
    if errors:
        raise Invalid(errors)
    if date_from > date_to:
        errors["date_to"] = ["The range ends before it starts."]
    elif date_from < EARLIEST:
        errors["date_from"] = [f"Choose a day after {EARLIEST.isoformat()}."]
    elif date_from > today:
        errors["date_from"] = ["The range starts in the future."]
    elif (date_to - date_from).days >= MAX_RANGE_DAYS:
        errors["date_to"] = [f"Import at most {MAX_RANGE_DAYS} days at once."]
    if errors:
        raise Invalid(errors)


def create_import(
    source: ImportSource,
    *,
    user: User | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    subjects: list[dict] | None = None,
    today: date | None = None,
) -> DocumentImport:
    """Record an import of a date range (both days included) or of ``subjects``
    (``[{type: invoice|creditNote, id}]``); a job runs it."""
    if subjects is None:
        validate_range(date_from, date_to, today or clock.local_today())
    elif not subjects or any(
        s.get("type") not in SUBJECT_TYPES or not s.get("id") for s in subjects
    ):
        raise Invalid({"subjects": ["Give invoices or credit notes to import."]})
    document_import = DocumentImport(
        source=source,
        user_id=getattr(user, "id", None),
        date_from=date_from if subjects is None else None,
        date_to=date_to if subjects is None else None,
        teamleader_ids=list(subjects or []),
        counts={},
        problems=[],
    )
    db.session.add(document_import)
    db.session.commit()
    return document_import


def run_import(
    client: TeamleaderClient,
    connection: TeamleaderConnection,
    document_import: DocumentImport,
    *,
    progress: Progress | None = None,
    today: date | None = None,
    listed: tuple[list[dict], list[dict]] | None = None,
) -> DocumentImport:
    """List the documents ``document_import`` asks for and import them.

    ``listed`` hands over (invoices, credit notes) already read, as the sweep does.
    A failure marks the import failed with the reason and is raised again; whole
    chunks imported before it stay, and running the same range again completes it.
    """
    imp, progress = document_import, progress or Progress()
    if imp.status not in (ImportStatus.QUEUED, ImportStatus.FAILED):
        raise Conflict(f"Import {imp.id} is {imp.status.value}.")
    imp.status, imp.started_at, imp.error = ImportStatus.RUNNING, utcnow(), None
    db.session.commit()
    before = Counter(client.calls)
    importer = Importer(
        client, connection, imp, today=today or clock.local_today(), actor=actor_of(imp)
    )
    try:
        if listed is None:
            progress.say("Reading documents from Teamleader…")
            listed = list_documents(client, connection, imp)
        importer.run(*listed, progress)
    except Exception as exc:
        mark_failed(imp, exc, client, before)
        _queue_invitations(imp)
        raise
    imp.status = ImportStatus.FINISHED
    _finish(imp, client, before)
    _queue_invitations(imp)
    return imp


def _queue_invitations(imp: DocumentImport) -> None:
    """Announce the import's documents; the mail domain owes their invitations."""
    # Also after a failure: what was imported stays, and a rerun skips it, so this is
    # the one chance those documents have to be invited on import.
    new = db.session.scalars(db.select(Invoice.id).where(Invoice.import_id == imp.id)).all()
    signals.send(signals.documents_imported, actor_of(imp), invoice_ids=list(new))


def mark_failed(
    imp: DocumentImport,
    exc: Exception,
    client: TeamleaderClient | None = None,
    before: Counter | None = None,
) -> None:
    """Record that ``imp`` stopped because of ``exc``."""
    db.session.rollback()
    imp.status, imp.error = ImportStatus.FAILED, failure_reason(exc)
    _finish(imp, client, before or Counter())


def _finish(imp: DocumentImport, client: TeamleaderClient | None, before: Counter) -> None:
    if client is not None:
        calls = Counter(imp.api_calls or {})
        calls.update(Counter(client.calls) - before)
        imp.api_calls = dict(calls)
    imp.finished_at = utcnow()
    db.session.commit()


def failure_reason(exc: Exception) -> str:
    """A reason for the history and the summary, naming Teamleader when it was Teamleader."""
    if isinstance(exc, TeamleaderError):
        return f"Teamleader failed: {exc}. What was imported stays; run the import again."
    return f"{type(exc).__name__}: {exc}"


def list_documents(
    client: TeamleaderClient, connection: TeamleaderConnection, imp: DocumentImport
) -> tuple[list[dict], list[dict]]:
    """(invoices, credit notes) in list shape: by range per chosen department, or by id."""
    if imp.teamleader_ids:
        wanted = {
            kind: [s["id"] for s in imp.teamleader_ids if s["type"] == kind]
            for kind in SUBJECT_TYPES
        }
        invoices = list(client.invoices_by_ids(wanted["invoice"]).values())
        notes = (
            list(client.credit_notes_list(ids=wanted["creditNote"])) if wanted["creditNote"] else []
        )
        return invoices, notes
    invoices: list[dict] = []
    notes: list[dict] = []
    for department_id in connection.import_department_ids or []:
        invoices += client.invoices_list(
            department_id=department_id,
            status=list(BOOKED),
            invoice_date_after=imp.date_from,
            invoice_date_before=imp.date_to,
        )
        notes += client.credit_notes_list(
            department_id=department_id,
            credit_note_date_after=imp.date_from,
            # Exclusive on creditNotes.list, unlike invoices.list (reference §7).
            credit_note_date_before=imp.date_to + timedelta(days=1),
        )
    invoices.sort(key=lambda r: (r.get("invoice_date") or date.min, r["id"]))
    notes.sort(key=lambda r: (r.get("credit_note_date") or date.min, r["id"]))
    return invoices, notes


def actor_of(imp: DocumentImport) -> str:
    """Who the timeline says did it."""
    if imp.source == ImportSource.MANUAL and imp.user is not None:
        return f"user:{imp.user.email}"
    return {
        ImportSource.API: "api",
        ImportSource.CLI: "cli",
        ImportSource.WEBHOOK: "teamleader webhook",
        ImportSource.SWEEP: "teamleader sweep",
    }.get(imp.source, "import")


def delete_import(imp: DocumentImport, user: User | None) -> DocumentImport:
    """Remove the import's documents nothing has happened to since; keep its customers.

    A document is kept when any event on it came from elsewhere (an invitation, a
    payment, a credit note of another import…). A removed credit note whose invoice
    stays gives that invoice its amount back.
    """
    if not imp.done:
        raise Conflict("The import is still running; delete it when it has finished.")
    if imp.status == ImportStatus.DELETED:
        raise Conflict("This import was deleted already.")
    documents = db.session.scalars(db.select(Invoice).where(Invoice.import_id == imp.id)).all()
    doomed = [d for d in documents if timeline.untouched_since_import(d.events, imp.id)]
    doomed_ids = {d.id for d in doomed}
    actor = f"user:{user.email}" if user is not None else "system"
    for note in (d for d in doomed if d.kind == DocumentKind.CREDIT_NOTE):
        invoice = note.credited_invoice
        if invoice is not None and invoice.id not in doomed_ids:
            note.credited_invoice_id = None
            db.session.flush()
            apply_credit(invoice, None, actor, None)
            timeline.record(
                invoice,
                timeline.CREDIT_NOTE_REMOVED,
                f"Credit note {note.number} removed with its import #{imp.id}.",
                actor=actor,
                credit_note=note.number,
            )
    for document in doomed:
        db.session.delete(document)
    imp.status = ImportStatus.DELETED
    imp.deleted_at = utcnow()
    imp.deleted_by_id = getattr(user, "id", None)
    imp.deleted_documents = len(doomed)
    imp.kept_documents = len(documents) - len(doomed)
    db.session.commit()
    return imp


def recent_imports(limit: int = 50, *, include_automatic: bool = True) -> list[DocumentImport]:
    """The import history, newest first."""
    query = db.select(DocumentImport).order_by(DocumentImport.id.desc()).limit(limit)
    if not include_automatic:
        query = query.where(
            DocumentImport.source.not_in([ImportSource.WEBHOOK, ImportSource.SWEEP])
        )
    return list(db.session.scalars(query))


def summary(imp: DocumentImport) -> tuple[str, str]:
    """Subject and plain-text body of the summary email."""
    span = (
        f"{imp.date_from.isoformat()} to {imp.date_to.isoformat()}"
        if imp.date_from and imp.date_to
        else f"{len(imp.teamleader_ids)} document(s)"
    )
    outcome = "failed" if imp.status == ImportStatus.FAILED else "finished"
    subject = f"Teamleader import #{imp.id} {outcome}: {imp.count('imported')} imported"
    lines = [
        f"Import #{imp.id} of {span} {outcome}.",
        "",
        f"Imported:       {imp.count('imported')}"
        f" ({imp.count('invoices')} invoices, {imp.count('credit_notes')} credit notes;"
        f" {imp.count('not_collected')} paid or with nothing to collect)",
        f"Skipped:        {imp.count('skipped')}",
        f"Failed:         {imp.count('failed')}",
        f"Customers:      {imp.count('customers_created')} new,"
        f" {imp.count('customers_updated')} updated",
        f"Teamleader API: {imp.api_call_total} calls",
    ]
    if imp.error:
        lines += ["", f"Reason: {imp.error}"]
    if imp.problems:
        lines += ["", "Skipped and failed documents:"]
        lines += [
            f"- {p.get('number') or p.get('teamleader_id')}: {p['outcome']}, {p['reason']}"
            for p in imp.problems[:100]
        ]
        if len(imp.problems) > 100:
            lines.append(f"… and {len(imp.problems) - 100} more, listed in the import history.")
    return subject, "\n".join(lines) + "\n"


def mark_summary_sent(imp: DocumentImport) -> None:
    imp.summary_sent_at = utcnow()
    db.session.commit()
