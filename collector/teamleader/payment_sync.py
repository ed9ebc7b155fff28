"""Delivering the outbox towards Teamleader: each document whose payments Teamleader
must show is brought in line by ``reconciliation.reconcile`` (with ``push``).

A worker claims sync rows with one conditional UPDATE (a lease, ``sync_claims``), so two
workers never push the same document at once. Teamleader down or busy means a retry with backoff;
Teamleader refusing (a 4xx) or strict mode not confirmed leaves the row for a person
(``problems``), who may send it again (``retry``). A spent rate limit inside a job
(``collector.core.ratelimit.RateLimited``) is no attempt: the claim is given back, the row
is due again at the reset, and the run stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from collector.core import errors, ratelimit
from collector.documents import timeline
from collector.documents.models import Invoice
from collector.extensions import db
from collector.runtime import doorbell, operator_alerts
from collector.runtime.wordings import says, word
from collector.teamleader import (
    AuthError,
    RateLimited,
    TeamleaderClient,
    TeamleaderError,
    Unavailable,
    outbox,
)
from collector.teamleader.models import (
    NEEDS_A_PERSON,
    ConnectionStatus,
    SyncStatus,
    TeamleaderConnection,
    TeamleaderSync,
)
from collector.teamleader.reconciliation import reconcile
from collector.teamleader.sync_claims import LEASE_SECONDS as LEASE_SECONDS
from collector.teamleader.sync_claims import Claim, claim
from collector.teamleader.wording import (
    IN_LINE,
    NOT_CONNECTED,
    NOT_SENT,
    NOT_STRICT,
    SHOWN_PAID,
    SHOWN_UNPAID,
    SYNC_REFUSED,
)

# Teamleader down or busy: try again after these many seconds, then hourly.
BACKOFF = (10, 30, 60, 120, 300, 600, 1800)
HOURLY = 3600
PROBLEMS_PAGE = "problems.index"  # where a refused document waits for a person


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
    """Claim and deliver one sync row; None when it could not be claimed."""
    claimed = claim(sync_id, now)
    if claimed is None:
        return None
    return deliver_claimed(client, connection, sync_id, claimed, now)


def deliver_claimed(
    client: TeamleaderClient | None,
    connection: TeamleaderConnection | None,
    sync_id: int,
    claimed: Claim,
    now: datetime,
) -> Delivery:
    """Deliver a sync row this worker claimed (``sync_claims``).

    Raises ``collector.core.ratelimit.RateLimited`` (after giving the claim back) when
    Teamleader's budget is spent for longer than the job will wait.
    """
    version = claimed.version
    # The document and its payments (which ``reconcile`` compares) in the same read.
    sync = (
        db.session.scalars(
            db.select(TeamleaderSync)
            .options(joinedload(TeamleaderSync.invoice).joinedload(Invoice.payments))
            .where(TeamleaderSync.id == sync_id)
            .execution_options(populate_existing=True)
        )
        .unique()
        .one()
    )
    invoice = sync.invoice
    set_committed_value(invoice, "teamleader_sync", sync)  # the row just read, not again
    reason = _not_sent_because(invoice, connection)
    if reason is not None:
        return _skip(sync, version, reason, now)
    if connection.status != ConnectionStatus.CONNECTED or client is None:
        return _retry(sync, "Teamleader is not connected.", now)
    try:
        outcome = reconcile(
            client,
            invoice,
            push=True,
            payment_method_id=connection.payment_method_id,
            trusted=claimed.settled_before,
        )
    except ratelimit.RateLimited as limited:
        db.session.rollback()
        _give_back(sync_id, limited)
        raise
    except (Unavailable, RateLimited, AuthError) as exc:
        db.session.rollback()
        return _retry(db.session.get(TeamleaderSync, sync_id), _safe(exc), now)
    except TeamleaderError as exc:  # a 4xx, or an answer we cannot read: a person must look
        db.session.rollback()
        return _fail(db.session.get(TeamleaderSync, sync_id), _safe(exc), now)
    return _done(sync, version, outcome, now)


def _not_sent_because(invoice: Invoice, connection: TeamleaderConnection | None) -> str | None:
    if connection is None:
        return NOT_CONNECTED
    if not connection.strict_mode_confirmed:
        return NOT_STRICT
    return None


def _done(sync: TeamleaderSync, version: int, outcome: str, now: datetime) -> Delivery:
    sync.done = max(sync.done, version)
    sync.lease_until = None
    sync.unsettled = 0  # what this delivery did is recorded in this commit
    sync.attempts = 0
    sync.last_error = None
    sync.synced_at = now
    sync.notified_at = None
    more = sync.wanted > sync.done
    sync.status = SyncStatus.PENDING if more else SyncStatus.SYNCED
    sync.next_attempt_at = now if more else None
    invoice = sync.invoice
    shown = SHOWN_PAID if invoice.teamleader_status == "matched" else SHOWN_UNPAID
    timeline.record(
        invoice,
        timeline.TEAMLEADER_SYNCED,
        # The outcome is reconcile's summary for the logs and the job, told as it came.
        says(IN_LINE, outcome=outcome, shown=word(shown)),
        actor="system",
    )
    if more:
        doorbell.wake(doorbell.TEAMLEADER, sync.id)
    db.session.commit()
    return Delivery(outcome, synced=True)


def _give_back(sync_id: int, limited: ratelimit.RateLimited) -> None:
    """Undo the claim of a row whose delivery a rate limit stopped: no attempt counted,
    no lease held, due again when the limit allows. The claim stays counted in
    ``unsettled`` (a payment may have been registered before the limit stopped the run),
    so the next delivery reads before it writes and finishes what this one began."""
    db.session.execute(
        db.update(TeamleaderSync)
        .where(TeamleaderSync.id == sync_id)
        .values(
            lease_until=None,
            attempts=TeamleaderSync.attempts - 1,
            next_attempt_at=limited.retry_at_utc,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


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
    if first:  # the admins' next digest tells of it, once per document
        operator_alerts.record(
            operator_alerts.SYNC_REFUSED, sync.invoice.number, error, PROBLEMS_PAGE, now=now
        )
    timeline.record(
        sync.invoice,
        timeline.TEAMLEADER_SYNC_FAILED,
        says(SYNC_REFUSED, error=error),
        actor="system",
    )
    db.session.commit()
    return Delivery(f"refused: {error}", problem=error if first else None)


def _skip(sync: TeamleaderSync, version: int, reason: str, now: datetime) -> Delivery:
    sync.done = max(sync.done, version)
    sync.status = SyncStatus.SKIPPED
    sync.lease_until = None
    sync.last_error = reason
    timeline.record(
        sync.invoice, timeline.TEAMLEADER_SYNC_SKIPPED, says(NOT_SENT, reason=word(reason))
    )
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
    outbox.owe_teamleader(sync.invoice)
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
