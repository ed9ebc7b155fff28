"""Direct-debit facts shared by mandates, collection runs and bank files.

- Which collections make a mandate "used" (its next collection RCUR, not FRST), and
  when it was last collected (it lapses 36 months later).
- The TARGET2 calendar: the days SEPA collections settle on.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.easter import easter

from collector.extensions import db
from collector.models import Collection, CollectionStatus, Mandate

# A rejected collection moved no money, so the next one is a first again (FRST); a
# returned one did settle, so the mandate stays used. A cancelled one never left us.
USES_MANDATE = (CollectionStatus.PENDING, CollectionStatus.SETTLED, CollectionStatus.RETURNED)
# The 36 months count from the last collection, even one rejected or returned (§2.3).
DATES_MANDATE = (*USES_MANDATE, CollectionStatus.REJECTED)


def refresh_use(mandate: Mandate) -> None:
    """Set ``used`` and ``last_collected_on`` from the mandate's collections."""
    db.session.flush()
    used = db.session.scalar(
        sa.select(sa.func.count(Collection.id)).where(
            Collection.mandate_id == mandate.id, Collection.status.in_(USES_MANDATE)
        )
    )
    last = db.session.scalar(
        sa.select(sa.func.max(Collection.collection_date)).where(
            Collection.mandate_id == mandate.id, Collection.status.in_(DATES_MANDATE)
        )
    )
    mandate.used = bool(used)
    mandate.last_collected_on = last


def is_business_day(day: date) -> bool:
    """A TARGET2 settlement day: not a weekend, New Year, Good Friday, Easter Monday,
    1 May, Christmas or 26 December."""
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return False
    sunday = easter(day.year)
    return day not in {sunday - timedelta(days=2), sunday + timedelta(days=1)}


def next_business_day(day: date) -> date:
    """``day`` itself if it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def earliest_collection(today: date) -> date:
    """The first day a collection made today can settle: Core collections reach the
    debtor's bank up to D-1 (Rulebook 9, reference §2.2), so the next business day
    after today's."""
    return next_business_day(today + timedelta(days=1))
