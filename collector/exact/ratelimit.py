"""Pacing of Exact Online calls, shared by every process through Redis, per division.

Exact allows 60 calls per minute and 5 000 per day per app and division (reference §3) and
answers 429 beyond either. Several rq workers call the same division, so both budgets are
sliding windows in Redis (``collector.core.ratelimit``) under ``collector:exact-rate:<division>…``,
spent with a small safety margin below Exact's limits: a worker may have sent a call it has
not counted yet, and our clock is not Exact's. Exact's own count wins when it knows better:
its ``X-RateLimit-*`` headers (resets in epoch milliseconds) pause every process until the
minutely reset when Minutely-Remaining reaches 0, and so does a 429 — which can come while
Remaining was still above 0, because the budget is shared with whatever else uses the app
(§11.18).

The daily budget is never slept on: its reset is hours away (midnight), and a page waiting
for it would hang, a job would hold its worker until its timeout. When Exact says the day is
spent (``X-RateLimit-Remaining: 0``, on a 200 as on a 429), or our own count of the day is,
every process fails fast with ``DailyLimitReached`` until the reset: a job is started again
then, a page says when that is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

import redis as redis_lib

from collector.core.ratelimit import RedisRateLimiter
from collector.exact.errors import DAILY_WHAT, DailyLimitReached, parse_epoch_ms

KEY_PREFIX = "collector:exact-rate:"
EXACT_MINUTE_LIMIT = 60
EXACT_MINUTE_WINDOW = 60.0
EXACT_DAILY_LIMIT = 5000
# What we spend by default: a little below Exact's limits (config passes its own budget).
# One call a minute is margin enough: our window slides, so no 60 s on our clock holds more
# than 59 calls whatever minute Exact counts in, and only a call's travel time (milliseconds
# against a second between calls) can move one into the next minute's count. Any less
# margin and Exact's own headers pause us (above); any more is throughput thrown away
# (DESIGN: at least 97 % of Exact's ceiling; 57 allowed at most 95 %).
DEFAULT_MINUTE_LIMIT = EXACT_MINUTE_LIMIT - 1
DEFAULT_DAILY_LIMIT = EXACT_DAILY_LIMIT - 100
# Exact's day resets at midnight; a sliding 24 h window is stricter, never looser.
DAY_WINDOW = 24 * 3600.0
# Exact's day reset is at most a day away (plus clock skew); anything further is junk.
DAY_CAP_MS = int(DAY_WINDOW * 1000) + 60_000
# The budgets' names in ``RateLimited``: "Waiting for Exact Online's rate limit until …".
WHAT = "Exact Online's rate limit"


class Pacer(Protocol):
    """What ``ExactClient`` needs from a limiter."""

    minute_window: float

    def acquire(self) -> float:
        """Block until a call may be sent; return the seconds waited. Within ``patience``,
        raise ``collector.core.ratelimit.RateLimited`` rather than wait longer."""
        ...

    def update_from_headers(self, headers: Mapping[str, str]) -> None:
        """Take note of the ``X-RateLimit-*`` headers of a response."""
        ...

    def rate_limited(self, headers: Mapping[str, str]) -> None:
        """A call got 429: hold every process until the budget resets."""
        ...


class ExactRateLimiter:
    """The minutely and daily budgets of one division, and a pause both obey.

    Build it with ``for_division``; ``clock`` (epoch seconds) and ``sleep`` are injectable.
    """

    def __init__(
        self,
        minute: RedisRateLimiter,
        day: RedisRateLimiter,
        *,
        minute_window: float,
    ) -> None:
        self.minute = minute
        self.day = day
        self.minute_window = minute_window

    @classmethod
    def for_division(
        cls,
        redis: redis_lib.Redis,
        division: int | str,
        minute_limit: int = DEFAULT_MINUTE_LIMIT,
        minute_window: float = EXACT_MINUTE_WINDOW,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ExactRateLimiter:
        """The pacer of one division. The limits are what we allow ourselves — keep them a
        little below Exact's (60/minute, 5 000/day, or what the app was granted), as the
        defaults do. ``minute_window`` is the length of Exact's minute in seconds (tests and
        the sandbox shrink it)."""
        prefix = f"{KEY_PREFIX}{division}"
        timing = {"clock": clock, "sleep": sleep}
        minute = RedisRateLimiter(
            redis,
            f"{prefix}:minute",
            minute_limit,
            minute_window,
            pause_key=f"{prefix}:pause",
            what=WHAT,
            **timing,
        )
        # The day's own pause: until Exact's daily reset, and never slept on (``acquire``).
        day = RedisRateLimiter(
            redis,
            f"{prefix}:day",
            daily_limit,
            DAY_WINDOW,
            pause_key=f"{prefix}:daily",
            what=DAILY_WHAT,
            **timing,
        )
        return cls(minute, day, minute_window=minute_window)

    def __repr__(self) -> str:
        return f"ExactRateLimiter({self.minute!r}, {self.day!r})"

    @property
    def pause_key(self) -> str:
        """The Redis key holding the epoch ms every process waits for (the minutely pause)."""
        return self.minute.pause_key

    def acquire(self) -> float:
        """Block until the minute allows one call (and no pause holds); return seconds waited.

        Raises ``DailyLimitReached`` at once, without sleeping, while the day is spent.
        """
        self._check_day()
        waited = self.minute.acquire()
        wait_ms = self.day.try_acquire()
        if wait_ms:
            # Our own count of the day is spent (or Exact's pause began meanwhile).
            raise DailyLimitReached(self._at(self.day.now_ms() + wait_ms), status=None)
        return waited

    def paused_for(self) -> float:
        """Seconds left of the current minutely pause (0 when not paused)."""
        return self.minute.paused_for()

    def daily_reset(self) -> datetime | None:
        """When the spent daily budget resets (None while it is not spent)."""
        try:
            until_ms = self.day.paused_until_ms()
        except redis_lib.RedisError:
            return None  # Exact's own 429 is the backstop, as for the minute
        # The stored instant itself: "now + what is left" reads the clock twice.
        return self._at(until_ms) if until_ms is not None else None

    def _check_day(self) -> None:
        reset = self.daily_reset()
        if reset is not None:
            raise DailyLimitReached(reset, status=None)

    @staticmethod
    def _at(epoch_ms: int) -> datetime:
        return datetime.fromtimestamp(epoch_ms / 1000, UTC)

    def update_from_headers(self, headers: Mapping[str, str]) -> None:
        """Pause everyone until the reset when Exact says a budget is spent (the day: until
        its reset, every call fails fast)."""
        if _int(headers.get("X-RateLimit-Minutely-Remaining")) == 0:
            self._pause_until(headers.get("X-RateLimit-Minutely-Reset"), self._minute_cap_ms())
        if _int(headers.get("X-RateLimit-Remaining")) == 0:
            self._pause_until(headers.get("X-RateLimit-Reset"), DAY_CAP_MS, self.day)

    def rate_limited(self, headers: Mapping[str, str]) -> None:
        """After a 429 every process waits: until the reset Exact names, else one minute.

        On a minutely 429 Exact sends only the minutely headers, sometimes none (§3), and a
        429 can come while Remaining was above 0 — so a 429 pauses even then.
        """
        self.update_from_headers(headers)
        if _int(headers.get("X-RateLimit-Remaining")) == 0:
            return  # the daily pause is set and is the longer one
        reset = headers.get("X-RateLimit-Minutely-Reset")
        if not self._pause_until(reset, self._minute_cap_ms()):
            self.minute.pause_until_ms(self.minute.now_ms() + int(self.minute_window * 1000))

    def _pause_until(
        self, reset: str | None, cap_ms: int, limiter: RedisRateLimiter | None = None
    ) -> bool:
        """Pause ``limiter``'s pause (the minute's) until ``reset`` (epoch ms), capped
        ``cap_ms`` from now; False if no usable reset (missing, junk or already past)."""
        reset_at = parse_epoch_ms(reset)
        if reset_at is None:
            return False
        now_ms = self.minute.now_ms()
        until_ms = min(int(reset_at.timestamp() * 1000), now_ms + cap_ms)
        if until_ms <= now_ms:
            return False
        (limiter or self.minute).pause_until_ms(until_ms)
        return True

    def _minute_cap_ms(self) -> int:
        # No honest minutely reset is more than one window (plus skew) away.
        return int(self.minute_window * 1000) + 1000


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
