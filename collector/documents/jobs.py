"""The documents domain's rq jobs: outbound status callbacks, and due dates passing.

Thin: each calls one operation and records the outcome on its JobRun.
"""

from __future__ import annotations

from flask import current_app

from collector.core import clock
from collector.core.columns import utcnow
from collector.documents import callbacks, ledger
from collector.documents import setup as documents_setup
from collector.documents.models import CallbackStatus
from collector.runtime import doorbell
from collector.runtime import setup as runtime_setup
from collector.runtime.queue import Periodic, Progress, QuietProgress, tracked


@tracked
def deliver_callbacks(*, progress: Progress) -> str:
    """POST every status callback whose time has come, oldest first."""
    return deliver_callbacks_now(progress)


def deliver_callbacks_now(progress: Progress | QuietProgress) -> str:
    """What ``deliver_callbacks`` does, inside whichever job calls it."""
    ids = callbacks.due(utcnow())
    progress.total(len(ids))
    session = documents_setup.callback_session(runtime_setup.outbound_guard(current_app))
    cipher = runtime_setup.cipher(current_app)
    outcomes = []
    for delivery_id in ids:
        row = callbacks.deliver(session, cipher, delivery_id, utcnow())
        outcomes.append(row.status if row is not None else None)
        progress.advance()
    failed = outcomes.count(CallbackStatus.FAILED)
    text = (
        f"{outcomes.count(CallbackStatus.DELIVERED)} delivered, "
        f"{outcomes.count(CallbackStatus.RETRYING)} to retry"
    )
    return text + (f", {failed} given up" if failed else "")


@tracked
def expire_overdue(*, progress: Progress) -> str:
    """The daily run: BOOKED documents past their due date become EXPIRED."""
    count = ledger.expire_overdue(clock.local_today())
    return f"{count} document(s) expired"


PERIODIC = (
    # Due dates passed: BOOKED → EXPIRED. Hourly, because the day turns at the company's
    # local midnight (any zone), not UTC's; a run with nothing to expire is one query.
    Periodic(expire_overdue, "default", cron="5 * * * *"),
    # Status callbacks: the commit that owes one starts their delivery at once, so this
    # is the safety net for a lost doorbell, a dead worker's lease and the retries.
    Periodic(deliver_callbacks, "default", interval=60),
)


def connect() -> None:
    """Deliver status callbacks when the doorbell rings."""
    doorbell.delivered_by(
        doorbell.CALLBACKS, deliver_callbacks, lambda: deliver_callbacks_now(QuietProgress())
    )
