"""The Redis sliding-window limiter, against the real Redis (database 15)."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime

import pytest
import redis

from collector.teamleader import RedisRateLimiter, ShareLimiter
from tests.conftest import TEST_REDIS_URL as REDIS_URL

KEY = "collector:tl-rate:account-1"


class FakeClock:
    """Epoch seconds that only move when the limiter sleeps."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingClock:
    """Real time, remembering the last reading: after ``acquire`` returns, that reading is
    the moment the limiter took the slot at (its Redis score), free of the scheduling delay
    a ``time.time()`` taken afterwards would add on a busy machine."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self) -> float:
        self.last = time.time()
        return self.last


def busiest_window(times: list[float], window: float) -> int:
    """The most timestamps that fall within any span shorter than ``window``."""
    times = sorted(times)
    return max(
        sum(1 for later in times[i:] if later - start < window) for i, start in enumerate(times)
    )


def test_for_account_uses_the_shared_key_and_the_safety_margin(tl_redis):
    limiter = RedisRateLimiter.for_account(tl_redis, "account-1")

    assert limiter.key == KEY
    assert limiter.limit == 190  # of Teamleader's 200
    assert limiter.window_ms == 60_000


def test_waits_until_the_oldest_call_leaves_the_window(tl_redis):
    clock = FakeClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=3, window=10, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        assert limiter.acquire() == 0
        clock.now += 1
    clock.now += 1  # 4 s after the first call
    waited = limiter.acquire()

    assert waited == pytest.approx(6.0)  # the first call leaves the window 10 s after it
    assert clock.sleeps == [pytest.approx(6.0)]
    assert tl_redis.zcard(KEY) == 3  # the second, the third and this one


def test_keys_expire(tl_redis):
    limiter = RedisRateLimiter(tl_redis, KEY, limit=3, window=2)

    limiter.acquire()

    assert 0 < tl_redis.pttl(KEY) <= 3000


def test_remaining_zero_pauses_every_process_until_reset(tl_redis):
    clock = FakeClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=100, window=60, clock=clock, sleep=clock.sleep)
    other = RedisRateLimiter(tl_redis, KEY, limit=100, window=60, clock=clock, sleep=clock.sleep)
    reset_at = datetime.fromtimestamp(clock.now + 2.5, tz=UTC)

    limiter.update_from_headers(5, reset_at)  # something left: no pause
    assert other.try_acquire() == 0
    limiter.update_from_headers(0, reset_at)
    waited = other.acquire()

    assert waited == pytest.approx(2.5)
    assert 0 < tl_redis.pttl(limiter.pause_key) <= 2500


def test_a_reset_far_away_is_capped_to_one_window(tl_redis):
    clock = FakeClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=10, window=1, clock=clock, sleep=clock.sleep)

    limiter.update_from_headers(0, datetime.fromtimestamp(clock.now + 3600, tz=UTC))

    # An hour's pause is cut to the window (1 s) plus a second for clock skew.
    assert limiter.paused_for() == pytest.approx(2.0)
    assert limiter.try_acquire() == 2000
    assert tl_redis.zcard(KEY) == 0  # the paused call took no slot
    clock.now += 2
    assert limiter.try_acquire() == 0


@pytest.mark.parametrize(
    ("remaining", "reset_in"),
    [
        (0, None),  # no Reset: nothing to go on
        (None, 1.0),  # no Remaining: nothing says the budget is spent
        (1, 1.0),  # something left
    ],
)
def test_headers_that_do_not_say_the_budget_is_spent_set_no_pause(tl_redis, remaining, reset_in):
    clock = FakeClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=10, window=1, clock=clock, sleep=clock.sleep)
    reset_at = None if reset_in is None else datetime.fromtimestamp(clock.now + reset_in, tz=UTC)

    limiter.update_from_headers(remaining, reset_at)

    assert tl_redis.exists(limiter.pause_key) == 0
    assert limiter.paused_for() == 0
    assert limiter.try_acquire() == 0


def test_each_slot_is_taken_the_moment_the_oldest_call_leaves_the_window(tl_redis):
    clock = FakeClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=5, window=0.3, clock=clock, sleep=clock.sleep)
    slots = []

    for _ in range(12):
        limiter.acquire()
        slots.append(round(clock.now - 1_700_000_000.0, 6))

    # Five at once, five more the moment the first five leave the window, then two: the
    # limiter waits exactly as long as it must, never longer.
    assert slots == [0.0] * 5 + [0.3] * 5 + [0.6] * 2
    assert clock.sleeps == [pytest.approx(0.3), pytest.approx(0.3)]


def test_real_time_never_more_than_the_limit_per_window(tl_redis):
    clock = RecordingClock()
    limiter = RedisRateLimiter(tl_redis, KEY, limit=5, window=0.3, clock=clock)
    times = []

    for _ in range(12):
        limiter.acquire()
        times.append(clock.last)

    # The limiter's own slot times (RecordingClock), not a stopwatch around the loop: how
    # long the loop took depends on how busy the machine is, the slots do not.
    assert busiest_window(times, 0.3 - 0.02) <= 5
    assert max(times) - min(times) >= 0.55  # 12 calls at 5 per 0.3 s need two windows


def _acquire_many(key: str, count: int, results) -> None:
    """Run in a child process: its own connection, its own limiter, the same key."""
    connection = redis.Redis.from_url(REDIS_URL)
    clock = RecordingClock()
    limiter = RedisRateLimiter(connection, key, limit=5, window=0.3, clock=clock)
    stamps = []
    for _ in range(count):
        limiter.acquire()
        stamps.append(clock.last)
    results.put(stamps)
    connection.close()


def test_two_processes_share_one_budget(tl_redis):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_acquire_many, args=(KEY, 8, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    times = results.get(timeout=10) + results.get(timeout=10)
    for worker in workers:
        worker.join(timeout=10)

    assert len(times) == 16
    assert all(worker.exitcode == 0 for worker in workers)
    # The stamps are the limiter's own slot times (RecordingClock); the 20 ms are only
    # a margin for the two processes' clock readings and Redis's millisecond rounding.
    assert busiest_window(times, 0.3 - 0.02) <= 5
    assert max(times) - min(times) >= 0.55  # 16 calls at 5 per 0.3 s need three windows


def test_a_share_takes_only_its_part_and_leaves_the_rest_to_others(tl_redis):
    clock = FakeClock()
    kwargs = {"window": 10, "clock": clock, "sleep": clock.sleep}
    account = RedisRateLimiter(tl_redis, KEY, limit=4, **kwargs)
    pdfs = ShareLimiter(RedisRateLimiter(tl_redis, f"{KEY}:pdf", limit=2, **kwargs), account)

    assert pdfs.acquire() == 0 and pdfs.acquire() == 0
    assert pdfs.share.try_acquire() > 0  # the share is spent…
    assert account.acquire() == 0 and account.acquire() == 0  # …the account is not
    assert account.try_acquire() > 0
    clock.now += 10
    assert pdfs.acquire() == 0  # a new window for both


def test_a_share_waits_for_the_account_too_and_obeys_teamleaders_pause(tl_redis):
    clock = FakeClock()
    kwargs = {"window": 10, "clock": clock, "sleep": clock.sleep}
    account = RedisRateLimiter(tl_redis, KEY, limit=1, **kwargs)
    pdfs = ShareLimiter(RedisRateLimiter(tl_redis, f"{KEY}:pdf", limit=5, **kwargs), account)

    account.acquire()  # an import took the last slot
    assert pdfs.acquire() == pytest.approx(10.0)

    pdfs.update_from_headers(0, datetime.fromtimestamp(clock.now + 3, tz=UTC))
    assert account.try_acquire() > 0  # Teamleader's "nothing left" pauses the whole account
