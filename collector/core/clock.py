"""The one clock: instants in UTC for storage, business dates in the company's zone.

Everything stored is an aware UTC ``datetime`` from ``now()``. A business date — the
day a due date passes, the earliest day a debit may be collected, the day a reminder
is due — is the company's local date (``local_today()``): at 00:30 in Brussels the UTC
date is still yesterday, and a run made then must not collect a day early.

Both read one replaceable source, so the tests move every clock of the process with
one fixture (``tests/support/clock.py``) instead of patching call sites; the zone is
looked up through a function the app installs (the company's setting, cached), so
this module needs no Flask and no database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "Europe/Brussels"

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_zone_lookup: Callable[[], ZoneInfo] = lambda: ZoneInfo(DEFAULT_ZONE)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _source()


def use_source(source: Callable[[], datetime]) -> Callable[[], datetime]:
    """Read "now" from ``source`` (an aware-datetime factory); returns the previous one."""
    global _source
    previous, _source = _source, source
    return previous


def use_zone_lookup(lookup: Callable[[], ZoneInfo]) -> Callable[[], ZoneInfo]:
    """Take the company's zone from ``lookup``; returns the previous lookup."""
    global _zone_lookup
    previous, _zone_lookup = _zone_lookup, lookup
    return previous


def zone() -> ZoneInfo:
    """The company's time zone."""
    return _zone_lookup()


def local(instant: datetime) -> datetime:
    """``instant`` (aware) as the company's wall-clock time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime refused; use an aware UTC datetime")
    return instant.astimezone(zone())


def local_date(instant: datetime) -> date:
    """The business date an instant falls on."""
    return local(instant).date()


def local_today() -> date:
    """Today's business date: the company's local date, not UTC's."""
    return local_date(now())


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone by name (``Europe/Amsterdam``); ValueError naming it when unknown."""
    name = (name or "").strip()
    if name not in _known_zones():
        raise ValueError(f"Unknown time zone: {name or '(empty)'}.")
    return ZoneInfo(name)


def zone_names() -> list[str]:
    """Every IANA zone name this machine knows, sorted (the settings' choices)."""
    return sorted(_known_zones())


@functools.cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk: once per process is enough.
    return frozenset(available_timezones())
