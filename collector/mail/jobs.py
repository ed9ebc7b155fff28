"""The mail domain's rq jobs: invitations and reminders to customers, and the notices
(``accounts.alerts``) every domain sends to people.

Thin: each reads its arguments, builds the mailer, calls one operation and records the
outcome on its JobRun. Mail follows up on what the Teamleader jobs brought in
(``teamleader.signals``): what became owed goes out at once, not at the next run.
"""

from __future__ import annotations

from flask import current_app

from collector.accounts import alerts
from collector.core import clock
from collector.core.columns import utcnow
from collector.direct_debit import signing
from collector.documents.models import DocumentMail, DocumentMailStatus
from collector.dunning import hand_offs
from collector.extensions import db
from collector.mail import debit_notices, invitations, mandate_mail, reminders
from collector.mail import setup as mail_setup
from collector.mail.composing import Postman
from collector.mail.models import MailStatus
from collector.mail.sending import send_mail
from collector.runtime import jobs as runtime_jobs
from collector.runtime import queue
from collector.runtime import setup as runtime_setup
from collector.runtime.queue import Periodic, Progress, check_actor, check_ids, tracked
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import pdfs, signals
from collector.teamleader.connection import department_names


@tracked
def send_invitations(
    invoice_ids: list[int], actor: str, again: bool = False, *, progress: Progress
) -> str:
    """A user's "send invitation": fetch missing PDFs first, then send what is owed."""
    ids = check_ids(invoice_ids)
    owed = invitations.request_invitations(ids, actor=check_actor(actor), again=bool(again))
    missing = pdfs.missing_pdf(ids)
    connection = teamleader_jobs.usable_connection()
    if missing and connection is not None:
        progress.say(f"Fetching {len(missing)} PDF(s) first…")
        # Sends those that waited for them (``_pdfs_fetched``).
        teamleader_jobs.fetch_pdfs_now(connection, missing, actor, progress)
    ready = set(invitations.deliverable(utcnow(), invoice_ids=ids))
    _deliver([mail_id for mail_id in owed if mail_id in ready])
    statuses = [db.session.get(DocumentMail, mail_id).status for mail_id in owed]
    sent = statuses.count(DocumentMailStatus.SENT)
    waiting = statuses.count(DocumentMailStatus.WAITING)
    text = f"{sent} invitation(s) sent, {len(ids) - len(owed)} sent before and not again"
    return text + (f", {waiting} waiting for their PDF" if waiting else "")


@tracked
def send_reminders_now(invoice_ids: list[int], actor: str, *, progress: Progress) -> str:
    """A user's "send reminder now": each document's next dunning step, at once."""
    ids = check_ids(invoice_ids)
    owed = reminders.request_reminders(ids, clock.local_today(), actor=check_actor(actor))
    ready = set(invitations.deliverable(utcnow(), invoice_ids=ids))
    progress.total(len(owed))
    sent = _deliver([mail_id for mail_id in owed if mail_id in ready], progress)
    return f"{sent} reminder(s) sent, {len(ids) - len(owed)} not chased (paid, not overdue…)"


@tracked
def send_released(mail_ids: list[int], *, progress: Progress) -> str:
    """Send the held invitations a person released: exactly these, those ready now (a
    profile that sends only with the PDF still waits for it; the schedule sends it then)."""
    ids = check_ids(mail_ids)
    rows = db.session.scalars(db.select(DocumentMail).where(DocumentMail.id.in_(ids))).all()
    documents = [row.invoice_id for row in rows]
    ready = set(invitations.deliverable(utcnow(), invoice_ids=documents, limit=len(ids) * 4))
    chosen = [mail_id for mail_id in ids if mail_id in ready]
    progress.total(len(chosen))
    sent = _deliver(chosen, progress)
    waiting = len(ids) - len(chosen)
    return f"{sent} invitation(s) sent" + (f", {waiting} waiting for their PDF" if waiting else "")


@tracked
def deliver_mail(*, progress: Progress) -> str:
    """Send every owed invitation and reminder whose time has come; retry failed ones."""
    now = utcnow()
    stalled = invitations.mark_stalled(now)
    # What failed direct debits call for (a new pre-notification, a mandate unusable).
    debit_notices.owe_notices()
    db.session.commit()
    ids = invitations.deliverable(now)
    progress.total(len(ids))
    sent = _deliver(ids, progress)
    return f"{sent} email(s) sent" + (f", {stalled} marked uncertain" if stalled else "")


@tracked
def send_reminders(*, progress: Progress) -> str:
    """The daily reminder run: owe each reminder its day has reached, then send them."""
    queued = reminders.queue_reminders(clock.local_today())
    hand_offs.record_hand_offs(clock.local_today())
    ids = invitations.deliverable(utcnow())
    progress.total(len(ids))
    sent = _deliver(ids, progress)
    return f"{queued} reminder(s) due, {sent} email(s) sent"


def _deliver(mail_ids: list[int], progress: Progress | None = None) -> int:
    run_id = queue.current_run_id()
    if run_id is not None:
        # Run again after its worker died: what it claimed then is uncertain, not lost.
        invitations.mark_stalled(utcnow(), starting_run=run_id)
    postman = _postman()
    sent = 0
    for mail_id in mail_ids:
        row = invitations.deliver(mail_id, postman)
        sent += row is not None and row.status == DocumentMailStatus.SENT
        if progress is not None:
            progress.advance()
    return sent


def _postman() -> Postman:
    return Postman(
        mailer=mail_setup.mailer(current_app),
        sender=mail_setup.sender(current_app),
        store=runtime_setup.document_store(current_app),
        payment_base_url=mail_setup.payment_base_url(current_app),
        creditors=department_names(),
        portal_base_url=mail_setup.portal_base_url(current_app),
    )


def _deliver_soon(_sender, **_details) -> None:
    """After an import, a webhook or a sweep: send what it made owed in a job of its own."""
    if invitations.deliverable(utcnow(), limit=1):
        current_app.extensions["jobs"].enqueue(deliver_mail)


def _pdfs_fetched(_actor: str, *, invoice_ids: list[int]) -> int:
    """Invitations that waited for these PDFs go out now, in the job that fetched them."""
    return _deliver(invitations.deliverable(utcnow(), invoice_ids=invoice_ids))


@tracked
def send_mandate_copy(signature_id: int, *, progress: Progress) -> str:
    """The signatory's copy of the mandate they signed online, its PDF attached."""
    message = mandate_mail.send_copy(int(signature_id))
    return f"mandate copy {message.status.value} to {message.recipient}"


@tracked
def send_signing_link(customer_id: int, *, progress: Progress) -> str:
    """A team member sends a customer the link to sign a mandate online."""
    message = mandate_mail.send_link(int(customer_id))
    return f"signing link {message.status.value} to {message.recipient}"


def _mandate_signed(signature_id: int, **_details) -> None:
    current_app.extensions["jobs"].enqueue(send_mandate_copy, signature_id)


def _signing_link_requested(customer_id: int, **_details) -> None:
    current_app.extensions["jobs"].enqueue(send_signing_link, customer_id)


def _send_notice(
    recipient: str, *, kind: str, subject: str, text: str, kept_text: str | None = None
) -> bool:
    message = send_mail(
        mail_setup.mailer(current_app),
        mail_setup.sender(current_app),
        kind=kind,
        recipient=recipient,
        subject=subject,
        text=text,
        kept_text=kept_text,
    )
    return message.status != MailStatus.FAILED


# UTC, hourly from 7 or 8 in the morning in Belgium and the Netherlands into the afternoon.
REMINDER_CRON = "0 6-13 * * *"

PERIODIC = (
    # Owed invitations and retries of failed ones; the jobs that make mail owed also
    # start this at once, so this is the safety net.
    Periodic(deliver_mail, "default", interval=5 * 60),
    # Reminders, from early morning in Belgium and the Netherlands, hourly until the
    # afternoon: where the company uploads bank statements, reminders wait for today's
    # (``dunning.policy``); each run owes only what the last did not, so none is doubled.
    Periodic(send_reminders, "default", cron=REMINDER_CRON),
)


def connect() -> None:
    """Send what the Teamleader jobs made owed as soon as they end; send every domain's
    notices (``accounts.alerts``) as emails; mark mails a stopped worker was sending."""
    signals.import_ended.connect(_deliver_soon, weak=False)
    signals.changes_read.connect(_deliver_soon, weak=False)
    signals.pdfs_fetched.connect(_pdfs_fetched, weak=False)
    alerts.notice.connect(_send_notice, weak=False)
    signing.signed.connect(_mandate_signed, weak=False)
    signing.link_requested.connect(_signing_link_requested, weak=False)
    # A mail whose worker stopped mid-send is "uncertain" as soon as recovery sees it.
    runtime_jobs.recover_along("mails uncertain", lambda: invitations.mark_stalled(utcnow()))
