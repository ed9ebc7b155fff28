"""A rate limiter shared by every process that calls Teamleader for one account.

Teamleader allows 200 calls per sliding minute per integration per account (reference §4) and
answers 429 beyond that. Several rq workers import for the same account at once, so the budget
lives in Redis: the sliding-window limiter of ``collector.core.ratelimit``, keyed per account. We
spend a little less than 200 — a worker may have sent a call it has not counted yet, and our
clock is not Teamleader's — and, when a response says ``X-RateLimit-Remaining: 0``, every
process pauses until ``X-RateLimit-Reset``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import redis as redis_lib

from collector.core import ratelimit as shared

KEY_PREFIX = "collector:tl-rate:"
TEAMLEADER_LIMIT = 200  # calls per sliding minute (it was 100 before 2023-03)
SAFETY_MARGIN = 10
DEFAULT_LIMIT = TEAMLEADER_LIMIT - SAFETY_MARGIN
DEFAULT_WINDOW = 60.0
# The budget's name in ``RateLimited``: "Waiting for Teamleader's rate limit until …".
WHAT = "Teamleader's rate limit"


class RateLimiter(Protocol):
    """What ``TeamleaderClient`` needs from a limiter."""

    def acquire(self) -> float:
        """Block until a call may be sent; return the seconds waited. Within ``patience``,
        raise ``collector.core.ratelimit.RateLimited`` rather than wait longer."""
        ...

    def update_from_headers(self, remaining: int | None, reset_at: datetime | None) -> None:
        """Take note of Teamleader's ``X-RateLimit-Remaining``/``Reset`` on a response."""
        ...


class RedisRateLimiter(shared.RedisRateLimiter):
    """The shared sliding-window limiter (``collector.core.ratelimit``) with Teamleader's budget as
    its defaults; one ``key`` per Teamleader account."""

    what = WHAT

    def __init__(
        self,
        redis: redis_lib.Redis,
        key: str,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        **kwargs: Any,
    ) -> None:
        super().__init__(redis, key, limit, window, **kwargs)

    @classmethod
    def for_account(cls, redis: redis_lib.Redis, account_id: str, **kwargs) -> RedisRateLimiter:
        """The limiter of one Teamleader account (key ``collector:tl-rate:<account_id>``)."""
        return cls(redis, f"{KEY_PREFIX}{account_id}", **kwargs)


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
