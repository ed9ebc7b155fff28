"""Exact Online's rq job: book what is due there and read payment status back.

Thin: it builds the clients, calls the forwarding operation and records the outcome on
its JobRun. Documents are booked on events (an import ended, PDFs arrived:
``teamleader.signals``) and by the schedule, which books what the events missed.
"""

from __future__ import annotations

from flask import current_app

from collector.core.columns import utcnow
from collector.exact import connection as exact_connection
from collector.exact import forwarding, payment_status
from collector.exact import setup as exact_setup
from collector.exact.models import SyncTrigger
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.queue import Periodic, Progress, tracked
from collector.teamleader import setup as teamleader_setup
from collector.teamleader import signals
from collector.teamleader.connection import current_connection, ensure_connected
from collector.teamleader.models import ConnectionStatus


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
        exact_setup.token_source(current_app, connection).keep_alive()
        return "Exact Online settings are not saved yet."
    exact_client = exact_setup.client(current_app, connection)
    teamleader = ensure_connected(current_connection())
    try:
        run = forwarding.forward(
            connection,
            exact_client,
            teamleader_setup.client(current_app, teamleader),
            runtime_setup.document_store(current_app),
            trigger=trigger,
            limit=current_app.config["EXACT_BATCH_SIZE"],
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


def _forward_soon(_sender, **_details) -> None:
    """New documents: book them in Exact now rather than at the next sweep."""
    connection = exact_connection.current_exact()
    if connection is not None and connection.forwarding:
        current_app.extensions["jobs"].enqueue(forward_to_exact, SyncTrigger.EVENT.value)


def _pdfs_fetched(_actor: str, *, invoice_ids: list[int]) -> None:
    if invoice_ids:
        _forward_soon(_actor)  # the PDF was what their Exact booking waited for


PERIODIC = (
    # Exact Online: documents are booked on events (imported, PDF arrived); this sweep every
    # 15 minutes books what the events missed and retries what failed (DESIGN §1.12).
    Periodic(forward_to_exact, "default", interval=15 * 60),
)


def connect() -> None:
    """Book new documents as soon as an import ends or their PDFs arrive."""
    signals.import_ended.connect(_forward_soon, weak=False)
    signals.pdfs_fetched.connect(_pdfs_fetched, weak=False)
