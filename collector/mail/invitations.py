"""Invitations and reminders to customers, each sent exactly once (DESIGN §1.7).

What a document owes its customer is a ``DocumentMail`` row, unique per (document, key).
Rows are *queued* (at import, by a user, by the daily reminder run) and *delivered* by
jobs. Delivery first claims the row with one conditional UPDATE — ``waiting``/``failed`` →
``sending`` — so among any number of concurrent workers and retries exactly one sends it.
A mail server's refusal is certain and retried with backoff; a worker that dies between
the server's answer and our commit leaves the row ``sending``, later marked ``uncertain``:
maybe delivered, so never resent without a person deciding to.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from collector.core import clock
from collector.core.columns import utcnow
from collector.direct_debit.wording import STATE_WORDS
from collector.documents import timeline
from collector.documents.held_mail import HoldRule, note_held, release
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
    Profile,
)
from collector.dunning import policy, schedule
from collector.extensions import db
from collector.mail import wording
from collector.mail.composing import Postman, compose, sender_for

# Re-exported: the views ask ``invitations.already_invited``.
from collector.mail.invited import (  # noqa: F401
    RECEIVED,
    already_invited,
    invitations_of,
    last_received,
)
from collector.mail.models import MailStatus
from collector.mail.sending import send_mail
from collector.runtime import queue
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.wordings import (
    Sentence,
    date_value,
    english_of,
    instant_value,
    money_value,
    says,
    word,
)

INVITATION = "invitation"
RETRY_AFTER = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=8))
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
STALE_AFTER = timedelta(minutes=10)  # far beyond an SMTP timeout: the worker is gone
INVITABLE = (InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PENDING)
OPEN = (DocumentMailStatus.WAITING, DocumentMailStatus.SENDING, DocumentMailStatus.FAILED)
HELD = DocumentMailStatus.HELD
# The timeline event a sent mail of each kind is.
SENT_EVENTS = {
    DocumentMailKind.INVITATION: timeline.INVITATION_SENT,
    DocumentMailKind.REMINDER: timeline.REMINDER_SENT,
    DocumentMailKind.MANDATE_UNUSABLE: timeline.MANDATE_MAIL_SENT,
}


# -- queueing ---------------------------------------------------------------------------


def queue_invitation(invoice: Invoice, *, actor: str, again: bool = False) -> DocumentMail | None:
    """Owe ``invoice`` its invitation; with ``again``, one more after those already sent.

    Returns the row to deliver, or None when the first invitation is already owed or sent
    (``again`` is how a person confirms a second one). Commits.
    """
    row = _owe_invitation(invoice, actor, again=again)
    db.session.commit()
    return row


def invitable(invoice: Invoice) -> bool:
    """Whether an invitation may go out for ``invoice`` at all: an invoice still open with
    something due — never a credit note, nor a document paid, archived or credited in full.
    Checked when a person asks, when a row is queued and again when it is sent."""
    return (
        invoice.kind == DocumentKind.INVOICE
        and invoice.state in INVITABLE
        and invoice.amount_due > 0
    )


def _owe_invitation(
    invoice: Invoice, actor: str, *, again: bool, held: bool = False
) -> DocumentMail | None:
    """The invitation row, added in the caller's transaction (None: owed or sent already)."""
    if again:
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(DocumentMail)
            .where(DocumentMail.invoice_id == invoice.id)
            .where(DocumentMail.kind == DocumentMailKind.INVITATION)
        )
        key = f"{INVITATION}:again:{count + 1}"
    else:
        key = INVITATION
    needs_pdf = bool(invoice.profile and invoice.profile.invitation_requires_pdf)
    status = DocumentMailStatus.HELD if held else DocumentMailStatus.WAITING
    return owe(invoice, DocumentMailKind.INVITATION, key, actor, needs_pdf=needs_pdf, status=status)


def request_invitations(invoice_ids: list[int], *, actor: str, again: bool = False) -> list[int]:
    """A person asks to invite these documents: the rows to deliver now.

    A document never invited gets its invitation; one whose invitation is still owed gets
    that one (a failed one is tried again at once; a held one is released: the person
    asks for it); one that already received one — or may have — gets another only with
    ``again``, the person's confirmation. Documents paid, archived or credited get none.
    """
    owed = []
    invoices = db.session.scalars(sa.select(Invoice).where(Invoice.id.in_(invoice_ids))).all()
    invoices = [i for i in invoices if invitable(i)]
    history = invitations_of([i.id for i in invoices])
    held = [r.id for rows in history.values() for r in rows if r.status == HELD]
    if held:
        release(held, actor=actor)
    for invoice in invoices:
        rows = history.get(invoice.id, [])
        open_rows = [r for r in rows if r.status in OPEN]
        if open_rows:
            owed.append(open_rows[-1].id)
            continue
        if last_received(rows) and not again:
            continue
        row = queue_invitation(invoice, actor=actor, again=bool(rows))
        if row is not None:
            owed.append(row.id)
    return owed


def queue_on_import(invoice_ids: list[int], *, actor: str, rule: HoldRule | None = None) -> int:
    """Owe an invitation to each new document whose profile sends one on import; those
    ``rule`` holds (overdue, or dated too far back) are owed it ``held``, for a person.

    Does not commit: the import's chunk that brings the documents in commits their
    invitations with them, so no crash can leave one without the other. Returns how many
    will go out without a person (the held ones not counted).
    """
    rule = rule or HoldRule.of(clock.local_today(), None, opted_in=False)
    query = (
        sa.select(Invoice)
        .join(Profile, Invoice.profile_id == Profile.id)
        .where(Invoice.id.in_(invoice_ids), Profile.send_invitation_on_import.is_(True))
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.state.in_(INVITABLE))
        .where(Invoice.amount_due > 0)
    )
    queued = 0
    for invoice in db.session.scalars(query).all():
        held = rule.holds(invoice.invoice_date, invoice.due_date)
        row = _owe_invitation(invoice, actor, again=False, held=held)
        if row is not None and held:
            note_held(row, invoice, rule, actor)
        queued += row is not None and not held
    return queued


def owe(
    invoice: Invoice,
    kind: DocumentMailKind,
    key: str,
    actor: str,
    *,
    needs_pdf: bool = False,
    days: int | None = None,
    status: DocumentMailStatus = DocumentMailStatus.WAITING,
) -> DocumentMail | None:
    """Add the row in the caller's transaction; None when its key is owed or sent already
    (``reminders`` owes the dunning steps' rows through it too)."""
    row = DocumentMail(
        invoice_id=invoice.id,
        kind=kind,
        key=key,
        status=status,
        needs_pdf=needs_pdf,
        days_overdue=days,
        actor=actor[:128],
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # Someone queued the same key first (a concurrent import, a double click): theirs
        # stands. Only the savepoint is undone; the caller's transaction goes on.
        return None
    return row


# -- delivering -------------------------------------------------------------------------


def deliverable(now: datetime, invoice_ids: list[int] | None = None, limit: int = 500) -> list[int]:
    """Rows whose time has come: waiting (with their PDF, if they need it) or due a retry."""
    has_pdf = sa.exists().where(Invoice.id == DocumentMail.invoice_id, Invoice.pdf_key.isnot(None))
    waiting = (DocumentMail.status == DocumentMailStatus.WAITING) & (
        DocumentMail.needs_pdf.is_(False) | has_pdf
    )
    retry = (DocumentMail.status == DocumentMailStatus.FAILED) & (DocumentMail.retry_at <= now)
    query = sa.select(DocumentMail.id).where(waiting | retry).order_by(DocumentMail.id).limit(limit)
    if invoice_ids is not None:
        query = query.where(DocumentMail.invoice_id.in_(invoice_ids))
    return list(db.session.scalars(query))


def deliver(mail_id: int, postman: Postman, now: datetime | None = None) -> DocumentMail | None:
    """Send one owed email if this worker wins its claim; returns the row, or None if lost."""
    now = now or utcnow()
    if not _claim(mail_id, now):
        return None
    row = db.session.get(DocumentMail, mail_id)
    invoice = row.invoice
    if row.needs_pdf and invoice.pdf_key is None:
        # "Only with the PDF": whoever asked for this row, it waits for the PDF.
        row.status, row.attempts = DocumentMailStatus.WAITING, row.attempts - 1
        db.session.commit()
        return None
    reason = not_owed(row.kind, invoice, clock.local_date(now))
    if reason:
        return _cancel(row, reason, now)
    row.recipient = invoice.customer.email
    try:
        letter, attachments = compose(row, invoice, postman, clock.local_date(now))
        message = send_mail(
            postman.mailer,
            sender_for(invoice, postman),
            kind=row.kind.value,
            recipient=invoice.customer.email,
            subject=letter.subject,
            text=letter.text,
            html=letter.html,
            attachments=attachments,
        )
    except ValueError as exc:
        # A malformed address (or subject) will not get better by retrying.
        db.session.rollback()
        return _cancel(row, str(exc), now)
    except Exception as exc:
        # Nothing reached the mail server: a certain failure, retried like one.
        db.session.rollback()
        return _failed(row, f"{type(exc).__name__}: {exc}", now)
    row.mail_message_id = message.id
    if message.status == MailStatus.FAILED:
        return _failed(row, message.error or "refused", now)
    row.sent_at = now
    kind = SENT_EVENTS[row.kind]
    return _finish(row, DocumentMailStatus.SENT, kind, _sent_text(row, attachments), now)


def _claim(mail_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(DocumentMail)
        .where(DocumentMail.id == mail_id)
        .where(DocumentMail.status.in_([DocumentMailStatus.WAITING, DocumentMailStatus.FAILED]))
        .values(
            status=DocumentMailStatus.SENDING,
            claimed_at=now,
            claimed_by_run_id=queue.current_run_id(),
            attempts=DocumentMail.attempts + 1,
            updated_at=now,
        )
    ).rowcount
    db.session.commit()
    return claimed == 1


def not_owed(kind: DocumentMailKind, invoice: Invoice, today: date) -> Sentence | None:
    """Why a mail of ``kind`` for ``invoice`` must not go out ``today`` (None: it may);
    asked at send time, and by the dry run (``mail.outlook``)."""
    if invoice.kind != DocumentKind.INVOICE:
        return says(wording.CREDIT_NOTE)
    # Checked again at send time: paid, archived or credited since the row was queued.
    allowed = schedule.CHASEABLE if kind == DocumentMailKind.REMINDER else INVITABLE
    if invoice.state not in allowed or invoice.amount_due <= 0:
        due = money_value(invoice.amount_due, invoice.currency)
        state = word(STATE_WORDS[invoice.state.value], english=invoice.state.value)
        return says(wording.NOT_OPEN, state=state, due=due)
    if not invoice.customer.email:
        return says(wording.NO_ADDRESS, name=invoice.customer.name)
    if kind == DocumentMailKind.REMINDER:
        # Held, or a debit announced since it was queued. The wait for the bank statement
        # applies when reminders are queued, not here: a queued one would be lost.
        blocker = policy.chase_blocker(invoice, today)
        if blocker is not None:
            return blocker
        if not schedule.may_chase(invoice, today):
            return says(wording.NOT_OVERDUE)
    return None


def _sent_text(row: DocumentMail, attachments: list) -> Sentence:
    msgid = wording.SENT[row.kind, bool(attachments)]
    sent = says(msgid, recipient=row.recipient)
    if row.kind == DocumentMailKind.REMINDER:
        sent = wording.step_sent(row, bool(attachments))
    if row.direct_debit_on is not None:
        return says(wording.ANNOUNCES, sent=sent, day=date_value(row.direct_debit_on))
    return sent


def _failed(row: DocumentMail, error: str, now: datetime) -> DocumentMail:
    row.error = error[:500]
    if row.attempts < MAX_ATTEMPTS:
        row.retry_at = now + RETRY_AFTER[row.attempts - 1]
        # The company's wall-clock time, as everywhere a person reads a time.
        retry = instant_value(row.retry_at)
        text = says(wording.FAILED, recipient=row.recipient, error=error, at=retry)
    else:
        row.retry_at = None
        text = says(wording.GAVE_UP, recipient=row.recipient, attempts=row.attempts, error=error)
    return _finish(row, DocumentMailStatus.FAILED, timeline.MAIL_FAILED, text, now)


def _cancel(row: DocumentMail, reason: str | Sentence, now: datetime) -> DocumentMail:
    row.error = english_of(reason)[:500]
    text = says(wording.NOT_SENT[row.kind], reason=reason)
    return _finish(row, DocumentMailStatus.CANCELLED, timeline.MAIL_CANCELLED, text, now)


def _finish(
    row: DocumentMail, status: DocumentMailStatus, kind: str, text: Sentence, now: datetime
) -> DocumentMail:
    row.status = status
    row.updated_at = now
    timeline.record(row.invoice, kind, text, actor=row.actor, mail=row.key, attempt=row.attempts)
    db.session.commit()
    return row


def mark_stalled(now: datetime, *, starting_run: int | None = None) -> int:
    """Rows left ``sending`` by a worker that died: ``uncertain``, for a person to judge.

    Known at once when the job that claimed the row is over (rq ran it again after its
    worker stopped, or gave it up), or when that job is ``starting_run`` starting to send
    again: rq runs a job whose worker died again under the same run, and a run that has
    not sent anything yet has nothing of its own in flight. Otherwise, when the claim is
    older than any send.
    """
    over = sa.select(JobRun.id).where(JobRun.status.in_([JobStatus.FINISHED, JobStatus.FAILED]))
    stalled = (DocumentMail.claimed_at < now - STALE_AFTER) | DocumentMail.claimed_by_run_id.in_(
        over
    )
    if starting_run is not None:
        stalled = stalled | (DocumentMail.claimed_by_run_id == starting_run)
    stale = db.session.scalars(
        sa.select(DocumentMail)
        .where(DocumentMail.status == DocumentMailStatus.SENDING)
        .where(stalled)
    ).all()
    for row in stale:
        text = says(wording.UNCERTAIN[row.kind], email=row.invoice.customer.email)
        _finish(row, DocumentMailStatus.UNCERTAIN, timeline.MAIL_UNCERTAIN, text, now)
    return len(stale)
