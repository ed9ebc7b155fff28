"""The emulator's clock and the date formats Exact Online speaks.

Token ages, code expiry, the minutely rate-limit window and the daily reset all read
``Clock.now()``, so tests move time forward instead of sleeping: by hand (``advance``,
``set``), or a fixed step after every REST call served (``per_call``), which makes
a run of a few dozen calls last as long as a real one paced over many minutes. A test that
runs the emulator in its own process can make it ``follow`` the test's clock, so that the
emulator and the application under test read one time.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

DATE_JSON = re.compile(r"^/Date\((-?\d+)\)/$")


class TimeSource(Protocol):
    """A clock someone else owns (the test clock of the app under test)."""

    def now(self) -> datetime: ...

    def set(self, at: datetime) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


class Clock:
    """Real UTC time plus an offset that can be advanced or set, or another clock followed."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._source: TimeSource | None = None
        self.per_call = 0.0  # seconds added after every REST call served (control.py)
        if start is not None:
            self.set(start)

    def timestamp(self) -> float:
        """Seconds since the epoch on the emulator's clock."""
        with self._lock:
            if self._source is not None:
                return self._source.now().timestamp()
            return time.time() + self._offset

    def now(self) -> datetime:
        """The emulator's current time, tz-aware UTC."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, if negative) and return the new time."""
        with self._lock:
            if self._source is not None:
                self._source.advance(seconds=seconds)
            else:
                self._offset += seconds
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Make ``now()`` return ``when`` from this moment on."""
        with self._lock:
            if self._source is not None:
                self._source.set(when)
            else:
                self._offset = when.timestamp() - time.time()
        return self.now()

    def follow(self, source: TimeSource | None) -> datetime:
        """Read (and move) ``source`` instead of the real clock; None: real time again.

        Only for an emulator served in the test's own process: the application under test
        and the emulator then agree to the microsecond, and time stands still between calls.
        """
        with self._lock:
            self._source, self._offset = source, 0.0
        return self.now()

    def tick(self) -> None:
        """One call was served: move on ``per_call`` seconds (nothing when it is 0)."""
        if self.per_call:
            self.advance(self.per_call)

    def reset(self) -> datetime:
        """Back to real time (no longer following, no step per call)."""
        with self._lock:
            self._offset, self._source, self.per_call = 0.0, None, 0.0
        return self.now()


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch (rate-limit resets, ``/Date(ms)/``)."""
    return int(round(value.timestamp() * 1000))


def json_date(value: datetime) -> str:
    """Exact's OData v2 date: ``/Date(1382667872203)/`` (UTC epoch milliseconds)."""
    return f"/Date({epoch_ms(value)})/"


def parse_datetime(text: str) -> datetime:
    """ISO 8601 (date or date-time, offset optional, then UTC) or ``/Date(ms)/``."""
    match = DATE_JSON.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def midnight(value: datetime) -> datetime:
    """The start of ``value``'s UTC day."""
    return datetime.combine(value.astimezone(UTC).date(), datetime.min.time(), UTC)


def next_midnight(value: datetime) -> datetime:
    """The next UTC midnight after ``value`` (when the daily rate limit resets)."""
    return midnight(value) + timedelta(days=1)


def as_day(value: datetime | date) -> datetime:
    """A date as Exact stores it: midnight UTC."""
    if isinstance(value, datetime):
        return midnight(value)
    return datetime.combine(value, datetime.min.time(), UTC)


def dotnet_stamp(value: datetime) -> str:
    """``10/11/2022 9:18:20 PM``, as in the refresh-token-expired message."""
    value = value.astimezone(UTC)
    hour = value.hour % 12 or 12
    ampm = "AM" if value.hour < 12 else "PM"
    return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {ampm}"
