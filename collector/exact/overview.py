"""What the Exact Online page shows besides the settings: recent runs, failing documents,
and whether Exact's daily limit is used up."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from collector.core.columns import utcnow
from collector.exact import forwarding as exact_forwarding
from collector.exact.errors import company_zone
from collector.exact.models import BookingStatus, ExactBooking, ExactSyncRun, SyncTrigger
from collector.extensions import db

FAILING_SHOWN = 200
RUNS_SHOWN = 500  # 15-minute sweeps plus events: a week is about 700 runs at most
# What started a run, as the history says it (the stored value is the enum's).
TRIGGERS = {
    SyncTrigger.SCHEDULE: _l("schedule"),
    SyncTrigger.EVENT: _l("event"),
    SyncTrigger.MANUAL: _l("manual"),
}


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


def daily_limit_notice(reset_at: datetime | None) -> str | None:
    """What the page says while Exact's daily limit is used up (None when it is not): the
    words of ``errors.daily_limit_message`` (which jobs store and log in English) in the
    reader's language, the company's city named their way (Brussel, Bruxelles)."""
    if reset_at is None:
        return None
    utc = reset_at.astimezone(UTC)
    zone = company_zone()
    if zone is None:
        return _(
            "Exact's daily limit for this administration is used up; it resets at %(utc)s UTC.",
            utc=utc.strftime("%H:%M"),
        )
    return _(
        "Exact's daily limit for this administration is used up; it resets at %(utc)s UTC "
        "(%(local)s in %(city)s).",
        utc=utc.strftime("%H:%M"),
        local=utc.astimezone(zone).strftime("%H:%M"),
        city=get_timezone_location(zone, locale=get_locale() or "en", return_city=True),
    )
