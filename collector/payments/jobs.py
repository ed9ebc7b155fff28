"""The payments domain's rq jobs: act on what the payment provider's webhook said, and
read open checkouts again on a schedule in case a webhook was lost.

Thin: each builds the provider's client, calls one operation and records the outcome on
its JobRun. The provider's webhook calls are stored first (``ProviderNotification``) and
drained by ``handle_provider_webhook`` through the runtime's inbox.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from flask import current_app

from collector.core.columns import utcnow
from collector.core.errors import TryLater
from collector.documents import callbacks
from collector.extensions import db
from collector.payments import (
    checkout,
    notifications,
    open_payments,
    provider_errors,
    provider_jobs,
    provider_status,
)
from collector.payments import setup as payments_setup
from collector.payments.models import ProviderNotification
from collector.runtime import doorbell, inbox
from collector.runtime import jobs as runtime_jobs
from collector.runtime.queue import Periodic, Progress, tracked

log = logging.getLogger(__name__)


@tracked
def handle_provider_webhook(notification_id: int | None = None, *, progress: Progress) -> str:
    """The provider said payments changed: fetch each and apply what the fetch says.

    Without an id (a hand-over rang), every stored notification still owed, a batch at a
    time; with one (the dispatcher's hand-over of a row long owed), that one. The
    status each batch owes Teamleader (and any status callbacks) is delivered by this
    job as soon as the batch is recorded: no job of its own, no second pickup.
    """
    provider = payments_setup.provider(current_app)
    if notification_id is not None:
        with doorbell.deliver_here():
            return _handle(provider, notification_id)
    inbox.answer(PROVIDER)  # before taking: a webhook stored from now on rings again
    outcomes: Counter[str] = Counter()
    until = time.monotonic() + DRAIN_SECONDS
    while ids := inbox.take(PROVIDER, BATCH):
        # The status callbacks' endpoints are read once a batch, not once a payment.
        with doorbell.deliver_here(), callbacks.endpoints_read_once():
            for n, row_id in enumerate(ids):
                try:
                    outcomes[_handle(provider, row_id, quiet=True, note_answer=False)] += 1
                except TryLater:
                    inbox.give_back(PROVIDER, ids[n:])
                    raise
                except Exception as exc:
                    # This one waits for the next drain (``inbox.TAKE_LEASE``); the rest go on.
                    db.session.rollback()
                    log.exception("provider notification %s failed", row_id)
                    notifications.failed(row_id, exc)
                    outcomes["failed"] += 1
        if outcomes["processed"] or outcomes["ignored"]:
            provider_status.answered()  # the key works: once a batch, not once a payment
        if time.monotonic() > until:
            inbox.ring(PROVIDER)  # long enough for one job: another takes what is left
            break
    return ", ".join(f"{n} {what}" for what, n in outcomes.items()) or "Nothing was owed."


def _handle(
    provider, notification_id: int, *, quiet: bool = False, note_answer: bool = True
) -> str:
    """Fetch and apply one notification's payment; its outcome (``quiet``: in a word)."""
    notification = notifications.owed(notification_id)
    if notification is None:
        return (
            "handled already" if quiet else f"Notification {notification_id} was handled already."
        )
    if provider is None:
        outcome = notifications.ignored(notification, "No payment provider is configured.")
        return "ignored" if quiet else outcome
    said = []

    def handled(online) -> None:  # in the payment's own transaction
        state = online.invoice.state.value
        said.append(f"{online.provider_id} is {online.status}; the document is {state}.")
        notifications.processed(notification, said[-1], commit=False)

    try:
        online = checkout.refresh(
            provider, notification.provider_id, handled=handled, note_answer=note_answer
        )
    except (provider_errors.Unavailable, provider_errors.RateLimited) as exc:
        # Away for a moment (a 5xx, a timeout, a 429): ask again soon, without holding
        # a worker; the notification stays owed whatever happens.
        wait = getattr(exc, "retry_after", None) or PROVIDER_AWAY_WAIT
        raise TryLater("the payment provider", time.time() + wait) from exc
    if online is None:
        outcome = notifications.ignored(notification, "Not a payment of ours.")
        return "ignored" if quiet else outcome
    return "processed" if quiet else said[-1]


@tracked
def reread_open_payments(*, progress: Progress) -> str:
    """Fetch the open checkouts whose time has come again and apply what the provider says."""
    provider = payments_setup.provider(current_app)
    if provider is None:
        return "No payment provider is configured."
    return open_payments.reread_open(provider, utcnow()).summary()


PROVIDER = "provider"  # the inbox of the provider's webhook calls
PROVIDER_AWAY_WAIT = 15  # seconds before a webhook's payment is fetched again
# Notifications a drain takes at once: enough to share a job and a Teamleader delivery,
# few enough that the payment lanes of a burst each get some (a burst of 200 on two
# workers, 2026-12-04: p99 4.8–6.1 s in six runs at 10, 5.4–6.4 s in three at 5; 20 was
# no better).
BATCH = 10
# A drain stops taking after this long and starts another, so a steady stream of calls
# never makes one job that outlives its timeout.
DRAIN_SECONDS = 120

PERIODIC: tuple[Periodic, ...] = (
    # The safety net behind the provider's webhook: a lost call costs minutes, not money.
    Periodic(reread_open_payments, "default", interval=2 * 60),
    # A refused API key is seen (and mailed to admins once) before a customer meets it.
    *provider_jobs.PERIODIC,
)


def connect() -> None:
    """Hand stored webhook calls to ``handle_provider_webhook``; prune old ones with the
    job history."""
    inbox.handled_by(
        inbox.Inbox(
            PROVIDER,
            ProviderNotification,
            notifications.owed_condition,
            handle_provider_webhook,
            drain=handle_provider_webhook,
        )
    )
    runtime_jobs.prune_along("notifications", "provider notifications", _prune_notifications)


def _prune_notifications() -> int:
    return notifications.prune(30)
