"""The payments domain's rq jobs: act on what the payment provider's webhook said, and
read open checkouts again on a schedule in case a webhook was lost.

Thin: each builds the provider's client, calls one operation and records the outcome on
its JobRun. The provider's webhook calls are stored first (``ProviderNotification``) and
handed to ``handle_provider_webhook`` through the runtime's inbox.
"""

from __future__ import annotations

import time

from flask import current_app

from collector.core.columns import utcnow
from collector.core.errors import TryLater
from collector.payments import checkout, notifications, open_payments, provider_errors
from collector.payments import setup as payments_setup
from collector.payments.models import ProviderNotification
from collector.runtime import inbox
from collector.runtime import jobs as runtime_jobs
from collector.runtime.queue import Periodic, Progress, tracked


@tracked
def handle_provider_webhook(notification_id: int, *, progress: Progress) -> str:
    """The provider said a payment changed: fetch it and apply what the fetch says."""
    notification = notifications.owed(notification_id)
    if notification is None:
        return f"Notification {notification_id} was handled already."
    provider = payments_setup.provider(current_app)
    if provider is None:
        return notifications.ignored(notification, "No payment provider is configured.")
    try:
        online = checkout.refresh(provider, notification.provider_id)
    except (provider_errors.Unavailable, provider_errors.RateLimited) as exc:
        # Away for a moment (a 5xx, a timeout, a 429): ask again soon, without holding
        # a worker; the notification stays owed whatever happens.
        wait = getattr(exc, "retry_after", None) or PROVIDER_AWAY_WAIT
        raise TryLater("the payment provider", time.time() + wait) from exc
    if online is None:
        return notifications.ignored(notification, "Not a payment of ours.")
    return notifications.processed(
        notification,
        f"{online.provider_id} is {online.status}; the document is {online.invoice.state.value}.",
    )


@tracked
def reread_open_payments(*, progress: Progress) -> str:
    """Fetch the open checkouts whose time has come again and apply what the provider says."""
    provider = payments_setup.provider(current_app)
    if provider is None:
        return "No payment provider is configured."
    return open_payments.reread_open(provider, utcnow()).summary()


PROVIDER = "provider"  # the inbox of the provider's webhook calls
PROVIDER_AWAY_WAIT = 15  # seconds before a webhook's payment is fetched again

PERIODIC: tuple[Periodic, ...] = (
    # The safety net behind the provider's webhook: a lost call costs minutes, not money.
    Periodic(reread_open_payments, "default", interval=2 * 60),
)


def connect() -> None:
    """Hand stored webhook calls to ``handle_provider_webhook``; prune old ones with the
    job history."""
    inbox.handled_by(
        inbox.Inbox(
            PROVIDER, ProviderNotification, notifications.owed_condition, handle_provider_webhook
        )
    )
    runtime_jobs.prune_along("notifications", "provider notifications", _prune_notifications)


def _prune_notifications() -> int:
    return notifications.prune(30)
