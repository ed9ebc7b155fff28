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
from collector.core import clock, metrics
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid
from collector.core.ratelimit import RateLimited
from collector.documents import timeline
from collector.documents.models import DocumentKind, Invoice
from collector.extensions import db
from collector.runtime import queue
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.wordings import says
from collector.teamleader import TeamleaderClient, TeamleaderError
from collector.teamleader.crediting import apply_credit
from collector.teamleader.importer import BOOKED, Importer, Progress
from collector.teamleader.models import (
    DocumentImport,
    ImportSource,
    ImportStatus,
    TeamleaderConnection,
)
from collector.teamleader.wording import CREDIT_NOTE_REMOVED

MAX_RANGE_DAYS = 731  # two years: a longer range is a typo, not a plan
EARLIEST = date(2000, 1, 1)
SUBJECT_TYPES = ("invoice", "creditNote")
RESUMABLE = (ImportStatus.FAILED, ImportStatus.INTERRUPTED)


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
    mail_old_documents: bool = False,
) -> DocumentImport:
    """Record an import of a date range (both days included) or of ``subjects``
    (``[{type: invoice|creditNote, id}]``); a job runs it. Its overdue and older documents'
    invitations are held unless ``mail_old_documents`` (the person opted in)."""
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
        mail_old_documents=bool(mail_old_documents),
        counts={},
        problems=[],
        # Made by a job (a webhook delivery, the sweep): what becomes of the job's run
        # becomes of the import (``interrupt_orphans``).
        job_run_id=queue.current_run_id(),
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
    job_run_id: int | None = None,
) -> DocumentImport:
    """List the documents ``document_import`` asks for and import them.

    ``listed`` hands over (invoices, credit notes) already read, as the sweep does.
    A failure marks the import failed with the reason and is raised again; whole
    chunks imported before it stay, and running the same range again completes it.
    A spent rate limit (``RateLimited``) is no failure: the import is queued again, what
    it imported stays, and it is raised for the job to resume the import at the reset.
    ``job_run_id`` is the job running it (see ``_refuse_unless_runnable``).
    """
    imp, progress = document_import, progress or Progress()
    _refuse_unless_runnable(imp, job_run_id)
    imp.status, imp.started_at, imp.error = ImportStatus.RUNNING, utcnow(), None
    imp.job_run_id = job_run_id or imp.job_run_id
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
    except RateLimited as limited:
        _requeue(imp, limited, client, before)
        raise
    except Exception as exc:
        mark_failed(imp, exc, client, before)
        raise
    imp.status = ImportStatus.FINISHED
    _finish(imp, client, before)
    return imp


def _refuse_unless_runnable(imp: DocumentImport, job_run_id: int | None) -> None:
    """Queued, failed and interrupted imports run (the last two resume: what they
    imported is skipped). A running one only under the job recorded on it: that is rq
    running the same job again after its worker died, never a second job beside it."""
    if imp.status in (ImportStatus.QUEUED, *RESUMABLE):
        return
    if imp.status == ImportStatus.RUNNING and job_run_id and imp.job_run_id == job_run_id:
        return
    raise Conflict(f"Import {imp.id} is {imp.status.value}.")


def resume_import(imp: DocumentImport) -> DocumentImport:
    """Queue a failed or interrupted import again (its job is started by the caller).

    One conditional update, so a double click queues it once; its summary is sent again
    when it ends. Commits.
    """
    resumed = db.session.execute(
        db.update(DocumentImport)
        .where(DocumentImport.id == imp.id, DocumentImport.status.in_(RESUMABLE))
        .values(status=ImportStatus.QUEUED, error=None, finished_at=None, summary_sent_at=None)
    ).rowcount
    db.session.commit()
    db.session.refresh(imp)
    if not resumed:
        raise Conflict(
            f"Import #{imp.id} is {imp.status.value}: only a failed or interrupted import "
            "can be resumed."
        )
    return imp


def mark_interrupted(job_run_id: int, reason: str) -> int:
    """Job run ``job_run_id`` will not finish (its worker stopped, the queue lost it) and
    is not redone: its import, if still queued or running, becomes interrupted with
    ``reason``. Returns how many. Commits."""
    interrupted = db.session.execute(
        db.update(DocumentImport)
        .where(
            DocumentImport.job_run_id == job_run_id,
            DocumentImport.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]),
        )
        .values(
            status=ImportStatus.INTERRUPTED,
            error=f"{reason} What it imported stays; resume it or delete it.",
            finished_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    return interrupted


def interrupt_orphans() -> int:
    """Imports that say they are running while the job that ran them is over (its worker
    stopped and the job ran again, starting an import of its own): interrupted, to be
    resumed or deleted. Returns how many. Commits."""
    over = db.select(JobRun.id).where(JobRun.status.in_([JobStatus.FINISHED, JobStatus.FAILED]))
    interrupted = db.session.execute(
        db.update(DocumentImport)
        .where(DocumentImport.status == ImportStatus.RUNNING)
        .where(DocumentImport.job_run_id.in_(over))
        .values(
            status=ImportStatus.INTERRUPTED,
            error="The job running this import stopped before it finished. What it imported "
            "stays; resume it or delete it.",
            finished_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    return interrupted


def _requeue(
    imp: DocumentImport, limited: RateLimited, client: TeamleaderClient, before: Counter
) -> None:
    """Put ``imp`` back in the queue, saying what it waits for; whole chunks imported
    before the rate limit stay, and the run that resumes it skips them."""
    db.session.rollback()
    imp.status, imp.error = ImportStatus.QUEUED, limited.waiting
    _count_calls(imp, client, before)
    db.session.commit()


def end_at_rate_limit(imp: DocumentImport, limited: RateLimited) -> None:
    """End an automatic import a rate limit paused, keeping what it imported: nothing
    resumes it, because the webhook delivery or sweep that started it runs again after
    the reset and brings the rest in an import of its own."""
    imp.status, imp.finished_at = ImportStatus.FINISHED, utcnow()
    imp.error = f"Stopped at {limited.what}; the rest comes with the next automatic import."
    metrics.count_on_commit(db.session, metrics.IMPORTS.labels(imp.status.value))
    db.session.commit()


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
    _count_calls(imp, client, before)
    imp.finished_at = utcnow()
    metrics.count_on_commit(db.session, metrics.IMPORTS.labels(imp.status.value))
    db.session.commit()


def _count_calls(imp: DocumentImport, client: TeamleaderClient | None, before: Counter) -> None:
    """Add the Teamleader calls made since ``before`` to the import's (a resumed import
    adds up the calls of all its runs)."""
    if client is not None:
        calls = Counter(imp.api_calls or {})
        calls.update(Counter(client.calls) - before)
        imp.api_calls = dict(calls)


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
                says(CREDIT_NOTE_REMOVED, note=note.number, run=imp.id),
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


def mark_summary_sent(imp: DocumentImport) -> None:
    imp.summary_sent_at = utcnow()
    db.session.commit()
