"""The real ``ExactClient`` against the Exact sandbox app, in process: ``responses`` hands
every request for SANDBOX_HOST to the emulator's test client (any other call fails)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import responses

from collector.exact import ExactClient, ExactRateLimiter, StaticTokenSource, build_session
from tests.sandbox.exact_support import DIVISION, logged_in

SANDBOX_ROOT = "https://sandbox.exact.test"
SANDBOX_HOST = f"{SANDBOX_ROOT}/be"
__all__ = ["DIVISION", "SANDBOX_HOST", "routed_client"]


def routed_client(mock: responses.RequestsMock, division=DIVISION, redis=None, **options):
    """A client of a fresh, logged-in sandbox (``options`` configure the sandbox) and the
    sandbox's caller, for its control and clock. With ``redis``, the client is paced by the
    division's shared pacer; client and pacer tell time by the sandbox's clock."""
    caller = logged_in(**options)
    clock = caller.emulator.clock

    def forward(request):
        parts = urlsplit(request.url)
        answer = caller.client.open(
            parts.path,
            method=request.method,
            query_string=parts.query,
            headers=dict(request.headers),
            data=request.body,
        )
        return answer.status_code, dict(answer.headers), answer.get_data()

    pattern = re.compile(re.escape(SANDBOX_ROOT) + r"/.*")
    for method in ("GET", "POST", "PUT", "DELETE"):
        mock.add_callback(method, pattern, callback=forward)
    token = StaticTokenSource(caller.tokens["access_token"])
    limiter = None
    if redis is not None:
        # A wait moves the sandbox's clock: nothing really sleeps, and what it waited shows.
        limiter = ExactRateLimiter.for_division(
            redis, division, clock=clock.timestamp, sleep=lambda s: clock.advance(s)
        )
    client = ExactClient(
        build_session(),
        SANDBOX_HOST,
        token,
        division,
        limiter=limiter,
        max_retries=0,
        clock=clock.now,
    )
    return client, caller
