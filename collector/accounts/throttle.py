"""Login throttling: failed attempts counted per email typed and per client address,
refused past a limit until the window has passed, whatever password comes next.

The counts live in Redis, so every web process (gunicorn runs several) sees the same
ones. Without Redis (``make run`` with no Redis server, or Redis not answering for a
moment) each process keeps its own counts in memory instead: an attacker then gets the
limit once per process, which is still a limit, and a login never fails because its
counter is away. No Flask here: the views hand in the address and the time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis as redis_lib

log = logging.getLogger(__name__)

# KEYS: the failures (a sorted set of times), the lock. ARGV: now (ms), window (ms), limit,
# a unique member. The N-th failure within the window locks the key for a whole window.
FAIL_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], now + window, 'PX', window)
  redis.call('DEL', KEYS[1])
end
return 0
"""


class Counter(Protocol):
    """Where failures are counted: Redis, or one process's memory."""

    def locked_until(self, key: str) -> int: ...

    def fail(self, key: str, now_ms: int, limit: int, window_ms: int) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryCounter:
    """One process's counts, for when there is no Redis."""

    def __init__(self) -> None:
        self._failures: dict[str, list[int]] = {}
        self._locks: dict[str, int] = {}
        self._mutex = threading.Lock()

    def locked_until(self, key: str) -> int:
        with self._mutex:
            return self._locks.get(key, 0)

    def fail(self, key: str, now_ms: int, limit: int, window_ms: int) -> None:
        with self._mutex:
            times = [t for t in self._failures.get(key, []) if t > now_ms - window_ms]
            times.append(now_ms)
            if len(times) >= limit:
                self._locks[key] = now_ms + window_ms
                times = []
            self._failures[key] = times

    def clear(self, key: str) -> None:
        with self._mutex:
            self._failures.pop(key, None)
            self._locks.pop(key, None)


# The counts of this process when Redis is not there: shared by every request it serves.
PROCESS_COUNTER = MemoryCounter()


class RedisCounter:
    """Counts shared by every process through Redis; this process's memory when Redis
    does not answer (logged: the counts are then per process until it answers again)."""

    def __init__(self, redis: redis_lib.Redis, fallback: MemoryCounter = PROCESS_COUNTER):
        self._redis = redis
        self._fail = redis.register_script(FAIL_LUA)
        self._fallback = fallback

    def locked_until(self, key: str) -> int:
        try:
            return int(self._redis.get(f"{key}:lock") or 0)
        except redis_lib.RedisError as exc:
            log.warning("login throttle read from memory: Redis does not answer (%s)", exc)
            return self._fallback.locked_until(key)

    def fail(self, key: str, now_ms: int, limit: int, window_ms: int) -> None:
        args = [now_ms, window_ms, limit, f"{now_ms}:{uuid.uuid4().hex}"]
        try:
            self._fail(keys=[key, f"{key}:lock"], args=args)
        except redis_lib.RedisError as exc:
            log.warning("login failure counted in memory: Redis does not answer (%s)", exc)
            self._fallback.fail(key, now_ms, limit, window_ms)

    def clear(self, key: str) -> None:
        with contextlib.suppress(redis_lib.RedisError):
            self._redis.delete(key, f"{key}:lock")
        self._fallback.clear(key)


@dataclass(frozen=True)
class LoginThrottle:
    """At most ``account_limit`` failures per email and ``address_limit`` per client
    address within ``window``; the next attempt is refused until a window has passed."""

    counter: Counter
    account_limit: int = 5
    address_limit: int = 20
    window: timedelta = timedelta(minutes=15)

    def wait(self, email: str, address: str | None, now: datetime) -> timedelta | None:
        """How long the attempt must wait (None: it may go ahead)."""
        until = max(self.counter.locked_until(key) for key in self._keys(email, address))
        left = until - _ms(now)
        return timedelta(milliseconds=left) if left > 0 else None

    def failed(self, email: str, address: str | None, now: datetime) -> None:
        """Count one failed attempt against the email and the address."""
        window = int(self.window.total_seconds() * 1000)
        account, *by_address = self._keys(email, address)
        self.counter.fail(account, _ms(now), self.account_limit, window)
        for key in by_address:
            self.counter.fail(key, _ms(now), self.address_limit, window)

    def address_used(self, address: str | None, now: datetime) -> None:
        """Count an attempt against the address only (a "forgot password" request)."""
        window = int(self.window.total_seconds() * 1000)
        for key in self._keys("", address)[1:]:
            self.counter.fail(key, _ms(now), self.address_limit, window)

    def succeeded(self, email: str) -> None:
        """A login went through: the email's failures are forgotten (the address's are
        not: one good account must not wash an address's guesses at others)."""
        self.counter.clear(self._keys(email, None)[0])

    @staticmethod
    def _keys(email: str, address: str | None) -> list[str]:
        # The email hashed: Redis need not hold the addresses people typed.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        keys = [f"login:account:{digest}"]
        if address:
            keys.append(f"login:address:{address}")
        return keys


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)
