"""Teamleader's rq jobs: imports, webhook deliveries and the sweep behind them, PDFs,
and the outbox that brings Teamleader's payments in line with ours.

Thin: each reads its arguments, builds the clients, calls one operation and records
the outcome on its JobRun (``collector.runtime.queue.tracked``). What other domains do
next (send what became owed, book what became bookable) they hear through
``teamleader.signals``.
"""

from __future__ import annotations

import functools

from flask import current_app

from collector.accounts import alerts
from collector.core.columns import utcnow
from collector.core.ratelimit import RateLimited
from collector.extensions import db
from collector.runtime import doorbell, inbox
from collector.runtime import jobs as runtime_jobs
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from collector.runtime.queue import (
    Periodic,
    Progress,
    QuietProgress,
    check_actor,
    check_ids,
    job_lost,
    tracked,
)
from collector.teamleader import (
    import_summary,
    imports,
    notifications,
    payment_sync,
    pdfs,
    signals,
    sync_claims,
)
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection, ensure_connected
from collector.teamleader.models import (
    ConnectionStatus,
    DeliveryStatus,
    DocumentImport,
    ImportStatus,
    TeamleaderConnection,
    WebhookDelivery,
)

# -- imports ----------------------------------------------------------------------------


@tracked
def run_import(import_id: int, *, progress: Progress) -> str:
    """Run one import and email its summary to whoever started it.

    An import a rate limit paused is queued again (``RateLimited`` goes up to ``tracked``,
    which resumes it at the reset): it has not ended, so no summary and no signal yet.
    """
    imp = db.session.get(DocumentImport, import_id)
    if imp is None:
        raise ValueError(f"no import {import_id}")
    try:
        connection = ensure_connected(current_connection())
        client = teamleader_setup.client(current_app, connection)
        imports.run_import(client, connection, imp, progress=progress, job_run_id=progress.run.id)
    except RateLimited:
        raise
    except Exception as exc:
        # Failures inside the import are recorded by it; these came before (not connected…).
        # One running under another job was refused and stays as it is.
        if imp.status == ImportStatus.QUEUED:
            imports.mark_failed(imp, exc)
        raise
    finally:
        if imp.done:
            _send_summary(imp)
            signals.import_ended.send(imp)
    return import_summary.summary(imp)[0]


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
    letter = functools.partial(import_summary.summary, imp)  # written in the reader's language
    if alerts.notify_user(imp.user, kind="import_summary", letter=letter):
        imports.mark_summary_sent(imp)


# -- webhooks and the sweep ---------------------------------------------------------------


@tracked
def handle_teamleader_delivery(delivery_id: int, *, progress: Progress) -> str:
    """Act on one webhook delivery: re-read its subject through the API."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise ValueError(f"no webhook delivery {delivery_id}")
    if delivery.status != DeliveryStatus.RECEIVED:
        return f"Delivery {delivery_id} was handled already: {delivery.outcome}"
    connection = db.session.get(TeamleaderConnection, delivery.connection_id)
    client = teamleader_setup.client(current_app, connection)
    try:
        return notifications.handle_delivery(client, delivery)
    finally:
        signals.changes_read.send(connection)


@tracked
def sweep_teamleader(*, progress: Progress) -> str:
    """Import and update what changed in Teamleader since the last sweep."""
    connection = current_connection()
    if connection is None or not connection.auto_import:
        return "Automatic import is off."
    ensure_connected(connection)
    client = teamleader_setup.client(current_app, connection)
    try:
        return notifications.sweep(client, connection, utcnow())
    finally:
        signals.changes_read.send(connection)


# -- PDFs -------------------------------------------------------------------------------


@tracked
def fetch_scheduled_pdfs(*, progress: Progress) -> str:
    """Fetch the PDFs of the documents lacking one, oldest first, a bounded number per run."""
    connection = usable_connection()
    if connection is None:
        return "Not connected to Teamleader."
    ids = pdfs.due_for_pdf(current_app.config["PDF_BATCH_SIZE"], utcnow())
    return fetch_pdfs_now(connection, ids, "job:fetch_pdfs", progress)


@tracked
def fetch_pdfs(invoice_ids: list[int], actor: str, *, progress: Progress) -> str:
    """Fetch the PDFs of the documents a user chose (those that still lack one)."""
    ids, actor = check_ids(invoice_ids), check_actor(actor)
    return fetch_pdfs_now(ensure_connected(current_connection()), ids, actor, progress)


def fetch_pdfs_now(connection, ids: list[int], actor: str, progress: Progress) -> str:
    """Fetch the PDFs of ``ids`` within a job; those waiting for them hear of it at once."""
    progress.total(len(ids))
    if not ids:
        return "No PDFs to fetch."
    # The PDF schedule uses a share of the account's rate budget, never all of it.
    client = teamleader_setup.client(current_app, connection, share="pdf")
    result = pdfs.fetch_pdfs(
        client,
        teamleader_setup.file_fetcher(current_app),
        runtime_setup.document_store(current_app),
        ids,
        actor=actor,
        progress=progress,
    )
    # Invitations that waited for these PDFs go out now, not at the next mail run.
    answers = signals.pdfs_fetched.send(actor, invoice_ids=result.fetched)
    sent = sum(count for _receiver, count in answers if count)
    return f"{result.summary()}; {sent} email(s) sent"


def usable_connection() -> TeamleaderConnection | None:
    """The connection when it can be used now; background work without it just waits."""
    connection = current_connection()
    return connection if connection and connection.status == ConnectionStatus.CONNECTED else None


# -- the outbox towards Teamleader ---------------------------------------------------------

# Sync rows claimed at once: few enough that the last one's lease (two minutes) outlasts
# the delivery of those before it, however slowly Teamleader answers.
CLAIM_CHUNK = 5


@tracked
def push_teamleader(*, progress: Progress) -> str:
    """Deliver every document whose payments Teamleader must be brought in line with."""
    return push_teamleader_now(progress)


def push_teamleader_now(
    progress: Progress | QuietProgress, only: frozenset[int] | None = None
) -> str:
    """What ``push_teamleader`` does, inside whichever job calls it; for the sync rows
    ``only`` when given. Rows are claimed a few at a time (one statement), so their
    leases outlast their delivery, then delivered one by one; those not tried when the
    run stops are given back at once."""
    counts = {"synced": 0, "waiting": 0, "refused": 0}
    client, connection, claimed = None, None, 0
    while claims := sync_claims.claim_due(utcnow(), only=only, limit=CLAIM_CHUNK):
        if not claimed:
            connection = current_connection()
            if connection is not None:
                # Read once for the run: kept out of the session, its settings are not
                # read again after each row's commit (one query a payment).
                db.session.expunge(connection)
            if connection is not None and connection.status == ConnectionStatus.CONNECTED:
                client = teamleader_setup.client(current_app, connection)
        claimed += len(claims)
        progress.total(claimed)
        untried = list(claims)
        try:
            while untried:
                sync_id = untried.pop(0)
                delivery = payment_sync.deliver_claimed(
                    client, connection, sync_id, claims[sync_id], utcnow()
                )
                kind = "synced" if delivery.synced else "waiting"
                counts["refused" if delivery.problem else kind] += 1
                progress.advance()
        except BaseException:
            db.session.rollback()
            sync_claims.unclaim(untried)
            raise
        if len(claims) < CLAIM_CHUNK:
            break  # all that was due is done; what became due since has rung again
    if not claimed:
        return "Teamleader is in line."
    return ", ".join(f"{v} {k}" for k, v in counts.items())


# -- what runs on its own -----------------------------------------------------------------

PERIODIC = (
    # The safety net behind Teamleader's webhooks (DESIGN §1.3).
    Periodic(sweep_teamleader, "default", interval=10 * 60),
    # PDFs for documents lacking one, a bounded batch each time (DESIGN §1.6).
    Periodic(fetch_scheduled_pdfs, "default", interval=5 * 60),
    # The outbox's safety net: status to Teamleader that the doorbell did not start
    # (Redis was away, a worker died mid-delivery and its lease ran out), and retries.
    Periodic(push_teamleader, "high", interval=60),
)


DELIVERIES = "teamleader"  # the inbox of Teamleader's webhook deliveries


def connect() -> None:
    """Deliver the outbox towards Teamleader when the doorbell rings; hand stored webhook
    deliveries to their job; prune old ones with the job history."""
    doorbell.delivered_by(
        doorbell.TEAMLEADER,
        push_teamleader,
        lambda: push_teamleader_now(QuietProgress(), only=doorbell.rung()),
    )
    inbox.handled_by(
        inbox.Inbox(
            DELIVERIES,
            WebhookDelivery,
            lambda: WebhookDelivery.status == DeliveryStatus.RECEIVED,
            handle_teamleader_delivery,
        )
    )
    runtime_jobs.prune_along("deliveries", "webhook deliveries", _prune_webhook_deliveries)
    # An import whose worker stopped for good waits for a person: interrupted.
    job_lost.connect(_import_lost, weak=False)
    runtime_jobs.recover_along("imports interrupted", imports.interrupt_orphans)


def _prune_webhook_deliveries() -> int:
    return notifications.prune_webhook_deliveries(30)


def _import_lost(run: JobRun, **_details) -> None:
    """Recovery found ``run`` will not finish and is not redone: its import, if it was
    running it, becomes interrupted, to be resumed or deleted."""
    imports.mark_interrupted(run.id, run.error or "The worker running this import stopped.")
