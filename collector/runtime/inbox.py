"""Inbound events are stored before they are answered, then handled by a job keyed by
their row (DESIGN §2, "Inbound").

Each domain that receives events from outside (Teamleader's webhooks, the payment
provider's) keeps them in a model with the ``InboxRow`` columns and says which job
handles a row (``handled_by``, from its ``jobs.connect``). The receiver commits the row,
then ``hand_over`` starts its job; the dispatcher (``dispatch``, on the schedule and when
a worker starts) starts a job for every row still owed one — never handed over because
the process died or Redis was away, or handed over so long ago that the job must have
been lost. Handling is idempotent, so a row handled twice does no harm; a row never
handled is what this module exists to prevent.

An inbox on the payment path may instead be drained: its job takes the owed rows a few
at a time (``take``: one UPDATE, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
drains never share a row), and a hand-over starts a drain only when none is waiting to
start (``ring``). A burst of events then costs a few jobs instead of one each, and each
batch shares its job's clients and its delivery to Teamleader. A drain that dies leaves
its rows taken; they are taken again once ``TAKE_LEASE`` is over (rq's redo of the job,
the next drain) or by the dispatcher.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db

log = logging.getLogger(__name__)

# A row handed over this long ago and still not handled is handed over again: its job was
# lost (Redis flushed, the run failed for good) or is stuck behind a long queue; handling
# twice is harmless.
LEASE = timedelta(minutes=5)
# Rows younger than this are left to the receiver's own hand-over.
GRACE = timedelta(seconds=30)
BATCH = 500
# A row handled this many times without success (its job fails each time: the upstream
# refuses, a bug) is left for a person: an hour of retries at the lease.
MAX_DISPATCHES = 12
# A row a drain took and did not finish is taken again after this long (a drain handles
# a batch in well under it; rq redoes a killed job after about a minute and a half).
TAKE_LEASE = timedelta(seconds=60)
# A ring whose drain never started (Redis lost it) stops holding new rings back after
# this long; the rows meanwhile are found by the next drain or the dispatcher.
RING_TTL = 30  # seconds


# Our webhook path tokens are url-safe base64 or hex; anything else (non-ASCII, a NUL
# PostgreSQL would refuse, too long) is no token of ours and is refused before any lookup.
WEBHOOK_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def webhook_token_shape(token: str) -> bool:
    """Whether ``token`` could be one of our webhook path tokens."""
    return WEBHOOK_TOKEN.fullmatch(token) is not None


class InboxRow:
    """The columns every stored inbound event has, besides its own."""

    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # When a job to handle it was last started (None: never); how many times.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatches: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Inbox:
    """One kind of stored inbound event: its model, the condition that says a row is still
    owed handling, and the ``tracked`` job that handles one row (by id)."""

    name: str
    model: type
    owed: Callable[[], sa.ColumnElement[bool]]
    job: Callable
    queue: str = "high"
    # The ``tracked`` job (no arguments) that drains the inbox (``take``), if it has one:
    # a hand-over then starts a drain rather than a job for its row.
    drain: Callable | None = None


INBOXES: dict[str, Inbox] = {}


def handled_by(inbox: Inbox) -> None:
    """Register an inbox (a domain's ``jobs.connect``)."""
    INBOXES[inbox.name] = inbox


def hand_over(name: str, row) -> None:
    """Start the job that handles ``row`` (committed already), or ring for a drain of the
    inbox. If the job queue does not answer, the job's run waits for recovery; if this
    process dies first, the row waits for the dispatcher. It is never lost."""
    inbox = INBOXES[name]
    if inbox.drain is not None:
        ring(name)
    elif _claim(inbox, row.id, utcnow()):
        _start(inbox, row.id)


def ring(name: str) -> None:
    """Start a drain of inbox ``name`` unless one is waiting to start. A drain forgets
    the ring (``answer``) before it takes rows, so whatever was committed before a ring
    that found one waiting is taken by that drain. Without Redis, a drain is started (its
    run waits for recovery, as any job's does)."""
    inbox = INBOXES[name]
    jobs = current_app.extensions["jobs"]
    connection = getattr(jobs.backend, "connection", None)
    if connection is not None:
        try:
            if not connection.set(_ring_key(inbox.name), 1, nx=True, ex=RING_TTL):
                return
        except redis.RedisError:
            log.warning("could not ring the %s drain; starting one", inbox.name)
    try:
        jobs.enqueue(inbox.drain, queue=inbox.queue)
    except Exception:
        # Its run could not even be recorded: the dispatcher finds the rows, and the next
        # hand-over rings again.
        db.session.rollback()
        log.exception("could not start the %s drain", inbox.name)
        answer(name)


def answer(name: str) -> None:
    """A drain starts: the next hand-over starts another one (see ``ring``)."""
    connection = getattr(current_app.extensions["jobs"].backend, "connection", None)
    if connection is not None:
        try:
            connection.delete(_ring_key(name))
        except redis.RedisError:
            log.warning("could not answer the %s ring; it expires", name)


def take(name: str, limit: int, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` owed rows of inbox ``name`` (oldest first) that no live drain
    holds, in one statement, and commit; their ids."""
    inbox = INBOXES[name]
    model = inbox.model
    now = now or utcnow()
    takeable = sa.and_(
        inbox.owed(),
        model.dispatches < MAX_DISPATCHES,
        sa.or_(model.dispatched_at.is_(None), model.dispatched_at < now - TAKE_LEASE),
    )
    # Chosen once (a CTE, materialised): as a plain subquery PostgreSQL may run it again
    # for the rows being updated, and SKIP LOCKED would then find others to add.
    free = (
        sa.select(model.id)
        .where(takeable)
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("free")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    ids = db.session.scalars(
        sa.update(model)
        .where(model.id.in_(sa.select(free.c.id)), takeable)
        .values(dispatched_at=now, dispatches=model.dispatches + 1)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


def give_back(name: str, ids: list[int]) -> None:
    """Rows a drain took and will not handle now (the upstream is away): free to take,
    and the take not counted (an outage must not use up ``MAX_DISPATCHES``)."""
    if ids:
        model = INBOXES[name].model
        db.session.execute(
            sa.update(model)
            .where(model.id.in_(ids))
            .values(dispatched_at=None, dispatches=model.dispatches - 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def _ring_key(name: str) -> str:
    return f"collector:inbox:{name}:ring"


def dispatch(now: datetime | None = None) -> dict[str, int]:
    """Start a job for every stored event still owed handling; return how many per inbox."""
    now = now or utcnow()
    started = {}
    for inbox in INBOXES.values():
        model = inbox.model
        ids = db.session.scalars(
            sa.select(model.id)
            .where(inbox.owed(), model.received_at < now - GRACE, _claimable(model, now))
            .where(model.dispatches < MAX_DISPATCHES)
            .order_by(model.id)
            .limit(BATCH)
        ).all()
        # Claimed one by one, so two dispatchers (two workers starting) never both start one.
        claimed = [row_id for row_id in ids if _claim(inbox, row_id, now)]
        for row_id in claimed:
            _start(inbox, row_id)
        started[inbox.name] = len(claimed)
    return started


def _claimable(model, now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(model.dispatched_at.is_(None), model.dispatched_at < now - LEASE)


def _claim(inbox: Inbox, row_id: int, now: datetime) -> bool:
    """Note that a job for the row is being started, unless another process just did."""
    model = inbox.model
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, _claimable(model, now))
        .values(dispatched_at=now, dispatches=model.dispatches + 1)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _start(inbox: Inbox, row_id: int) -> None:
    try:
        current_app.extensions["jobs"].enqueue(inbox.job, row_id, queue=inbox.queue)
    except Exception:
        # Not even its run could be recorded (the database went away): the lease runs
        # out and the dispatcher starts it.
        db.session.rollback()
        log.exception("could not start the job for %s %s", inbox.name, row_id)
