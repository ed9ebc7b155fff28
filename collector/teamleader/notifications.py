"""Automatic import: Teamleader's webhooks, and the ``updated_since`` sweep behind them.

Teamleader neither documents its webhook body nor signs it (reference §12). The URL
carries an unguessable per-connection token, the body's account id must match when
it is there, and the body is only a hint: a job re-reads the subject through the API
before acting. Handling is idempotent, because deliveries may repeat or come late,
and a periodic sweep of what changed since the last one catches what never came.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from collector.core.columns import utcnow
from collector.core.errors import Invalid, NotFound
from collector.core.ratelimit import RateLimited
from collector.documents import timeline
from collector.documents.models import Customer, DocumentKind, Invoice
from collector.extensions import db
from collector.runtime import housekeeping, inbox
from collector.runtime.wordings import says
from collector.teamleader import TeamleaderClient, imports, reconciliation, shown
from collector.teamleader.connection import WEBHOOK_TYPES
from collector.teamleader.customer_sync import sync_customers
from collector.teamleader.importer import BOOKED
from collector.teamleader.models import (
    ConnectionStatus,
    DeliveryStatus,
    DocumentImport,
    ImportSource,
    TeamleaderConnection,
    TeamleaderSync,
    WebhookDelivery,
)
from collector.teamleader.wording import CHANGED

PAYMENT_EVENTS = ("invoice.paymentRegistered", "invoice.paymentRemoved")
# Teamleader echoes each payment we register (or remove) as a webhook. One that comes
# while we push that document, or this soon after, tells nothing the push did not read
# right after writing: it is recorded without a job or a call. A change made by hand in
# that same moment is caught by the sweep (``check_invoices`` sees the due move).
ECHO_WINDOW = timedelta(seconds=30)
SWEEP_MARGIN = timedelta(minutes=5)  # clocks differ; re-reading a little twice is harmless
FIRST_SWEEP = timedelta(days=1)
# What change detection compares: (label, value here, value in a Teamleader list record)
WATCHED = (
    ("number", lambda i: i.number, lambda r: r.get("invoice_number")),
    ("amount", lambda i: i.total_incl_vat, lambda r: (r.get("total") or {}).get("tax_inclusive")),
    ("due date", lambda i: i.due_date, lambda r: r.get("due_on")),
    ("customer", lambda i: i.customer.teamleader_id, lambda r: r.get("customer_id")),
)


class Forbidden(Exception):
    """A delivery for another Teamleader account than the token's."""


@dataclass(frozen=True)
class Event:
    """A webhook body, read tolerantly: ``type``, and the subject's type and id."""

    type: str
    subject_type: str
    subject_id: str
    account_id: str | None


def parse_event(body: object) -> Event:
    """Read a delivery body, or raise ``Invalid``.

    The shape is third-party evidence only: ``{type, subject: {type, id}, account:
    {type, id}}``; others read ``data.id`` or ``id`` (reference §12, §15.9), so those
    are accepted too, the subject type then taken from the event name.
    """
    if not isinstance(body, dict):
        raise Invalid({"body": ["Expected a JSON object."]})
    kind = body.get("type")
    if not isinstance(kind, str) or "." not in kind:
        raise Invalid({"type": ["Expected an event type such as invoice.booked."]})
    subject = body.get("subject") or body.get("data") or {"id": body.get("id")}
    if not isinstance(subject, dict):
        raise Invalid({"subject": ["Expected {type, id}."]})
    subject_id = subject.get("id")
    subject_type = subject.get("type") or kind.split(".", 1)[0]
    if not isinstance(subject_id, str) or not subject_id.strip() or len(subject_id) > 64:
        raise Invalid({"subject": ["Expected the id of the changed record."]})
    if not isinstance(subject_type, str) or len(subject_type) > 32:
        raise Invalid({"subject": ["Expected the type of the changed record."]})
    account = body.get("account")
    account_id = account.get("id") if isinstance(account, dict) else None
    return Event(kind[:64], subject_type, subject_id.strip(), account_id)


def connection_for_token(token: str) -> TeamleaderConnection:
    """The live connection whose webhook URL carries ``token``, else ``NotFound``."""
    if not inbox.webhook_token_shape(token or ""):
        raise NotFound("No such webhook.")
    connection = db.session.scalars(
        db.select(TeamleaderConnection).where(
            TeamleaderConnection.webhook_token == token,
            TeamleaderConnection.status != ConnectionStatus.DISCONNECTED,
        )
    ).one_or_none()
    # The lookup is an index hit; compare again in constant time all the same.
    if connection is None or not hmac.compare_digest(connection.webhook_token, token):
        raise NotFound("No such webhook.")
    return connection


def receive(token: str, body: object) -> WebhookDelivery:
    """Authenticate and store one delivery; nothing is written when it is refused."""
    return store(connection_for_token(token), body)


def store(connection: TeamleaderConnection, body: object) -> WebhookDelivery:
    """Store one delivery to ``connection`` (``connection_for_token``); nothing is written
    when it is refused."""
    event = parse_event(body)
    if event.account_id is not None and event.account_id != connection.account_id:
        raise Forbidden("The delivery is for another Teamleader account.")
    delivery = WebhookDelivery(
        connection_id=connection.id,
        event_type=event.type,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        payload=body,
    )
    if event.type not in WEBHOOK_TYPES:
        delivery.status = DeliveryStatus.IGNORED
        delivery.outcome = "Not an event this service subscribes to."
    elif event.type in PAYMENT_EVENTS and _echo_of_our_push(event.subject_id, utcnow()):
        delivery.status = DeliveryStatus.PROCESSED
        delivery.outcome = "Teamleader echoing a payment we wrote; read when we wrote it."
        delivery.processed_at = utcnow()
    db.session.add(delivery)
    db.session.flush()
    stored = {"id": delivery.id, "status": delivery.status}
    db.session.commit()
    # What the receiver answers with, kept loaded: reading it back after the commit
    # would cost a query (and a transaction) per delivery, an echo of each payment ours.
    for name, value in stored.items():
        set_committed_value(delivery, name, value)
    return delivery


def _echo_of_our_push(teamleader_id: str, now: datetime) -> bool:
    """Are we pushing this invoice's payments to Teamleader, or did we just?"""
    query = (
        db.select(TeamleaderSync.id)
        .join(TeamleaderSync.invoice)
        .where(Invoice.teamleader_id == teamleader_id)
        .where(
            sa.or_(
                TeamleaderSync.lease_until > now,
                TeamleaderSync.synced_at >= now - ECHO_WINDOW,
            )
        )
    )
    return db.session.scalar(query) is not None


def handle_delivery(client: TeamleaderClient, delivery: WebhookDelivery) -> str:
    """Act on a stored delivery by re-reading its subject; returns the outcome."""
    connection = db.session.get(TeamleaderConnection, delivery.connection_id)
    status, outcome = _dispatch(client, connection, delivery)
    delivery.status, delivery.outcome = status, outcome[:500]
    delivery.processed_at = utcnow()
    db.session.commit()
    return outcome


def _dispatch(
    client: TeamleaderClient, connection: TeamleaderConnection, delivery: WebhookDelivery
) -> tuple[DeliveryStatus, str]:
    kind, subject_id = delivery.event_type, delivery.subject_id
    if delivery.status == DeliveryStatus.IGNORED:
        return DeliveryStatus.IGNORED, delivery.outcome
    if connection.status != ConnectionStatus.CONNECTED:
        return DeliveryStatus.IGNORED, "Teamleader is not connected."
    if kind in ("contact.updated", "company.updated"):
        return refresh_customer(client, connection, kind.split(".")[0], subject_id)
    held = _held(subject_id)
    if kind in PAYMENT_EVENTS and held is not None:
        return DeliveryStatus.PROCESSED, reconciliation.refresh(client, held)
    if kind.startswith("invoice.") and held is not None:
        return DeliveryStatus.PROCESSED, check_invoices(client, [held])
    if kind in ("invoice.booked", "invoice.updated", "creditNote.booked") and held is None:
        if not connection.auto_import:
            return DeliveryStatus.IGNORED, "Automatic import is off."
        subject_type = "creditNote" if kind.startswith("creditNote") else "invoice"
        return DeliveryStatus.PROCESSED, import_subjects(
            client, connection, [{"type": subject_type, "id": subject_id}], ImportSource.WEBHOOK
        )
    if held is not None:
        return DeliveryStatus.IGNORED, f"{held.number} is imported already."
    return DeliveryStatus.IGNORED, "Not a document imported here."


def refresh_customer(
    client: TeamleaderClient, connection: TeamleaderConnection, kind: str, teamleader_id: str
) -> tuple[DeliveryStatus, str]:
    """Re-read one contact/company we hold (one call) and update the customer."""
    if not connection.auto_import:
        return DeliveryStatus.IGNORED, "Automatic import is off."
    customer = db.session.scalars(
        db.select(Customer).where(Customer.teamleader_id == teamleader_id)
    ).one_or_none()
    if customer is None:
        return DeliveryStatus.IGNORED, "Not a customer here."
    sync_customers(client, {(kind, teamleader_id): None}, connection.default_profile_id)
    return DeliveryStatus.PROCESSED, f"Customer {customer.name} updated."


def import_subjects(
    client: TeamleaderClient,
    connection: TeamleaderConnection,
    subjects: list[dict],
    source: ImportSource,
    listed: tuple[list[dict], list[dict]] | None = None,
) -> str:
    """Import documents by id as an automatic import; an import that did nothing
    leaves no row in the history."""
    imp = imports.create_import(source, subjects=subjects)
    try:
        imports.run_import(client, connection, imp, listed=listed)
    except RateLimited as limited:
        # The delivery or sweep is run again after the reset, with an import of its own.
        imports.end_at_rate_limit(imp, limited)
        _drop_if_empty(imp)
        raise
    outcome = (
        f"Import #{imp.id}: {imp.count('imported')} imported, {imp.count('skipped')} "
        f"skipped, {imp.count('failed')} failed."
    )
    _drop_if_empty(imp)
    return outcome


def _drop_if_empty(imp: DocumentImport) -> None:
    if not (imp.count("imported") or imp.count("failed")):
        db.session.delete(imp)
        db.session.commit()


def check_invoices(
    client: TeamleaderClient, invoices: list[Invoice], listed: dict[str, dict] | None = None
) -> str:
    """Compare imported invoices with Teamleader and record what changed there.

    Changes of number, amount, due date or customer are recorded, not applied: what a
    debtor is asked to pay must not drift silently (strict mode, reference §13). The
    payment state Teamleader shows (status, due, paid at) is kept on the invoice and
    recorded for the payments work to act on.
    """
    if listed is None:
        listed = client.invoices_by_ids([i.teamleader_id for i in invoices])
    notes = []
    for invoice in invoices:
        record = listed.get(invoice.teamleader_id)
        if record is None:
            notes.append(f"{invoice.number}: not found in Teamleader")
            continue
        outcome, paid_changed = _compare(invoice, record)
        if paid_changed and invoice.kind == DocumentKind.INVOICE:
            # Who paid what is only in invoices.info: read it when the state moved.
            outcome += "; " + reconciliation.reconcile(client, invoice, push=False)
        notes.append(f"{invoice.number}: {outcome}")
    db.session.commit()
    return "; ".join(notes)


def _compare(invoice: Invoice, record: dict) -> tuple[str, bool]:
    seen = invoice.teamleader_updated_at
    # Strictly older only: Teamleader's times have whole seconds, and two edits can
    # share one.
    if seen is not None and record.get("updated_at") is not None and record["updated_at"] < seen:
        return "older than what was seen already", False
    outcome = []
    changes = {}
    for label, ours, theirs in WATCHED:
        here, there = ours(invoice), theirs(record)
        if there is not None and here != there:
            changes[label] = [_plain(here), _plain(there)]
    if changes and changes != _last_recorded_changes(invoice):
        listed = ", ".join(f"{k} {v[0]} → {v[1]}" for k, v in changes.items())
        timeline.record(
            invoice,
            timeline.CHANGED_IN_TEAMLEADER,
            says(CHANGED, changes=listed),
            actor="teamleader",
            changes=changes,
        )
        outcome.append(f"changed ({', '.join(changes)})")
    payment = _payment_state(invoice, record)
    if payment:
        outcome.append(payment)
    invoice.teamleader_updated_at = record.get("updated_at") or invoice.teamleader_updated_at
    return ", ".join(outcome) or "no change", payment is not None


def _last_recorded_changes(invoice: Invoice) -> dict | None:
    """Changes are recorded, not applied, so a repeated delivery finds them again."""
    recorded = [e for e in invoice.events if e.kind == timeline.CHANGED_IN_TEAMLEADER]
    return recorded[-1].details.get("changes") if recorded else None


def _payment_state(invoice: Invoice, record: dict) -> str | None:
    due = (record.get("total") or {}).get("due")
    return shown.note_payment_state(invoice, record.get("status"), due, record.get("paid_at"))


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _held(teamleader_id: str) -> Invoice | None:
    return db.session.scalars(
        db.select(Invoice).where(Invoice.teamleader_id == teamleader_id)
    ).one_or_none()


def sweep(client: TeamleaderClient, connection: TeamleaderConnection, now: datetime) -> str:
    """Catch what webhooks missed: everything updated since the last sweep.

    Per chosen department one ``invoices.list`` and one ``creditNotes.list`` (paged),
    plus ``contacts.list``/``companies.list`` for customers we hold.
    """
    since = (connection.last_swept_at or now - FIRST_SWEEP) - SWEEP_MARGIN
    invoices: list[dict] = []
    notes: list[dict] = []
    for department_id in connection.import_department_ids or []:
        invoices += client.invoices_list(
            department_id=department_id, status=list(BOOKED), updated_since=since
        )
        notes += client.credit_notes_list(department_id=department_id, updated_since=since)
    held = {
        i.teamleader_id: i
        for i in db.session.scalars(
            db.select(Invoice).where(Invoice.teamleader_id.in_([r["id"] for r in invoices + notes]))
        )
    }
    changed = [held[r["id"]] for r in invoices if r["id"] in held]
    outcome = [f"{len(invoices)} invoices and {len(notes)} credit notes changed"]
    if changed:
        by_id = {r["id"]: r for r in invoices}
        check_invoices(client, [i for i in changed if i.kind == DocumentKind.INVOICE], by_id)
    new = ([r for r in invoices if r["id"] not in held], [r for r in notes if r["id"] not in held])
    if new[0] or new[1]:
        subjects = [{"type": "invoice", "id": r["id"]} for r in new[0]]
        subjects += [{"type": "creditNote", "id": r["id"]} for r in new[1]]
        outcome.append(import_subjects(client, connection, subjects, ImportSource.SWEEP, new))
    outcome.append(_sweep_customers(client, connection, since))
    connection.last_swept_at = now
    db.session.commit()
    return "; ".join(outcome)


def _sweep_customers(
    client: TeamleaderClient, connection: TeamleaderConnection, since: datetime
) -> str:
    """Refresh the customers we hold that changed; the list records carry all we use."""
    fetched = {}
    for kind in ("contact", "company"):
        records = {r["id"]: r for r in client.parties_list(kind, updated_since=since)}
        ids = list(records)
        for start in range(0, len(ids), 500):
            known = db.session.scalars(
                db.select(Customer.teamleader_id).where(
                    Customer.teamleader_id.in_(ids[start : start + 500])
                )
            )
            fetched.update({(kind, ident): records[ident] for ident in known})
    if fetched:
        sync_customers(
            client, dict.fromkeys(fetched), connection.default_profile_id, fetched=fetched
        )
    return f"{len(fetched)} customers updated"


def recent_deliveries(limit: int = 20) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            db.select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        )
    )


def prune_webhook_deliveries(keep_days: int = 30) -> int:
    """Delete Teamleader webhook deliveries older than ``keep_days``; return how many."""
    return housekeeping.prune_older(WebhookDelivery.received_at, keep_days)
