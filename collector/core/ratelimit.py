"""A sliding-window rate limiter shared by every process through Redis.

Upstream APIs count calls per account (Teamleader) or per administration (Exact Online), and
several rq workers call them at once, so the budget lives in Redis: a sorted set of call
timestamps per key, trimmed and checked atomically by a Lua script. A pause key, set when the
upstream's own headers say nothing is left (or after a 429), holds every process back until the
upstream's reset time. Limiters of one upstream budget may share a pause key.

Inside a job (``patience``), a wait longer than the patience is not slept: ``RateLimited`` is
raised, and the job gives its worker back until the budget allows a call again.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import redis as redis_lib

from collector.core.errors import TryLater

log = logging.getLogger(__name__)

# KEYS: the timestamps set, the pause key. ARGV: now (ms), window (ms), limit, a unique member.
# Returns 0 when a slot was taken, else the ms to wait before asking again.
ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused_until > now then
  return paused_until - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""

# KEYS: the pause key. ARGV: now (ms), pause until (ms). Only ever extends a pause: a response
# that was in flight while another process paused everyone must not cut that pause short.
PAUSE_LUA = """
local now = tonumber(ARGV[1])
local until_ms = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current and until_ms > now then
  redis.call('SET', KEYS[1], until_ms, 'PX', until_ms - now)
  return 1
end
return 0
"""


class RateLimited(TryLater):
    """The upstream's budget is spent for longer than the caller is willing to wait.

    Raised instead of sleeping when a limit set by ``patience`` would be exceeded: a job
    gives its worker back and is started again at ``retry_at`` (epoch seconds), so one
    account's spent budget never holds the workers other work needs.
    """

    def __init__(self, what: str, retry_at: float) -> None:
        until = datetime.fromtimestamp(retry_at, UTC)
        super().__init__(what, retry_at, f"{what} allows no call before {until:%H:%M:%S} UTC")


# The longest a limiter may sleep for a slot before raising ``RateLimited`` instead; None:
# as long as it takes (the CLI, a web request). Jobs set it (``runtime.queue.tracked``).
_patience: contextvars.ContextVar[float | None] = contextvars.ContextVar("patience", default=None)


@contextlib.contextmanager
def patience(seconds: float | None) -> Iterator[None]:
    """Within the block, a limiter that would sleep longer than ``seconds`` raises
    ``RateLimited`` instead."""
    token = _patience.set(seconds)
    try:
        yield
    finally:
        _patience.reset(token)


def current_patience() -> float | None:
    return _patience.get()


def exceeds_patience(seconds: float) -> bool:
    """Whether waiting ``seconds`` is more than the current patience allows (never, outside
    ``patience``)."""
    limit = _patience.get()
    return limit is not None and seconds > limit


class RedisRateLimiter:
    """Sliding-window limiter over Redis: at most ``limit`` calls per ``window`` seconds on
    ``key``, shared by every process that builds a limiter with the same key.

    ``clock`` returns epoch seconds (hosts are NTP-synced; callers keep a safety margin below
    the upstream's limit to absorb small skew between workers), ``sleep`` waits — both
    injectable for tests. ``what`` names the budget in ``RateLimited`` ("Teamleader's rate
    limit"); a subclass may set it as a class attribute instead.
    """

    what = "the rate limit"

    def __init__(
        self,
        redis: redis_lib.Redis,
        key: str,
        limit: int,
        window: float,
        *,
        pause_key: str | None = None,
        what: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        if what is not None:
            self.what = what
        self.key = key
        self.pause_key = pause_key or f"{key}:pause"
        self.limit = limit
        self.window_ms = int(window * 1000)
        self._redis = redis
        self._script = redis.register_script(ACQUIRE_LUA)
        self._pause_script = redis.register_script(PAUSE_LUA)
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.key!r}, limit={self.limit}, window_ms={self.window_ms})"

    def acquire(self) -> float:
        """Block until this process may send one call; return the seconds waited.

        Raises ``RateLimited`` instead of sleeping when the wait, with what was waited
        already, would be longer than the current ``patience``.
        """
        waited = 0.0
        while True:
            wait_ms = self.try_acquire()
            if wait_ms == 0:
                return waited
            wait = wait_ms / 1000
            if exceeds_patience(waited + wait):
                raise RateLimited(self.what, self._clock() + wait)
            self._sleep(wait)
            waited += wait

    def try_acquire(self) -> int:
        """Take a slot if one is free and return 0; else return the ms until one may be.

        When Redis does not answer, the call may go: the upstream's own 429 is the
        backstop, and a page or a webhook must not fail because the budget's counter is
        away (the calls it lets through are not counted).
        """
        now_ms = self.now_ms()
        args = [now_ms, self.window_ms, self.limit, f"{now_ms}:{uuid.uuid4().hex}"]
        try:
            return int(self._script(keys=[self.key, self.pause_key], args=args))
        except redis_lib.RedisError as exc:
            log.warning("rate limit %s not counted: Redis does not answer (%s)", self.key, exc)
            return 0

    def pause_until_ms(self, until_ms: int) -> bool:
        """Hold every process sharing the pause key until ``until_ms`` (epoch ms).

        A pause is only ever extended; returns whether this call extended it (not when
        Redis does not answer: the upstream's 429s then pace us).
        """
        try:
            return bool(self._pause_script(keys=[self.pause_key], args=[self.now_ms(), until_ms]))
        except redis_lib.RedisError as exc:
            log.warning("rate limit %s not paused: Redis does not answer (%s)", self.key, exc)
            return False

    def paused_until_ms(self) -> int | None:
        """The epoch ms the current pause ends at (None when not paused)."""
        paused_until = int(self._redis.get(self.pause_key) or 0)
        return paused_until if paused_until > self.now_ms() else None

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        paused_until = int(self._redis.get(self.pause_key) or 0)
        return max(0, paused_until - self.now_ms()) / 1000

    def update_from_headers(self, remaining: int | None, reset_at: datetime | None) -> None:
        """If the upstream says nothing is left, pause every process until its reset time.

        This catches what our own count cannot see: calls from a worker that started with an
        empty count, and the difference between our window and the upstream's.
        """
        if remaining is None or remaining > 0 or reset_at is None:
            return
        now_ms = self.now_ms()
        # No honest reset is more than one window away; cap it so a bad header cannot stall us.
        until_ms = min(int(reset_at.timestamp() * 1000), now_ms + self.window_ms + 1000)
        self.pause_until_ms(until_ms)

    def now_ms(self) -> int:
        """The limiter's clock in epoch milliseconds."""
        return int(self._clock() * 1000)
