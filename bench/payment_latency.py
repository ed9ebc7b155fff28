"""How long does a payment take to reach Teamleader?

Peer integrations write a payment back to Teamleader within one to two hours; collector
says seconds. This measures it end to end, on a real rq worker with the real doorbell:

  1. the combined sandbox (Teamleader + payment provider), a scratch database, Redis db 8;
     Teamleader connected through the sandbox's OAuth, strict mode confirmed, a payment
     method, a default profile that allows paying online; the open invoices imported;
  2. the app served on a free port (PUBLIC_BASE_URL), and --workers rq workers
     (``worker.py``) started with the app's settings;
  3. per payment: "Pay online" on the invoice's payment page (the app creates the
     payment at the provider), then, at t0, the provider is told the payment is paid:
     it calls our webhook, the worker fetches the payment and records it, the commit
     rings the doorbell, ``push_teamleader`` registers it — t1 is when the Teamleader
     sandbox received ``invoices.registerPayment`` (it logs each with its arrival time).

Scenarios, each on invoices of its own:

  paced    one payment every --interval seconds (0.5): latency, not a queue made on
           purpose. A payment costs one job (``handle_provider_webhook`` records it and
           registers it in Teamleader, one call; Teamleader's echo of it is recorded by
           the web process without a job).
  burst    all --payments marked paid at once (BURST_THREADS calls in flight): how long
           the queue takes to drain. The stored webhook calls are drained a batch at a
           time, so a burst costs a few jobs, not one per payment.

Rate limits are raised out of the way (RATE_LIMIT calls per minute, sandbox and ours):
the figure is our path, not Teamleader's budget. Calls per payment are printed, and
what Teamleader's 200 per minute allows at that many.

    python bench/payment_latency.py [--payments 200] [--runs 3] [--scenarios paced,burst-2]
                                    [--import-size 5000] [--timeout 180] [--quick]
                                    [--server postgresql://postgres@127.0.0.1:5432]
                                    [--database NAME] [--redis URL]

Scenarios (``SCENARIOS``): paced, paced-import, paced-250, paced-single, burst-2,
burst-1-import, burst-2-import, burst-4-import; each runs on a world of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import psycopg
import requests
from cpu import Meter, backends, children
from import_throughput import DATABASE, scratch_database
from latency_report import Result, Sent, read_jobs, report
from payment_world import (
    POLL_SECONDS,
    RATE_LIMIT,
    REDIS_URL,
    WORLD_INVOICES,
    Target,
    collector_config,
    prepare,
    start_checkouts,
    start_import,
    wait_for_import,
)
from services import SERVED, dispose, scratch_redis, serving, settle, workers

import sandbox
from collector import create_app
from collector.core.columns import utcnow
from collector.extensions import db

BURST_THREADS = 16
QUICK_PAYMENTS = 20


@dataclass(frozen=True)
class Scenario:
    """One way of paying, on a world of its own: so many ``worker.py``, paced or at once,
    with or without an import of --import-size documents running on the same workers."""

    key: str
    title: str
    workers: int
    interval: float | None  # seconds between payments; None: all at once
    with_import: bool = False
    lanes: str = "lanes"  # WORKER_LANES


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("paced", "paced 500 ms, 1 worker", 1, 0.5),
        Scenario("paced-import", "paced 500 ms, 1 worker, import running", 1, 0.5, True),
        Scenario("paced-250", "paced 250 ms, 1 worker", 1, 0.25),
        Scenario("paced-single", "paced 500 ms, 1 single forking worker", 1, 0.5, lanes="single"),
        Scenario("burst-2", "burst, 2 workers", 2, None),
        Scenario("burst-1-import", "burst, 1 worker, import running", 1, None, True),
        Scenario("burst-2-import", "burst, 2 workers, import running", 2, None, True),
        Scenario("burst-4-import", "burst, 4 workers, import running", 4, None, True),
    )
}


def mark_paid(provider_url: str, target: Target, provider_id: str) -> Sent:
    """The customer pays: the provider marks the payment paid and calls our webhook."""
    t0 = time.time()
    answer = requests.post(
        f"{provider_url}/_control/payments/{provider_id}/status",
        json={"status": "paid"},
        timeout=60,
    )
    answered = time.time()
    answer.raise_for_status()
    webhook = answer.json()["data"]["webhook"] or {}
    return Sent(target, provider_id, t0, answered, webhook.get("status"))


def send_paced(provider_url: str, pairs, interval: float, beside=None) -> list[Sent]:
    """One payment every ``interval`` s; beside an import, only while it runs."""
    start = time.time()
    sent = []
    for i, (target, provider_id) in enumerate(pairs):
        time.sleep(max(0.0, start + i * interval - time.time()))
        if beside is not None and beside.finished is not None:
            break
        sent.append(mark_paid(provider_url, target, provider_id))
    return sent


def send_burst(provider_url: str, pairs) -> list[Sent]:
    with ThreadPoolExecutor(BURST_THREADS) as pool:
        return list(pool.map(lambda pair: mark_paid(provider_url, *pair), pairs))


def wait_for_arrivals(sandbox_url: str, sent: list[Sent], timeout: float) -> None:
    """Fill in ``received`` from the sandbox's registerPayment log. Arrival times are the
    sandbox's; polling only decides when to stop."""
    deadline = time.monotonic() + timeout
    wanted = {s.target.teamleader_id: s for s in sent}
    while True:
        rows = get_data(f"{sandbox_url}/teamleader/_control/registrations")
        for row in rows:
            payment = wanted.get(row["invoice_id"])
            if payment is not None and payment.received is None:
                payment.received = row["received_at"]
        if all(s.received for s in sent) or time.monotonic() > deadline:
            return
        time.sleep(POLL_SECONDS)


def run_scenario(scenario: Scenario, env: dict, targets: list[Target], args) -> Result:
    """Pay ``targets`` (paced or at once) and time each to Teamleader."""
    app, sandbox_url, connection = env["app"], env["sandbox_url"], env["redis"]
    settle(connection)
    for path in ("teamleader/_control/calls", "teamleader/_control/registrations"):
        requests.delete(f"{sandbox_url}/{path}", timeout=10)
    requests.delete(f"{sandbox_url}/provider/_control/calls", timeout=10)
    pairs = list(zip(targets, start_checkouts(app, env["app_url"], targets), strict=True))
    started = utcnow()
    meter = Meter()
    meter.begin(process_roles(env))
    beside = start_import(app, args.import_size) if scenario.with_import else None
    provider_url = f"{sandbox_url}/provider"
    if scenario.interval is not None:
        sent = send_paced(provider_url, pairs, scenario.interval, beside)
    else:
        sent = send_burst(provider_url, pairs)
    wait_for_arrivals(sandbox_url, sent, args.timeout)
    if beside is not None:
        wait_for_import(beside, args.timeout)
    settle(connection)  # a late second registerPayment would show in the counts
    cpu = meter.end(process_roles(env))
    registrations = get_data(f"{sandbox_url}/teamleader/_control/registrations")
    result = Result(
        scenario=scenario.title,
        sent=sent,
        calls=Counter(get_data(f"{sandbox_url}/teamleader/_control/calls")),
        provider_calls=Counter(get_data(f"{sandbox_url}/provider/_control/calls")),
        registrations=Counter(row["invoice_id"] for row in registrations),
        stages={},
    )
    result.beside = beside
    result.cpu = cpu
    with app.app_context():
        read_jobs(result, started)
        db.session.remove()
    return result


def process_roles(env: dict) -> dict[str, list[int]]:
    """The processes of a scenario by role: each ``worker.py`` with its payment lane (rq's
    work horses count in their worker once reaped), our web server, the sandbox, the
    scratch database's PostgreSQL backends, and this process (it sends the webhooks)."""
    workers = [pid for pid in children(os.getpid()) if _is_worker(pid)]
    roles = {
        "workers": workers + [lane for pid in workers for lane in children(pid)],
        "our web": [SERVED[env["app_url"]]],
        "sandbox": [SERVED[env["sandbox_url"]]],
        "bench": [os.getpid()],
    }
    server, _, name = env["database_url"].rpartition("/")
    if server.startswith("postgresql"):
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            roles["PostgreSQL"] = backends(conn, name)
    return roles


def _is_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"worker.py" in cmdline.read()
    except FileNotFoundError:
        return False


def get_data(url: str):
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


# -- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200, help="payments per scenario run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of: {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--import-size", type=int, default=5000, help="documents imported beside")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for all")
    parser.add_argument("--server", help="PostgreSQL server URL; default SQLite")
    parser.add_argument("--database", default=DATABASE, help="the scratch database's name")
    parser.add_argument("--redis", default=REDIS_URL, help="the scratch Redis db's URL")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_PAYMENTS} payments, one run, 500 beside"
    )
    args = parser.parse_args()
    if args.quick:
        args.payments, args.runs, args.import_size = QUICK_PAYMENTS, 1, 500
    keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    logging.disable(logging.INFO)  # alembic's migrations, the servers' request lines
    results = {key: [] for key in keys}
    for n in range(args.runs):
        for key in keys:
            results[key].append(
                run(args, SCENARIOS[key], seed=7 + n, database=args.database, redis_url=args.redis)
            )
            print(f"  … {SCENARIOS[key].title}, run {n + 1} done", file=sys.stderr)
    report({SCENARIOS[k].title: runs for k, runs in results.items()}, args, BURST_THREADS)


def run(
    args, scenario: Scenario, seed: int, database: str = DATABASE, redis_url: str = REDIS_URL
) -> Result:
    """One scenario on a world of its own: the sandbox, a scratch database and Redis db,
    the recent invoices imported, then the workers."""
    # The sandbox spreads its invoices over 90 days; about half are open and payable. The
    # last RECENT_DAYS are imported first (the invoices to pay); the older ones are what
    # the import beside the payments brings in.
    sandbox_config = {"SEED": seed, "INVOICE_COUNT": WORLD_INVOICES, "RATE_LIMIT": RATE_LIMIT}
    # Our webhook is on loopback here, which the real provider (and so its sandbox) refuses.
    sandbox_settings = {"teamleader": sandbox_config, "provider": {"ALLOW_LOCAL_WEBHOOKS": True}}
    with ExitStack() as stack:
        sandbox_url = stack.enter_context(serving(sandbox.create_app(sandbox_settings)))
        connection = stack.enter_context(scratch_redis(redis_url))
        database_url, tmp = stack.enter_context(scratch_database(args.server, database))
        app = create_app(collector_config(sandbox_url, database_url, tmp, redis_url))
        app.config["WORKER_LANES"] = scenario.lanes
        stack.callback(dispose, app)
        dispose(app)  # the web server's process must not share this one's connections

        def public(url: str) -> None:  # known once the server has its port
            app.config["PUBLIC_BASE_URL"] = url

        app_url = stack.enter_context(serving(app, public, lambda: dispose(app)))
        with app.app_context():
            targets = prepare(app, args.payments)
            db.session.remove()
        stack.enter_context(workers(scenario.workers, scenario.lanes, app, tmp, connection))
        env = {
            "app": app,
            "app_url": app_url,
            "sandbox_url": sandbox_url,
            "redis": connection,
            "database_url": database_url.replace("+psycopg", ""),
        }
        return run_scenario(scenario, env, targets, args)


if __name__ == "__main__":
    main()
