"""rq entry points: thin, they take ids, build the clients, call one service and
record the outcome on their JobRun (see ``collector.runtime.queue.tracked``)."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, has_app_context

from collector import clients
from collector.accounts import users
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict
from collector.direct_debit import mandate_upload, mandates
from collector.documents import callbacks as status_callbacks
from collector.documents import ledger
from collector.documents.models import CallbackStatus, DocumentMail, DocumentMailStatus
from collector.exact import connection as exact_connection
from collector.exact import forwarding, payment_status
from collector.exact.models import SyncTrigger
from collector.extensions import db
from collector.mail import invitations as customer_mail
from collector.mail.models import MailStatus
from collector.mail.sending import send_mail
from collector.payments import checkout
from collector.runtime import doorbell as outbox
from collector.runtime import housekeeping
from collector.runtime.models import JobRun
from collector.runtime.queue import Progress, tracked
from collector.teamleader import build_session, imports, notifications, payment_sync, pdfs
from collector.teamleader.connection import (
    current_connection,
    department_names,
    ensure_connected,
)
from collector.teamleader.models import (
    ConnectionStatus,
    DocumentImport,
    TeamleaderConnection,
    TeamleaderSync,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

# The delivery job of each outbox channel (filled in below, next to the jobs).
DELIVERERS: dict = {}


@tracked
def prune_job_runs(keep_days: int = 90, *, progress: Progress) -> str:
    """Delete old job history and old webhook deliveries."""
    progress.total(1)
    deleted = housekeeping.prune_job_runs(keep_days)
    deliveries = notifications.prune_webhook_deliveries(30)
    progress.advance(deleted=deleted, deliveries=deliveries)
    return (
        f"Deleted {deleted} job runs older than {keep_days} days, {deliveries} webhook deliveries"
    )


@tracked
def run_import(import_id: int, *, progress: Progress) -> str:
    """Run one import and email its summary to whoever started it."""
    imp = db.session.get(DocumentImport, import_id)
    if imp is None:
        raise ValueError(f"no import {import_id}")
    try:
        connection = ensure_connected(current_connection())
        client = clients.teamleader_client(current_app, connection)
        imports.run_import(client, connection, imp, progress=progress)
    except Exception as exc:
        # Failures inside the import are recorded by it; these came before (not connected…).
        if not imp.done:
            imports.mark_failed(imp, exc)
        raise
    finally:
        _send_summary(imp)
        _deliver_soon()
        _forward_soon()
    return imports.summary(imp)[0]


def start_import(document_import: DocumentImport, user=None) -> JobRun:
    """Queue the job that runs ``document_import`` and note it on the import."""
    run = current_app.extensions["jobs"].enqueue(run_import, document_import.id, user=user)
    document_import.job_run_id = run.id
    db.session.commit()
    return run


def _send_summary(imp: DocumentImport) -> None:
    """The summary goes to the user who started the import; automatic ones have none."""
    if imp.user is None or imp.summary_sent_at is not None:
        return
    subject, text = imports.summary(imp)
    message = send_mail(
        clients.mailer(current_app),
        clients.mail_sender(current_app),
        kind="import_summary",
        recipient=imp.user.email,
        subject=subject,
        text=text,
    )
    if message.status != MailStatus.FAILED:
        imports.mark_summary_sent(imp)


@tracked
def handle_teamleader_delivery(delivery_id: int, *, progress: Progress) -> str:
    """Act on one webhook delivery: re-read its subject through the API."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise ValueError(f"no webhook delivery {delivery_id}")
    connection = db.session.get(TeamleaderConnection, delivery.connection_id)
    client = clients.teamleader_client(current_app, connection)
    try:
        return notifications.handle_delivery(client, delivery)
    finally:
        _deliver_soon()


@tracked
def sweep_teamleader(*, progress: Progress) -> str:
    """Import and update what changed in Teamleader since the last sweep."""
    connection = current_connection()
    if connection is None or not connection.auto_import:
        return "Automatic import is off."
    ensure_connected(connection)
    client = clients.teamleader_client(current_app, connection)
    try:
        return notifications.sweep(client, connection, utcnow())
    finally:
        _deliver_soon()


# -- PDFs -------------------------------------------------------------------------------


@tracked
def fetch_scheduled_pdfs(*, progress: Progress) -> str:
    """Fetch the PDFs of the documents lacking one, oldest first, a bounded number per run."""
    connection = _connected()
    if connection is None:
        return "Not connected to Teamleader."
    ids = pdfs.due_for_pdf(current_app.config["PDF_BATCH_SIZE"], utcnow())
    return _fetch_pdfs(connection, ids, "job:fetch_pdfs", progress)


@tracked
def fetch_pdfs(invoice_ids: list[int], actor: str, *, progress: Progress) -> str:
    """Fetch the PDFs of the documents a user chose (those that still lack one)."""
    ids, actor = _ids(invoice_ids), _actor(actor)
    return _fetch_pdfs(ensure_connected(current_connection()), ids, actor, progress)


def _fetch_pdfs(connection, ids: list[int], actor: str, progress: Progress) -> str:
    progress.total(len(ids))
    if not ids:
        return "No PDFs to fetch."
    # The PDF schedule uses a share of the account's rate budget, never all of it.
    client = clients.teamleader_client(current_app, connection, share="pdf")
    store = clients.document_store(current_app)
    result = pdfs.fetch_pdfs(
        client, clients.file_fetcher(current_app), store, ids, actor=actor, progress=progress
    )
    # Invitations that waited for these PDFs go out now, not at the next mail run.
    sent = _deliver(customer_mail.deliverable(utcnow(), invoice_ids=result.fetched))
    if result.fetched:
        _forward_soon()  # the PDF was what their Exact booking waited for
    return f"{result.summary()}; {sent} email(s) sent"


# -- Exact Online -------------------------------------------------------------------------


@tracked
def forward_to_exact(trigger: str = "schedule", *, progress: Progress) -> str:
    """Book in Exact what is due there; then, if asked, read payment status back."""
    trigger = SyncTrigger(trigger)
    now = utcnow()
    forwarding.prune_history(now)
    connection = exact_connection.current_exact()
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return "Exact Online is not connected."
    if not connection.forwarding or not connection.division:
        # Not configured yet; still use the refresh token now and then so it never dies.
        clients.exact_token_source(current_app, connection).keep_alive()
        return "Exact Online settings are not saved yet."
    exact_client = clients.exact_client(current_app, connection)
    teamleader = ensure_connected(current_connection())
    try:
        run = forwarding.forward(
            connection,
            exact_client,
            clients.teamleader_client(current_app, teamleader),
            clients.document_store(current_app),
            trigger=trigger,
            limit=current_app.config["EXACT_BATCH_SIZE"],
            alert=_alert_exact_failures,
        )
    except forwarding.RunBusy:
        return "Another Exact Online run is in progress."
    if connection.read_payments and run.problem is None:
        before = sum(exact_client.calls.values())
        run.paid = payment_status.read_payments(connection, exact_client)
        run.calls += sum(exact_client.calls.values()) - before
        db.session.commit()
    progress.advance(booked=run.booked, failed=run.failed)
    summary = f"{run.booked} booked, {run.found} found, {run.failed} failed, {run.waiting} waiting"
    return summary + (f"; {run.problem}" if run.problem else "")


def _forward_soon() -> None:
    """New documents or PDFs: book them in Exact now rather than at the next sweep."""
    connection = exact_connection.current_exact()
    if connection is not None and connection.forwarding:
        current_app.extensions["jobs"].enqueue(forward_to_exact, SyncTrigger.EVENT.value)


def _alert_exact_failures(bookings) -> None:
    """Documents that failed ``alert_after`` runs in a row: one email to the admins."""
    listing = "\n".join(f"  {b.invoice.number}: {b.reason}" for b in bookings)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    text = (
        f"These documents could not be booked in Exact Online, run after run:\n\n{listing}\n\n"
        "They are tried again at every run. The sync history shows each attempt:\n"
        f"{base}/integrations/exact\n"
    )
    for email in users.admin_emails():
        send_mail(
            clients.mailer(current_app),
            clients.mail_sender(current_app),
            kind="exact_failures",
            recipient=email,
            subject=f"{len(bookings)} document(s) keep failing in Exact Online",
            text=text,
        )


# -- invitations and reminders ----------------------------------------------------------


@tracked
def send_invitations(
    invoice_ids: list[int], actor: str, again: bool = False, *, progress: Progress
) -> str:
    """A user's "send invitation": fetch missing PDFs first, then send what is owed."""
    ids = _ids(invoice_ids)
    owed = customer_mail.request_invitations(ids, actor=_actor(actor), again=bool(again))
    missing = pdfs.missing_pdf(ids)
    connection = _connected()
    if missing and connection is not None:
        progress.say(f"Fetching {len(missing)} PDF(s) first…")
        _fetch_pdfs(connection, missing, actor, progress)  # sends those that waited for them
    ready = set(customer_mail.deliverable(utcnow(), invoice_ids=ids))
    _deliver([mail_id for mail_id in owed if mail_id in ready])
    statuses = [db.session.get(DocumentMail, mail_id).status for mail_id in owed]
    sent = statuses.count(DocumentMailStatus.SENT)
    waiting = statuses.count(DocumentMailStatus.WAITING)
    text = f"{sent} invitation(s) sent, {len(ids) - len(owed)} sent before and not again"
    return text + (f", {waiting} waiting for their PDF" if waiting else "")


@tracked
def deliver_mail(*, progress: Progress) -> str:
    """Send every owed invitation and reminder whose time has come; retry failed ones."""
    now = utcnow()
    stalled = customer_mail.mark_stalled(now)
    ids = customer_mail.deliverable(now)
    progress.total(len(ids))
    sent = _deliver(ids, progress)
    return f"{sent} email(s) sent" + (f", {stalled} marked uncertain" if stalled else "")


@tracked
def send_reminders(*, progress: Progress) -> str:
    """The daily reminder run: owe each reminder its day has reached, then send them."""
    queued = customer_mail.queue_reminders(clock.local_today())
    ids = customer_mail.deliverable(utcnow())
    progress.total(len(ids))
    sent = _deliver(ids, progress)
    return f"{queued} reminder(s) due, {sent} email(s) sent"


def _deliver(mail_ids: list[int], progress: Progress | None = None) -> int:
    postman = _postman()
    sent = 0
    for mail_id in mail_ids:
        row = customer_mail.deliver(mail_id, postman)
        sent += row is not None and row.status == DocumentMailStatus.SENT
        if progress is not None:
            progress.advance()
    return sent


def _deliver_soon() -> None:
    """After an import: send what it made owed in a job of its own, if anything."""
    if customer_mail.deliverable(utcnow(), limit=1):
        current_app.extensions["jobs"].enqueue(deliver_mail)


def _postman() -> customer_mail.Postman:
    return customer_mail.Postman(
        mailer=clients.mailer(current_app),
        sender=clients.mail_sender(current_app),
        store=clients.document_store(current_app),
        payment_base_url=clients.payment_base_url(current_app),
        creditors=department_names(),
    )


def _connected() -> TeamleaderConnection | None:
    """The connection when it can be used now; background work without it just waits."""
    connection = current_connection()
    return connection if connection and connection.status == ConnectionStatus.CONNECTED else None


def _actor(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"actor must be a non-empty string: {value!r}")
    return value


def _ids(values) -> list[int]:
    """Job arguments come from outside: a list of positive whole numbers, or a clear error."""
    if not isinstance(values, list | tuple) or not values:
        raise ValueError("give a non-empty list of document ids")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"document ids must be positive whole numbers: {values!r}")
    return list(dict.fromkeys(values))


# -- status callbacks -------------------------------------------------------------------


@tracked
def deliver_callbacks(*, progress: Progress) -> str:
    """POST every status callback whose time has come, oldest first."""
    ids = status_callbacks.due(utcnow())
    progress.total(len(ids))
    session = build_session(status_callbacks.USER_AGENT)
    cipher = clients.cipher(current_app)
    outcomes = []
    for delivery_id in ids:
        row = status_callbacks.deliver(session, cipher, delivery_id, utcnow())
        outcomes.append(row.status if row is not None else None)
        progress.advance()
    failed = outcomes.count(CallbackStatus.FAILED)
    text = (
        f"{outcomes.count(CallbackStatus.DELIVERED)} delivered, "
        f"{outcomes.count(CallbackStatus.RETRYING)} to retry"
    )
    return text + (f", {failed} given up" if failed else "")


DELIVERERS[outbox.CALLBACKS] = deliver_callbacks


# -- payments and Teamleader's view of them ------------------------------------------------


@tracked
def push_teamleader(*, progress: Progress) -> str:
    """Deliver every document whose payments Teamleader must be brought in line with."""
    now = utcnow()
    ids = payment_sync.due(now)
    progress.total(len(ids))
    if not ids:
        return "Teamleader is in line."
    connection = current_connection()
    client = None
    if connection is not None and connection.status == ConnectionStatus.CONNECTED:
        client = clients.teamleader_client(current_app, connection)
    counts = {"synced": 0, "waiting": 0, "refused": 0}
    for sync_id in ids:
        delivery = payment_sync.deliver(client, connection, sync_id, utcnow())
        if delivery is not None:
            kind = "synced" if delivery.synced else "waiting"
            counts["refused" if delivery.problem else kind] += 1
            if delivery.problem:
                _report_sync_problem(sync_id, delivery.problem)
        progress.advance()
    return ", ".join(f"{v} {k}" for k, v in counts.items())


DELIVERERS[outbox.TEAMLEADER] = push_teamleader


def _report_sync_problem(sync_id: int, problem: str) -> None:
    """Teamleader refused a document: tell the admins once (the sync problems list
    keeps it until someone acts)."""
    sync = db.session.get(TeamleaderSync, sync_id)
    invoice = sync.invoice
    text = (
        f"Teamleader refused the payment status of invoice {invoice.number}:\n\n  {problem}\n\n"
        "Nothing will be sent for it until someone looks. The sync problems page lists it:\n"
        f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/sync-problems\n"
    )
    for email in users.admin_emails():
        send_mail(
            clients.mailer(current_app),
            clients.mail_sender(current_app),
            kind="sync_problem",
            recipient=email,
            subject=f"Teamleader refused the payment status of {invoice.number}",
            text=text,
        )


@tracked
def handle_provider_webhook(provider_id: str, *, progress: Progress) -> str:
    """The provider says a payment changed: fetch it and apply what the fetch says."""
    if not isinstance(provider_id, str):
        raise ValueError("give the provider's payment id")
    provider = clients.payment_provider(current_app)
    if provider is None:
        return "No payment provider is configured; ignored."
    online = checkout.refresh(provider, provider_id)
    if online is None:
        return f"{provider_id[:64]} is not a payment of ours; ignored."
    return f"{online.provider_id} is {online.status}; the document is {online.invoice.state.value}."


@tracked
def expire_overdue(*, progress: Progress) -> str:
    """The daily run: BOOKED documents past their due date become EXPIRED."""
    count = ledger.expire_overdue(clock.local_today())
    return f"{count} document(s) expired"


# -- mandates ---------------------------------------------------------------------------


@tracked
def check_mandate_upload(upload_id: int, *, progress: Progress) -> str:
    """Check an uploaded mandates CSV into its preview."""
    store = clients.document_store(current_app)
    today = mandates.latest_today(utcnow())
    upload = mandate_upload.check(upload_id, store, today=today, progress=progress)
    return mandate_upload.summary(upload)


@tracked
def commit_mandate_upload(upload_id: int, actor: str, *, progress: Progress) -> str:
    """Store a checked upload's new mandates, all or none."""
    progress.say("Checking the file again and storing its mandates…")
    store = clients.document_store(current_app)
    today = mandates.latest_today(utcnow())
    try:
        upload = mandate_upload.commit(upload_id, store, today=today, actor=_actor(actor))
    except Conflict as exc:
        return str(exc)  # a second click: the first commit has it, nothing went wrong
    return mandate_upload.summary(upload)


def start_mandate_job(func, upload_id: int, *args, user=None) -> JobRun:
    """Queue the check or the commit of a mandates upload."""
    return current_app.extensions["jobs"].enqueue(func, upload_id, *args, user=user)


@tracked
def lapse_mandates(*, progress: Progress) -> str:
    """The daily run: mandates unused for 36 months lapse."""
    count = mandates.lapse_unused(clock.local_today())
    return f"{count} mandate(s) lapsed"


# -- the outbox's doorbell --------------------------------------------------------------


def _ring_after_commit(session) -> None:
    """Start a delivery job for each outbox channel the committed transaction rang."""
    channels = outbox.take_wakeups(session)
    if not channels or not has_app_context():
        return
    for channel in sorted(channels):
        try:
            current_app.extensions["jobs"].start(DELIVERERS[channel], queue="high")
        except Exception:
            # The rows are committed: the periodic sweep delivers them.
            log.warning("could not start the %s delivery job; the sweep will", channel)


def _forget_wakeups(session, *args) -> None:
    outbox.take_wakeups(session)


def install_outbox_doorbell() -> None:
    """Listen for commits (once per process: the session class is shared by apps)."""
    if not sa.event.contains(db.session, "after_commit", _ring_after_commit):
        sa.event.listen(db.session, "after_commit", _ring_after_commit)
        sa.event.listen(db.session, "after_soft_rollback", _forget_wakeups)
