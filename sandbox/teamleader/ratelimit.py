"""Sliding-window rate limiter with Teamleader's ``X-RateLimit-*`` headers.

Reference §4: 200 requests per sliding minute per integration (client id) per account;
over it, 429. Every response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``
(can go up as old requests age out) and ``X-RateLimit-Reset``, a *timestamp* of when the
oldest counted request leaves the window. The window runs on real monotonic time, not on
the emulator clock: moving the clock must not refill anyone's budget, and clients compare
the Reset header with their own wall clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .clock import rate_limit_stamp


@dataclass(frozen=True)
class Verdict:
    """The outcome of one counted request."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: datetime

    def headers(self) -> dict[str, str]:
        """The three documented headers."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": rate_limit_stamp(self.reset_at),
        }


class RateLimiter:
    """Count requests per bucket (``(client_id, account_id)``) in a sliding window."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._lock = threading.Lock()
        self._hits: dict[object, deque[float]] = {}

    def hit(self, bucket: object) -> Verdict:
        """Count one request; refused requests are not counted."""
        with self._lock:
            now = time.monotonic()
            hits = self._prune(bucket, now)
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            return self._verdict(allowed, hits, now)

    def peek(self, bucket: object) -> Verdict:
        """The headers as they stand, without counting (for injected faults)."""
        with self._lock:
            now = time.monotonic()
            return self._verdict(True, self._prune(bucket, now), now)

    def reset(self) -> None:
        """Forget every counted request."""
        with self._lock:
            self._hits.clear()

    def _prune(self, bucket: object, now: float) -> deque[float]:
        hits = self._hits.setdefault(bucket, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def _verdict(self, allowed: bool, hits: deque[float], now: float) -> Verdict:
        oldest = hits[0] if hits else now
        wall = datetime.now(UTC) + timedelta(seconds=oldest + self.window - now)
        remaining = max(self.limit - len(hits), 0)
        return Verdict(allowed, self.limit, remaining, wall)
