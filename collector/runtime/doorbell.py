"""The outbox's doorbell: operations say which channel has new work; after the commit
that wrote that work, a delivery job is started for it.

The work itself is rows (``TeamleaderSync``, ``CallbackDelivery``) committed with the
change that made them owed, so a lost doorbell only delays delivery until the
periodic sweep; it never loses anything. Which job delivers a channel is said by the
domain that owns it (its ``jobs.connect``, when the app is made).

A job on the payment path delivers what it rang itself (``deliver_here``): a payment
then costs one job, not two, and is in Teamleader without waiting for a second pickup.
A ring may name the row it owes (``wake(channel, row_id)``); the in-job delivery then
delivers those rows only (``rung``), not every row other jobs are delivering meanwhile.
Delivery claims each row before it writes, so it stays exactly once whoever delivers.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from collector.extensions import db

log = logging.getLogger(__name__)

TEAMLEADER = "teamleader"
CALLBACKS = "callbacks"
CHANNELS = (TEAMLEADER, CALLBACKS)
_KEY = "outbox_wake"
_ROWS = "outbox_wake_rows"
ALL = None  # a ring that names no row: the whole channel is owed

# The delivery job of each channel, filled in by the domains' ``jobs.connect``.
DELIVERERS: dict[str, Callable] = {}
# The same delivery as a plain function (no job of its own), for ``deliver_here``.
DELIVER_NOW: dict[str, Callable[[], str]] = {}

# Inside ``deliver_here``: the rows (or ALL) rung per channel by commits so far, kept for
# the end; while its in-job delivery runs, the rows it is to deliver.
_kept: contextvars.ContextVar[dict[str, set] | None] = contextvars.ContextVar("kept", default=None)
_delivering: contextvars.ContextVar[frozenset | None] = contextvars.ContextVar(
    "delivering", default=None
)


def wake(channel: str, row_id: int | None = ALL) -> None:
    """Ask for a delivery run on ``channel`` once the current transaction commits;
    ``row_id`` names the outbox row owed, when there is one."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    db.session.info.setdefault(_KEY, set()).add(channel)
    db.session.info.setdefault(_ROWS, {}).setdefault(channel, set()).add(row_id)


def take_wakeups(session: Session) -> set[str]:
    """The channels rung during the transaction that just ended (and forget them)."""
    session.info.pop(_ROWS, None)
    return session.info.pop(_KEY, set())


def rung() -> frozenset[int] | None:
    """Inside the in-job delivery of ``deliver_here``: the rows its block rang; None
    (deliver everything owed) elsewhere, or when a ring named no row."""
    rows = _delivering.get()
    return None if rows is None or ALL in rows else rows


def delivered_by(channel: str, job: Callable, now: Callable[[], str] | None = None) -> None:
    """Say which ``tracked`` job delivers ``channel``'s work, and (``now``) the plain
    function that does the same inside a job already running."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    DELIVERERS[channel] = job
    if now is not None:
        DELIVER_NOW[channel] = now


@contextmanager
def deliver_here() -> Iterator[None]:
    """Inside a job: what the commits in the block ring is delivered by this job at the
    end of the block, not by a delivery job of its own. Should the block raise, or the
    delivery fail, the delivery jobs are started as usual; the rows are committed, so
    nothing depends on which path delivers them."""
    kept: dict[str, set] = {}
    token = _kept.set(kept)
    try:
        yield
    except BaseException:
        _kept.reset(token)
        _start(set(kept))
        raise
    _kept.reset(token)
    for channel in sorted(kept):
        deliver = DELIVER_NOW.get(channel)
        rows = _delivering.set(frozenset(kept[channel]))
        try:
            if deliver is None:
                raise LookupError(f"{channel} has no delivery without a job")
            log.info("%s delivered in the job that rang: %s", channel, deliver())
        except Exception:
            log.warning("%s delivery in this job failed; starting its job", channel, exc_info=True)
            db.session.rollback()
            _start({channel})
        finally:
            _delivering.reset(rows)


def _ring_after_commit(session: Session) -> None:
    """Start a delivery job for each outbox channel the committed transaction rang (or
    keep it for the job that asked to deliver it itself)."""
    rows = session.info.get(_ROWS, {})
    channels = take_wakeups(session)
    kept = _kept.get()
    if kept is not None:
        for channel in channels:
            kept.setdefault(channel, set()).update(rows.get(channel, {ALL}))
        return
    _start(channels)


def _start(channels: set[str]) -> None:
    if not channels or not has_app_context():
        return
    for channel in sorted(channels):
        try:
            current_app.extensions["jobs"].start(DELIVERERS[channel], queue="high")
        except Exception:
            # The rows are committed: the periodic sweep delivers them.
            log.warning("could not start the %s delivery job; the sweep will", channel)


def _forget_wakeups(session: Session, *args) -> None:
    take_wakeups(session)


def install() -> None:
    """Listen for commits (once per process: the session class is shared by apps)."""
    if not sa.event.contains(db.session, "after_commit", _ring_after_commit):
        sa.event.listen(db.session, "after_commit", _ring_after_commit)
        sa.event.listen(db.session, "after_soft_rollback", _forget_wakeups)
