"""The payment provider's webhook calls, kept before they are answered.

A Mollie-style webhook only says "payment ``id`` changed" and expects a 2xx; the provider
retries a call that failed, but not one we answered and then lost. So the call is a row
first (``receive``), drained by a job through the runtime's inbox, and marked handled by
the job that fetched the payment (``processed``/``ignored``). A row still owed handling
is found again by the next drain or the inbox's dispatcher.
"""

from __future__ import annotations

import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.extensions import db
from collector.payments.models import NotificationStatus, ProviderNotification
from collector.runtime import housekeeping


def receive(provider_id: str) -> ProviderNotification:
    """Store one call for payment ``provider_id`` (one of ours) and commit."""
    notification = ProviderNotification(provider_id=provider_id)
    db.session.add(notification)
    db.session.commit()
    return notification


def owed_condition() -> sa.ColumnElement[bool]:
    return ProviderNotification.status == NotificationStatus.RECEIVED


def owed(notification_id: int) -> ProviderNotification | None:
    """The notification if it is still owed handling (a job may run twice)."""
    if not isinstance(notification_id, int) or isinstance(notification_id, bool):
        raise ValueError(f"give a notification id: {notification_id!r}")
    notification = db.session.get(ProviderNotification, notification_id)
    if notification is None or notification.status != NotificationStatus.RECEIVED:
        return None
    return notification


def processed(notification: ProviderNotification, outcome: str, *, commit: bool = True) -> str:
    """Handled; without ``commit`` in the caller's transaction (the payment it applied)."""
    return _handled(notification, NotificationStatus.PROCESSED, outcome, commit)


def ignored(notification: ProviderNotification, outcome: str) -> str:
    return _handled(notification, NotificationStatus.IGNORED, outcome)


def failed(notification_id: int, exc: Exception) -> None:
    """Handling raised: the row stays owed (taken again later, ``inbox.MAX_DISPATCHES``
    times at most) and says why, for whoever looks at it."""
    notification = db.session.get(ProviderNotification, notification_id)
    if notification is not None and notification.status == NotificationStatus.RECEIVED:
        notification.outcome = f"Failed, to be tried again: {type(exc).__name__}: {exc}"[:500]
        db.session.commit()


def _handled(
    notification: ProviderNotification, status: NotificationStatus, outcome: str, commit=True
) -> str:
    notification.status = status
    notification.outcome = outcome[:500]
    notification.processed_at = utcnow()
    if commit:
        db.session.commit()
    return outcome


def prune(keep_days: int = 30) -> int:
    """Delete handled notifications older than ``keep_days``; return how many."""
    handled = ProviderNotification.status != NotificationStatus.RECEIVED
    return housekeeping.prune_older(ProviderNotification.received_at, keep_days, handled)
