"""How close do workers sharing one Teamleader budget get to what the limit allows?

Two worker processes make CALLS calls between them against the sandbox, through
the shared Redis limiter. The window is scaled down (Teamleader: 200 per sliding
60 s; here: 200 per WINDOW s) so the run takes seconds, not minutes; the ratio
is what carries over.

    python bench/teamleader_rate.py [--calls 500] [--window 6]
"""

import argparse
import logging
import math
import multiprocessing
import threading
import time

import redis
import requests
from werkzeug.serving import make_server

from collector.teamleader import (
    RedisRateLimiter,
    StaticTokenSource,
    TeamleaderClient,
    TeamleaderOAuth,
    build_session,
)
from sandbox import teamleader as tl_sandbox
from sandbox.teamleader.consent import authorization_code

SERVER_LIMIT = 200
OUR_LIMIT = 190  # collector's default TEAMLEADER_RATE_LIMIT
REDIS_URL = "redis://127.0.0.1:6379/14"


def worker(api_url, token, account_id, window, calls):
    limiter = RedisRateLimiter.for_account(
        redis.Redis.from_url(REDIS_URL), account_id, limit=OUR_LIMIT, window=window
    )
    client = TeamleaderClient(build_session(), api_url, StaticTokenSource(token), limiter=limiter)
    for _ in range(calls):
        client.users_me()
    return sum(client.calls.values())


def token_for(base_url):
    """An access token, got by pressing "Grant access" on the sandbox's OAuth page."""
    oauth = TeamleaderOAuth(
        build_session(), base_url, "collector-sandbox", "sandbox-secret", "http://localhost/cb"
    )
    return oauth.exchange_code(authorization_code(oauth.authorize_url("bench"))).access_token


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--window", type=float, default=6.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = tl_sandbox.create_app(
        {"RATE_LIMIT": SERVER_LIMIT, "RATE_WINDOW_SECONDS": args.window, "INVOICE_COUNT": 5}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    token = token_for(base)
    account = requests.post(
        f"{base}/users.me", headers={"Authorization": f"Bearer {token}"}, json={}, timeout=10
    ).json()["data"]["account"]["id"]
    requests.delete(f"{base}/_control/calls", timeout=10)

    per_worker = args.calls // 2
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        sent = pool.starmap(worker, [(base, token, account, args.window, per_worker)] * 2)
    elapsed = time.monotonic() - started
    counters = requests.get(f"{base}/_control/calls", timeout=10).json()["data"]
    server.shutdown()

    # With a sliding window, N calls need at least ceil(N / limit) - 1 full windows.
    floor_ours = (math.ceil(args.calls / OUR_LIMIT) - 1) * args.window
    floor_server = (math.ceil(args.calls / SERVER_LIMIT) - 1) * args.window
    print(
        f"calls: {sum(sent)} sent by 2 processes, 429s from the sandbox: "
        f"{counters.get('rate_limited', 0)}"
    )
    limits = f"window {args.window:g} s, limit {SERVER_LIMIT}, ours {OUR_LIMIT}"
    print(f"elapsed: {elapsed:.2f} s ({limits})")
    print(f"fastest the server allows: {floor_server:.2f} s -> ratio {elapsed / floor_server:.3f}")
    print(f"fastest our margin allows: {floor_ours:.2f} s -> ratio {elapsed / floor_ours:.3f}")
    scaled = elapsed * 60 / args.window
    print(f"scaled to Teamleader's 60 s window: {scaled:.0f} s for {args.calls} calls")


if __name__ == "__main__":
    main()
