"""Exact's rate limits per division: a fixed minutely window and a daily counter.

Reference §3: MINUTE_LIMIT calls per MINUTE_WINDOW and DAILY_LIMIT calls per UTC day per
app per division; six ``X-RateLimit-*`` headers on every answer, resets in epoch
**milliseconds**. Over the limit → 429 with only the minutely headers (minute exhausted)
or only the daily ones (day exhausted). Both windows run on the emulator clock; refused
calls are not counted.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .clock import epoch_ms, next_midnight


@dataclass
class Verdict:
    """The outcome of one counted call and the headers to send with it."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Bucket:
    minute: int = -1
    minute_calls: int = 0
    day: str = ""
    day_calls: int = 0


class RateLimiter:
    """Counters per (client id, division); limits can change at run time (control API)."""

    def __init__(self, minute_limit: int, minute_window: float, daily_limit: int) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[object, _Bucket] = {}
        self.configure(minute_limit, minute_window, daily_limit)

    def configure(self, minute_limit: int, minute_window: float, daily_limit: int) -> None:
        """Change the limits (counters are kept)."""
        with self._lock:
            self.minute_limit, self.minute_window = int(minute_limit), float(minute_window)
            self.daily_limit = int(daily_limit)

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._buckets.clear()

    def hit(self, bucket: object, now: float) -> Verdict:
        """Count one call at ``now`` (epoch seconds, emulator clock)."""
        with self._lock:
            b = self._buckets.setdefault(bucket, _Bucket())
            minute = math.floor(now / self.minute_window)
            day = datetime.fromtimestamp(now, UTC).date().isoformat()
            if b.minute != minute:
                b.minute, b.minute_calls = minute, 0
            if b.day != day:
                b.day, b.day_calls = day, 0
            minute_reset = int(round((minute + 1) * self.minute_window * 1000))
            day_reset = epoch_ms(next_midnight(datetime.fromtimestamp(now, UTC)))
            if b.day_calls >= self.daily_limit:
                return Verdict(False, self._daily(0, day_reset))
            if b.minute_calls >= self.minute_limit:
                return Verdict(False, self._minutely(0, minute_reset))
            b.minute_calls += 1
            b.day_calls += 1
            headers = self._daily(self.daily_limit - b.day_calls, day_reset)
            headers.update(self._minutely(self.minute_limit - b.minute_calls, minute_reset))
            return Verdict(True, headers)

    def _daily(self, remaining: int, reset_ms: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset_ms),
        }

    def _minutely(self, remaining: int, reset_ms: int) -> dict[str, str]:
        return {
            "X-RateLimit-Minutely-Limit": str(self.minute_limit),
            "X-RateLimit-Minutely-Remaining": str(remaining),
            "X-RateLimit-Minutely-Reset": str(reset_ms),
        }
