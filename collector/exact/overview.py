"""What the Exact Online page shows besides the settings: recent runs, failing documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import joinedload

from collector.core.columns import utcnow
from collector.exact import forwarding as exact_forwarding
from collector.exact.models import BookingStatus, ExactBooking, ExactSyncRun
from collector.extensions import db

FAILING_SHOWN = 200
RUNS_SHOWN = 500  # 15-minute sweeps plus events: a week is about 700 runs at most


def recent_runs(now: datetime | None = None, limit: int = RUNS_SHOWN) -> list[ExactSyncRun]:
    """The forwarding runs of the last seven days, newest first (older ones wait for the
    next run's ``prune_history``)."""
    since = (now or utcnow()) - exact_forwarding.HISTORY
    return list(
        db.session.scalars(
            db.select(ExactSyncRun)
            .where(ExactSyncRun.started_at >= since)
            .order_by(ExactSyncRun.started_at.desc())
            .limit(limit)
        )
    )


def failing_bookings(limit: int = FAILING_SHOWN) -> list[ExactBooking]:
    """The documents whose last attempt failed, most failed runs first, with their invoice."""
    return list(
        db.session.scalars(
            db.select(ExactBooking)
            .where(ExactBooking.status == BookingStatus.FAILED)
            .options(joinedload(ExactBooking.invoice))
            .order_by(ExactBooking.failures.desc(), ExactBooking.id)
            .limit(limit)
        )
    )
