"""The outbox's doorbell: services say which channel has new work; after the commit
that wrote that work, a delivery job is started for it.

The work itself is rows (``TeamleaderSync``, ``CallbackDelivery``) committed with the
change that made them owed, so a lost doorbell only delays delivery until the
periodic sweep; it never loses anything.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from collector.extensions import db

TEAMLEADER = "teamleader"
CALLBACKS = "callbacks"
CHANNELS = (TEAMLEADER, CALLBACKS)
_KEY = "outbox_wake"


def wake(channel: str) -> None:
    """Ask for a delivery run on ``channel`` once the current transaction commits."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    db.session.info.setdefault(_KEY, set()).add(channel)


def take_wakeups(session: Session) -> set[str]:
    """The channels rung during the transaction that just ended (and forget them)."""
    return session.info.pop(_KEY, set())
