"""rq entry points: thin, they take ids, build the clients, call one service and
record the outcome on their JobRun (see ``collector.queue.tracked``)."""

from __future__ import annotations

import logging

from flask import current_app

from collector import clients
from collector.extensions import db
from collector.models import (
    DocumentImport,
    JobRun,
    MailStatus,
    TeamleaderConnection,
    WebhookDelivery,
)
from collector.models.types import utcnow
from collector.queue import Progress, tracked
from collector.services import housekeeping, imports, teamleader_events
from collector.services.mail import send_mail
from collector.services.teamleader_connection import current_connection, ensure_connected

log = logging.getLogger(__name__)


@tracked
def prune_job_runs(keep_days: int = 90, *, progress: Progress) -> str:
    """Delete old job history and old webhook deliveries."""
    progress.total(1)
    deleted = housekeeping.prune_job_runs(keep_days)
    deliveries = housekeeping.prune_webhook_deliveries(30)
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
    return teamleader_events.handle_delivery(client, delivery)


@tracked
def sweep_teamleader(*, progress: Progress) -> str:
    """Import and update what changed in Teamleader since the last sweep."""
    connection = current_connection()
    if connection is None or not connection.auto_import:
        return "Automatic import is off."
    ensure_connected(connection)
    client = clients.teamleader_client(current_app, connection)
    return teamleader_events.sweep(client, connection, utcnow())
