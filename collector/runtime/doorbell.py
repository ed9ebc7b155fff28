"""The outbox's doorbell: operations say which channel has new work; after the commit
that wrote that work, a delivery job is started for it.

The work itself is rows (``TeamleaderSync``, ``CallbackDelivery``) committed with the
change that made them owed, so a lost doorbell only delays delivery until the
periodic sweep; it never loses anything. Which job delivers a channel is said by the
domain that owns it (its ``jobs.connect``, when the app is made).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from collector.extensions import db

log = logging.getLogger(__name__)

TEAMLEADER = "teamleader"
CALLBACKS = "callbacks"
CHANNELS = (TEAMLEADER, CALLBACKS)
_KEY = "outbox_wake"

# The delivery job of each channel, filled in by the domains' ``jobs.connect``.
DELIVERERS: dict[str, Callable] = {}


def wake(channel: str) -> None:
    """Ask for a delivery run on ``channel`` once the current transaction commits."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    db.session.info.setdefault(_KEY, set()).add(channel)


def take_wakeups(session: Session) -> set[str]:
    """The channels rung during the transaction that just ended (and forget them)."""
    return session.info.pop(_KEY, set())


def delivered_by(channel: str, job: Callable) -> None:
    """Say which ``tracked`` job delivers ``channel``'s work."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    DELIVERERS[channel] = job


def _ring_after_commit(session: Session) -> None:
    """Start a delivery job for each outbox channel the committed transaction rang."""
    channels = take_wakeups(session)
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
