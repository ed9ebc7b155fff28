"""The company's settings: its time zone, the one business dates are counted in.

The zone is read on almost every business-date decision, so it is cached per process
for a short while; saving it here forgets the cache at once, other processes pick it
up within ``ZONE_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from collector.accounts import audit_changes
from collector.accounts.models import Company
from collector.core import clock
from collector.core.errors import Invalid
from collector.extensions import db
from collector.runtime.singletons import only_row

ZONE_CACHE_SECONDS = 60.0
_cached: tuple[float, ZoneInfo] | None = None


def current() -> Company:
    """The company row, created with the default zone on first use."""
    return only_row(Company, time_zone=clock.DEFAULT_ZONE, time_zone_chosen=False)


def time_zone() -> ZoneInfo:
    """The company's time zone (what ``core.clock`` counts business dates in)."""
    global _cached
    if _cached is not None and _cached[0] > time.monotonic():
        return _cached[1]
    name = db.session.scalar(db.select(Company.time_zone).order_by(Company.id).limit(1))
    try:
        zone = clock.parse_zone(name or clock.DEFAULT_ZONE)
    except ValueError:
        zone = ZoneInfo(clock.DEFAULT_ZONE)  # a zone this machine's tz database lacks
    _cached = (time.monotonic() + ZONE_CACHE_SECONDS, zone)
    return zone


def forget_time_zone() -> None:
    """Read the zone again on next use."""
    global _cached
    _cached = None


def set_time_zone(name: str) -> Company:
    """A person chooses the company's zone; an unknown name stores nothing."""
    try:
        zone = clock.parse_zone(name)
    except ValueError as exc:
        unknown = _("Unknown time zone: %(name)s.", name=(name or "").strip() or "—")
        raise Invalid({"time_zone": [unknown]}) from exc
    company = current()
    before = audit_changes.snapshot(company, ("time_zone",))
    company.time_zone, company.time_zone_chosen = zone.key, True
    audit_changes.record_changes("settings.changed", before, company, area="company")
    db.session.commit()
    forget_time_zone()
    return company


def adopt_teamleader_zone(name: str | None) -> None:
    """On connect, take Teamleader's zone (users.me ``time_zone``) unless a person chose
    one here; an unknown or missing name changes nothing."""
    company = current()
    if company.time_zone_chosen or not name:
        return
    try:
        company.time_zone = clock.parse_zone(name).key
    except ValueError:
        return
    db.session.commit()
    forget_time_zone()
