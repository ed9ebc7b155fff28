"""The emulator's clock and the timestamp formats Teamleader uses.

Everything that expires (authorization codes, access tokens, download links) reads
``Clock.now()``, so tests move time forward instead of sleeping. The rate-limit window
is the exception: it runs on real monotonic time (see ``ratelimit.py``).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta


class Clock:
    """Real UTC time plus an offset that can be advanced or set."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        """Return the emulator's current time, tz-aware UTC."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, if negative) and return the new time."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> datetime:
        """Back to real time."""
        with self._lock:
            self._offset = timedelta()
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Make ``now()`` return ``when`` from this moment on."""
        with self._lock:
            self._offset = when.astimezone(UTC) - datetime.now(UTC)
        return self.now()


def iso_datetime(value: datetime) -> str:
    """Format like the fixtures: ``2016-02-04T16:44:33+00:00`` (UTC, seconds)."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def rate_limit_stamp(value: datetime) -> str:
    """Format like the reference's ``X-RateLimit-Reset: 2021-06-15T10:51:23.035+0100``.

    Milliseconds and an offset without a colon; we always emit UTC (``+0000``).
    """
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Parse an ISO 8601 datetime; a value without offset is taken as UTC."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(text: str) -> date:
    """Parse an ISO 8601 calendar date (``YYYY-MM-DD``)."""
    return date.fromisoformat(text)
