"""Open checkouts read again from the provider on a schedule: a lost webhook costs minutes.

Mollie-style providers call the webhook once per change (and never for ``open`` →
``pending``); a call lost on our side — a worker killed mid-job, Redis away — is not
repeated. So every payment still in a status that can change is fetched again once it
is a few minutes old, then less often as it ages (never more often than a tenth of its
age, at least two minutes apart), until the longest a provider keeps a payment open has
passed. What the fetch says is applied as the webhook's job would (``checkout.refresh``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from collector.extensions import db
from collector.payments import ProviderClient, ProviderError, RateLimited, checkout
from collector.payments.models import OnlinePayment

log = logging.getLogger(__name__)

# The provider's statuses that can still change (Mollie: the others are final).
OPEN = ("open", "pending", "authorized")
# The webhook and the customer's return usually tell first; after this, we ask.
FIRST_READ_AFTER = timedelta(minutes=3)
MIN_INTERVAL = timedelta(minutes=2)
# Mollie expires most open payments within hours, a bank transfer after 12 days unless a
# due date says otherwise (we set none), and releases an authorization after 28 days.
MAX_AGE = timedelta(days=30)
BATCH = 100  # payments per run; the rest wait for the next run, read longest ago first
# So many failures in a row say the provider itself is away: the run stops rather than
# wait out a timeout per payment while the schedule starts the next runs.
FAILURES_IN_A_ROW = 3


@dataclass
class Reread:
    """What one run did: payments read, of which changed, and fetches that failed."""

    read: int = 0
    changed: int = 0
    failed: int = 0

    def summary(self) -> str:
        text = f"{self.read} open payment(s) read again, {self.changed} changed"
        return text + (f", {self.failed} could not be read" if self.failed else "")


def reread_open(provider: ProviderClient, now: datetime, limit: int = BATCH) -> Reread:
    """Fetch every open payment whose time has come and apply what the provider says.

    A payment the provider fails on is tried again next run and does not stop the
    others; a rate limit, or ``FAILURES_IN_A_ROW``, stops the run (the next one goes on
    where it stopped).
    """
    result, in_a_row = Reread(), 0
    for online_id, provider_id, status in due(now, limit):
        try:
            online = checkout.refresh(provider, provider_id)
        except ProviderError as exc:
            db.session.rollback()
            log.warning("re-reading open payment %s failed: %s", provider_id, exc)
            result.failed, in_a_row = result.failed + 1, in_a_row + 1
            if isinstance(exc, RateLimited) or in_a_row == FAILURES_IN_A_ROW:
                break
            continue
        in_a_row = 0
        if online is None:  # unknown to the provider: it answered, so it waits like the rest
            _mark_read(online_id, now)
        result.read += 1
        result.changed += online is not None and online.status != status
    return result


def due(now: datetime, limit: int = BATCH) -> list[tuple[int, str, str]]:
    """(id, provider id, status) of the open payments to read now, read longest ago first."""
    query = (
        sa.select(OnlinePayment.id, OnlinePayment.provider_id, OnlinePayment.status)
        .where(OnlinePayment.status.in_(OPEN), sa.or_(*_by_age(now)))
        .order_by(
            sa.func.coalesce(OnlinePayment.fetched_at, OnlinePayment.created_at),
            OnlinePayment.id,
        )
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(query)]


def _by_age(now: datetime) -> list[sa.ColumnElement[bool]]:
    """One condition per band of ages, each twice as long as the one before: in the band
    ending at age ``oldest``, a payment is due when last read ``oldest / 10`` ago or more
    (at least ``MIN_INTERVAL``), so never more often than a tenth of its age. Bands keep
    the rule in plain comparisons that every database runs alike."""
    conditions, youngest = [], FIRST_READ_AFTER
    while youngest < MAX_AGE:
        oldest = min(youngest * 2, MAX_AGE)
        every = max(MIN_INTERVAL, oldest / 10)
        conditions.append(
            sa.and_(
                OnlinePayment.created_at <= now - youngest,
                OnlinePayment.created_at > now - oldest,
                sa.or_(OnlinePayment.fetched_at.is_(None), OnlinePayment.fetched_at <= now - every),
            )
        )
        youngest = oldest
    return conditions


def _mark_read(online_id: int, now: datetime) -> None:
    db.session.execute(
        sa.update(OnlinePayment).where(OnlinePayment.id == online_id).values(fetched_at=now)
    )
    db.session.commit()
