"""Teamleader's payments of a document, kept in line with ours — both ways.

One comparison does all of it (``reconcile``): read the invoice's ``payments[]``, tell
which entries are ours (same amount and day as one of our payments) and which were
registered in Teamleader by hand; mirror the latter here as payments with source
"Teamleader" (never sent back); then, when asked to push, register what Teamleader
lacks or — when it holds one of ours that was refunded or charged back, since it has
no per-payment delete (reference §6.5) — remove all and re-register what still stands.

Reading before writing is what makes delivery safe to repeat: after a crash between
Teamleader's answer and our commit, the next attempt finds the payment there and
registers nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import joinedload

from collector.core import errors
from collector.core.money import round_cents
from collector.documents import ledger
from collector.documents import timeline as events
from collector.documents.models import Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.runtime import doorbell
from collector.teamleader import (
    AuthError,
    RateLimited,
    TeamleaderClient,
    TeamleaderError,
    Unavailable,
)
from collector.teamleader.models import (
    NEEDS_A_PERSON,
    ConnectionStatus,
    SyncStatus,
    TeamleaderConnection,
    TeamleaderSync,
)

LEASE_SECONDS = 120
# Teamleader down or busy: try again after these many seconds, then hourly.
BACKOFF = (10, 30, 60, 120, 300, 600, 1800)
HOURLY = 3600


def _day(when: datetime | date) -> date:
    # Teamleader may answer paid_at in the account's time zone, or (unverified) as a
    # date only: the UTC day is the finest grain both sides surely agree on.
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).date()
    return when


def _entry(amount: Decimal, when: datetime | date) -> tuple[Decimal, date]:
    # Teamleader's amounts are compared with ours to the cent, by the one rounding rule.
    return round_cents(amount), _day(when)


@dataclass
class Comparison:
    """Teamleader's entries against our payments."""

    held: Decimal = Decimal("0.00")  # what Teamleader holds of ours, as it should
    missing: list[Payment] = field(default_factory=list)  # ours that Teamleader lacks
    stale: bool = False  # Teamleader holds one of ours that no longer stands as it is
    foreign: list[tuple[Decimal, date]] = field(default_factory=list)  # made in Teamleader

    @property
    def in_line(self) -> bool:
        return not self.missing and not self.stale


def compare(invoice: Invoice, entries: list[tuple[Decimal, date]]) -> Comparison:
    """Match Teamleader's ``entries`` with our payments by amount and day.

    An entry matches one of our payments at its net amount (as it should stand) or at
    its original amount (registered before a partial refund): the latter is stale.
    """
    result = Comparison()
    left = Counter(entries)
    for payment in ledger.ours(invoice):
        amount = ledger.net(payment)
        want = _entry(amount, payment.occurred_at) if amount > 0 else None
        original = _entry(payment.amount, payment.occurred_at)
        if want is not None and left[want] > 0:
            left[want] -= 1
            result.held += want[0]
        elif left[original] > 0:
            left[original] -= 1
            result.stale = True
            if want is not None:
                result.missing.append(payment)
        elif want is not None:
            result.missing.append(payment)
    result.foreign = sorted(left.elements())
    return result


def reconcile(
    client: TeamleaderClient,
    invoice: Invoice,
    *,
    push: bool,
    payment_method_id: str | None = None,
) -> str:
    """Bring the document and (with ``push``) Teamleader in line; returns what was done.

    Raises the client's errors; the caller decides whether to retry."""
    sync = ledger.sync_row(invoice)
    info = client.invoices_info(invoice.teamleader_id)
    comparison = compare(invoice, _entries(info))
    # Teamleader's due first: the payments mirrored next are already counted in it.
    _note_teamleader_view(invoice, info, comparison)
    # While a remove-all is being undone, what is missing was removed by us.
    _mirror(invoice, comparison.foreign, cancel_missing=not sync.restoring)
    done = "nothing to change"
    if push and (sync.restoring or not comparison.in_line):
        if comparison.stale and not sync.restoring:
            sync.restoring = True
            db.session.commit()
            client.invoices_remove_payments(invoice.teamleader_id)
            info = client.invoices_info(invoice.teamleader_id)
        if sync.restoring:
            count = _register_missing(client, invoice, _standing(invoice), info, payment_method_id)
            sync.restoring = False
            done = f"payments removed and {count} standing one(s) registered again"
        else:
            wanted = [(ledger.net(p), p.occurred_at) for p in comparison.missing]
            count = _register_missing(client, invoice, wanted, {}, payment_method_id)
            done = f"{count} payment(s) registered"
        info = client.invoices_info(invoice.teamleader_id)
        comparison = compare(invoice, _entries(info))
        _note_teamleader_view(invoice, info, comparison)
    ledger.settle(invoice, "Teamleader's payments changed.", actor="teamleader")
    if not push and not comparison.in_line:
        return done + "; Teamleader lacks payments received here"
    return done


def _register_missing(client, invoice, wanted, info: dict, method_id: str | None) -> int:
    """Register each of ``wanted`` that ``info``'s payments do not hold already."""
    present = Counter(_entries(info))
    count = 0
    for amount, when in wanted:
        entry = _entry(amount, when)
        if present[entry] > 0:
            present[entry] -= 1
            continue
        client.invoices_register_payment(
            invoice.teamleader_id, amount, invoice.currency, when, payment_method_id=method_id
        )
        count += 1
    return count


def _entries(info: dict) -> list[tuple[Decimal, date]]:
    """Teamleader's payments (the client's shape: ``{paid_at, amount, currency}``)."""
    entries = []
    for item in info.get("payments") or []:
        if item.get("amount") is None or item.get("paid_at") is None:
            continue  # tolerate a half-filled entry rather than fail the whole document
        entries.append(_entry(item["amount"], item["paid_at"]))
    return entries


def _standing(invoice: Invoice) -> list[tuple[Decimal, datetime]]:
    """What Teamleader should hold after a remove-all: our payments at their net
    amount and the ones made in Teamleader by hand that still stand."""
    items = [(ledger.net(p), p.occurred_at) for p in ledger.ours(invoice)]
    items += [(p.amount, p.occurred_at) for p in _mirrored(invoice)]
    return [(amount, when) for amount, when in items if amount > 0]


def _mirrored(invoice: Invoice) -> list[Payment]:
    return [
        p
        for p in invoice.payments
        if p.source == PaymentSource.TEAMLEADER and p.kind == PaymentKind.PAYMENT and p.counts
    ]


def _mirror(invoice: Invoice, foreign: list[tuple[Decimal, date]], *, cancel_missing: bool) -> None:
    """Payments registered in Teamleader by hand become ours to show, source Teamleader;
    those that left Teamleader stop counting. Keys are stable across reads: amount,
    day and the rank among equal entries."""
    seen = Counter()
    keys = set()
    for amount, day in foreign:
        seen[(amount, day)] += 1
        key = f"teamleader:{invoice.teamleader_id}:{amount}:{day.isoformat()}:{seen[(amount, day)]}"
        keys.add(key)
        existing = ledger.by_key(key)
        if existing is not None:
            ledger.restore_entry(
                existing, "Payment registered in Teamleader again.", actor="teamleader"
            )
            continue
        occurred = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        ledger.record_payment(
            invoice,
            key=key,
            amount=amount,
            occurred_at=occurred,
            source=PaymentSource.TEAMLEADER,
            actor="teamleader",
        )
    for payment in _mirrored(invoice) if cancel_missing else []:
        if payment.key not in keys:
            ledger.cancel_entry(payment, "Payment removed in Teamleader", actor="teamleader")


def _note_teamleader_view(invoice: Invoice, info: dict, comparison: Comparison) -> None:
    total = info.get("total") or {}
    due = total.get("due")
    note_payment_state(invoice, info.get("status"), due, info.get("paid_at"))
    ledger.sync_row(invoice).held = comparison.held


def note_payment_state(invoice: Invoice, status, due, paid_at) -> str | None:
    """Keep what Teamleader shows (status, due, paid at) on the document, and record a
    change on its timeline; returns the message when something changed."""
    if (status, due, paid_at) == (
        invoice.teamleader_status,
        invoice.teamleader_due,
        invoice.teamleader_paid_at,
    ):
        return None
    invoice.teamleader_status = status or invoice.teamleader_status
    invoice.teamleader_paid_at = paid_at
    if due is not None:
        invoice.teamleader_due = Decimal(str(due))
    message = f"Teamleader shows it {status}, {due} {invoice.currency} due."
    events.record(
        invoice,
        events.TEAMLEADER_PAYMENT,
        message,
        actor="teamleader",
        status=status,
        due=None if due is None else str(due),
        paid_at=paid_at.isoformat() if paid_at else None,
    )
    return message


def refresh(client: TeamleaderClient, invoice: Invoice) -> str:
    """A payment was registered or removed in Teamleader: re-read it and update the
    document here (source "Teamleader"); nothing is sent back."""
    if invoice.kind != "invoice":
        return f"{invoice.number} is a credit note: Teamleader has no payments on it."
    invoice = ledger.lock(invoice.id)
    outcome = reconcile(client, invoice, push=False)
    db.session.commit()
    return f"{invoice.number}: {outcome}"


# -- delivery (the outbox worker) -----------------------------------------------------------


def due(now: datetime, limit: int = 200) -> list[int]:
    """Sync rows with work whose time has come and no live lease, oldest first."""
    query = (
        db.select(TeamleaderSync.id)
        .where(
            TeamleaderSync.wanted > TeamleaderSync.done,
            TeamleaderSync.status.in_((SyncStatus.PENDING, SyncStatus.RETRYING)),
            db.or_(TeamleaderSync.next_attempt_at.is_(None), TeamleaderSync.next_attempt_at <= now),
            db.or_(TeamleaderSync.lease_until.is_(None), TeamleaderSync.lease_until < now),
        )
        .order_by(TeamleaderSync.next_attempt_at, TeamleaderSync.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def claim(sync_id: int, now: datetime) -> int | None:
    """Take the row with one conditional UPDATE; returns the version to deliver, or None
    when another worker holds it or there is nothing to do."""
    result = db.session.execute(
        db.update(TeamleaderSync)
        .where(
            TeamleaderSync.id == sync_id,
            TeamleaderSync.wanted > TeamleaderSync.done,
            TeamleaderSync.status.in_((SyncStatus.PENDING, SyncStatus.RETRYING)),
            db.or_(TeamleaderSync.lease_until.is_(None), TeamleaderSync.lease_until < now),
        )
        .values(
            lease_until=now + timedelta(seconds=LEASE_SECONDS),
            last_attempt_at=now,
            attempts=TeamleaderSync.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.scalar(db.select(TeamleaderSync.wanted).where(TeamleaderSync.id == sync_id))


@dataclass
class Delivery:
    """How one delivery went; ``problem`` is set when a person must look (a 4xx)."""

    outcome: str
    synced: bool = False
    problem: str | None = None


def deliver(
    client: TeamleaderClient | None,
    connection: TeamleaderConnection | None,
    sync_id: int,
    now: datetime,
) -> Delivery | None:
    """Deliver one claimed sync row; None when it could not be claimed."""
    version = claim(sync_id, now)
    if version is None:
        return None
    sync = db.session.get(TeamleaderSync, sync_id)
    db.session.refresh(sync)
    invoice = sync.invoice
    reason = _not_sent_because(invoice, connection)
    if reason is not None:
        return _skip(sync, version, reason, now)
    if connection.status != ConnectionStatus.CONNECTED or client is None:
        return _retry(sync, "Teamleader is not connected.", now)
    try:
        outcome = reconcile(
            client, invoice, push=True, payment_method_id=connection.payment_method_id
        )
    except (Unavailable, RateLimited, AuthError) as exc:
        db.session.rollback()
        return _retry(db.session.get(TeamleaderSync, sync_id), _safe(exc), now)
    except TeamleaderError as exc:  # a 4xx, or an answer we cannot read: a person must look
        db.session.rollback()
        return _fail(db.session.get(TeamleaderSync, sync_id), _safe(exc), now)
    return _done(sync, version, outcome, now)


def _not_sent_because(invoice: Invoice, connection: TeamleaderConnection | None) -> str | None:
    if connection is None:
        return "Teamleader is not connected."
    if not connection.strict_mode_confirmed:
        return (
            "Strict mode is not confirmed in the Teamleader settings, so payments are not "
            "written to Teamleader (edits there would clash with ours)."
        )
    return None


def _done(sync: TeamleaderSync, version: int, outcome: str, now: datetime) -> Delivery:
    sync.done = max(sync.done, version)
    sync.lease_until = None
    sync.attempts = 0
    sync.last_error = None
    sync.synced_at = now
    sync.notified_at = None
    more = sync.wanted > sync.done
    sync.status = SyncStatus.PENDING if more else SyncStatus.SYNCED
    sync.next_attempt_at = now if more else None
    invoice = sync.invoice
    shown = "paid" if invoice.teamleader_status == "matched" else "unpaid"
    events.record(
        invoice,
        events.TEAMLEADER_SYNCED,
        f"Teamleader is in line ({outcome}); it shows the invoice {shown}.",
        actor="system",
    )
    if more:
        doorbell.wake(doorbell.TEAMLEADER)
    db.session.commit()
    return Delivery(outcome, synced=True)


def _retry(sync: TeamleaderSync, error: str, now: datetime) -> Delivery:
    step = sync.attempts - 1
    wait = BACKOFF[step] if step < len(BACKOFF) else HOURLY
    sync.status = SyncStatus.RETRYING
    sync.next_attempt_at = now + timedelta(seconds=wait)
    sync.lease_until = None
    sync.last_error = error
    db.session.commit()
    return Delivery(f"retry in {wait} s: {error}")


def _fail(sync: TeamleaderSync, error: str, now: datetime) -> Delivery:
    sync.status = SyncStatus.FAILED
    sync.lease_until = None
    sync.last_error = error
    first = sync.notified_at is None
    sync.notified_at = sync.notified_at or now
    events.record(
        sync.invoice,
        events.TEAMLEADER_SYNC_FAILED,
        f"Teamleader refused the payment status: {error}",
        actor="system",
    )
    db.session.commit()
    return Delivery(f"refused: {error}", problem=error if first else None)


def _skip(sync: TeamleaderSync, version: int, reason: str, now: datetime) -> Delivery:
    sync.done = max(sync.done, version)
    sync.status = SyncStatus.SKIPPED
    sync.lease_until = None
    sync.last_error = reason
    events.record(sync.invoice, events.TEAMLEADER_SYNC_SKIPPED, f"Not sent to Teamleader: {reason}")
    db.session.commit()
    return Delivery(f"skipped: {reason}")


def _safe(exc: Exception) -> str:
    # The client's messages carry endpoint, status and titles, never a token.
    return str(exc)[:500]


def retry(sync_id: int) -> TeamleaderSync:
    """An admin asks to send a failed or skipped document again."""
    sync = db.session.get(TeamleaderSync, sync_id)
    if sync is None:
        raise errors.NotFound("There is no such Teamleader sync.")
    ledger.owe_teamleader(sync.invoice)
    db.session.commit()
    return sync


def problems(limit: int = 200) -> list[TeamleaderSync]:
    """Documents Teamleader refused, or that were not sent and why, newest first."""
    query = (
        db.select(TeamleaderSync)
        .options(joinedload(TeamleaderSync.invoice))
        .where(TeamleaderSync.status.in_(NEEDS_A_PERSON))
        .order_by(TeamleaderSync.updated_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
