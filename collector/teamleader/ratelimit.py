"""A rate limiter shared by every process that calls Teamleader for one account.

Teamleader allows 200 calls per sliding minute per integration per account (reference §4) and
answers 429 beyond that. Several rq workers import for the same account at once, so the budget
lives in Redis: a sorted set of call timestamps per account, trimmed and checked atomically by a
Lua script. We spend a little less than 200 — a worker may have sent a call it has not counted
yet, and our clock is not Teamleader's — and, when a response says ``X-RateLimit-Remaining: 0``,
every process pauses until ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import redis as redis_lib

KEY_PREFIX = "collector:tl-rate:"
TEAMLEADER_LIMIT = 200  # calls per sliding minute (it was 100 before 2023-03)
SAFETY_MARGIN = 10
DEFAULT_LIMIT = TEAMLEADER_LIMIT - SAFETY_MARGIN
DEFAULT_WINDOW = 60.0

# KEYS: the timestamps set, the pause key. ARGV: now (ms), window (ms), limit, a unique member.
# Returns 0 when a slot was taken, else the ms to wait before asking again.
_ACQUIRE_LUA = """
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


class RateLimiter(Protocol):
    """What ``TeamleaderClient`` needs from a limiter."""

    def acquire(self) -> float:
        """Block until a call may be sent; return the seconds waited."""
        ...

    def update_from_headers(self, remaining: int | None, reset_at: datetime | None) -> None:
        """Take note of Teamleader's ``X-RateLimit-Remaining``/``Reset`` on a response."""
        ...


class RedisRateLimiter:
    """Sliding-window limiter over Redis; one ``key`` per Teamleader account.

    ``clock`` returns epoch seconds (hosts are NTP-synced; the safety margin absorbs small
    skew between workers), ``sleep`` waits — both injectable for tests.
    """

    def __init__(
        self,
        redis: redis_lib.Redis,
        key: str,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.key = key
        self.pause_key = f"{key}:pause"
        self.limit = limit
        self.window_ms = int(window * 1000)
        self._redis = redis
        self._script = redis.register_script(_ACQUIRE_LUA)
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def for_account(cls, redis: redis_lib.Redis, account_id: str, **kwargs) -> RedisRateLimiter:
        """The limiter of one Teamleader account (key ``collector:tl-rate:<account_id>``)."""
        return cls(redis, f"{KEY_PREFIX}{account_id}", **kwargs)

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self.key!r}, limit={self.limit}, window_ms={self.window_ms})"

    def acquire(self) -> float:
        """Block until this process may send one call; return the seconds waited."""
        waited = 0.0
        while True:
            wait_ms = self.try_acquire()
            if wait_ms == 0:
                return waited
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    def try_acquire(self) -> int:
        """Take a slot if one is free and return 0; else return the ms until one may be."""
        now_ms = self._now_ms()
        args = [now_ms, self.window_ms, self.limit, f"{now_ms}:{uuid.uuid4().hex}"]
        return int(self._script(keys=[self.key, self.pause_key], args=args))

    def update_from_headers(self, remaining: int | None, reset_at: datetime | None) -> None:
        """If Teamleader says nothing is left, pause every process until its Reset time.

        This catches what our own count cannot see: calls from a worker that started with an
        empty count, and the difference between our window and Teamleader's.
        """
        if remaining is None or remaining > 0 or reset_at is None:
            return
        now_ms = self._now_ms()
        # No honest Reset is more than one window away; cap it so a bad header cannot stall us.
        until_ms = min(int(reset_at.timestamp() * 1000), now_ms + self.window_ms + 1000)
        if until_ms > now_ms:
            self._redis.set(self.pause_key, until_ms, px=until_ms - now_ms)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


class ShareLimiter:
    """A part of the account's budget for one kind of background work.

    A call waits first for a slot of the share (its own, smaller window counter), then for
    a slot of the whole account, so work that uses a share can never take the budget that
    imports and webhooks need; Teamleader's headers still pause everyone.
    """

    def __init__(self, share: RateLimiter, account: RateLimiter) -> None:
        self.share = share
        self.account = account

    def acquire(self) -> float:
        """Block until both the share and the account allow one call; return seconds waited."""
        return self.share.acquire() + self.account.acquire()

    def update_from_headers(self, remaining: int | None, reset_at: datetime | None) -> None:
        """Teamleader's own count is the account's, not the share's."""
        self.account.update_from_headers(remaining, reset_at)
