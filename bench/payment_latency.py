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

    python bench/payment_latency.py [--payments 200] [--interval 0.5] [--workers 1]
                                    [--no-burst] [--quick]
                                    [--server postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta

import flask_migrate
import psycopg
import requests
from cpu import Meter, backends, children
from import_throughput import (
    DATABASE,
    RANGE_DAYS,
    Job,
    app_config,
    configure,
    connect,
    scratch_database,
)
from services import SERVED, dispose, scratch_redis, serving, settle, workers

import sandbox
from collector import create_app
from collector.core.columns import utcnow
from collector.documents import profiles
from collector.documents.ledger import PAYABLE
from collector.documents.models import DocumentKind, Invoice, Profile
from collector.extensions import db
from collector.payments import checkout
from collector.payments.models import ProviderNotification
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import DocumentImport, ImportSource, TeamleaderSync
from sandbox.provider.emulator import DEFAULTS as PROVIDER_DEFAULTS

REDIS_URL = "redis://127.0.0.1:6379/8"  # make test uses 13, a bare pytest 15, other benches 14
RATE_LIMIT = 100_000  # calls per minute, sandbox and ours: never the bottleneck here
BURST_THREADS = 16
POLL_SECONDS = 0.1
PEERS_SECONDS = 3600  # "within one to two hours": the kinder end
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
QUICK_PAYMENTS = 20
RECENT_DAYS = 10  # the invoices to pay are the last ten days'
WORLD_INVOICES = 7200  # over 90 days: ~800 in the recent ten, ~5,000 in the 63 before


@dataclass(frozen=True)
class Target:
    """An open invoice to pay: our id, Teamleader's id and its payment page token."""

    id: int
    teamleader_id: str
    token: str


@dataclass
class Sent:
    """One payment marked paid at the provider."""

    target: Target
    provider_id: str
    t0: float
    answered: float
    webhook_status: int | None
    received: float | None = None  # when Teamleader got registerPayment for it

    @property
    def latency(self) -> float | None:
        return None if self.received is None else self.received - self.t0


@dataclass
class Result:
    scenario: str
    sent: list[Sent]
    calls: Counter  # Teamleader sandbox counters
    provider_calls: Counter
    registrations: Counter  # accepted registerPayment calls per invoice
    stages: dict[str, float]  # median seconds after t0
    jobs: Counter = field(default_factory=Counter)
    idle_pushes: int = 0
    job_seconds: float = 0.0  # started → finished, summed over the scenario's jobs
    failed: Counter = field(default_factory=Counter)
    first_error: str | None = None
    syncs: Counter = field(default_factory=Counter)
    beside: Import | None = None  # the import running beside the payments
    cpu: dict[str, float] = field(default_factory=dict)  # CPU s by role, t0 → settled

    @property
    def measured(self) -> list[float]:
        """The latencies that count: of the payments made while the import ran, if one did."""
        sent = self.sent
        if self.beside is not None:
            sent = [s for s in sent if self.beside.running_at(s.t0)]
        return sorted(s.latency for s in sent if s.latency is not None)

    @property
    def latencies(self) -> list[float]:
        return sorted(s.latency for s in self.sent if s.latency is not None)

    @property
    def missing(self) -> list[Sent]:
        return [s for s in self.sent if s.received is None]


# -- the settings ----------------------------------------------------------------------------


def collector_config(
    sandbox_url: str, database_url: str, tmp: str, redis_url: str = REDIS_URL
) -> dict:
    """The import benchmark's settings, plus the provider, ``redis_url`` and no rate limit."""
    job = Job(f"{sandbox_url}/teamleader", database_url, tmp, 60.0, False)
    return {
        **app_config(job),
        "REDIS_URL": redis_url,
        "TEAMLEADER_RATE_LIMIT": RATE_LIMIT,
        "PAYMENT_PROVIDER_URL": f"{sandbox_url}/provider/v2",
        "PAYMENT_PROVIDER_API_KEY": PROVIDER_DEFAULTS["API_KEY"],
        "MAIL_HOST": "",  # the mail sink, whatever a .env says
    }


# -- setup: connected, configured, imported ---------------------------------------------------


def prepare(app, count: int) -> list[Target]:
    """Migrate, connect, configure for online payments, import; ``count`` payable invoices."""
    flask_migrate.upgrade()
    connection = connect(app)
    configure(connection, custom_fields=False)
    allow_online_payments(connection)
    today = utcnow().date()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=RECENT_DAYS), date_to=today
    )
    imports.run_import(teamleader_setup.client(app, connection), connection, imp)
    targets = payable(count)
    if len(targets) < count:
        raise RuntimeError(f"only {len(targets)} payable invoices imported, {count} needed")
    return targets


def allow_online_payments(connection) -> None:
    """What writing payments back needs: the default profile offers paying online,
    strict mode is confirmed and our payments carry one of the account's methods."""
    default = db.session.get(Profile, connection.default_profile_id)
    profiles.update_profile(default, {"allow_payment_link": True})
    settings = {
        "import_department_ids": connection.import_department_ids,
        "default_profile_id": default.id,
        "strict_mode_confirmed": True,
        "payment_method_id": teamleader_connection.active_payment_methods(connection)[0]["id"],
    }
    teamleader_connection.update_settings(connection, settings)


def payable(count: int) -> list[Target]:
    query = (
        db.select(Invoice.id, Invoice.teamleader_id, Invoice.payment_token)
        .join(Invoice.profile)
        .where(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(PAYABLE),
            Invoice.amount_due > 0,
            Profile.allow_payment_link,
        )
        .order_by(Invoice.id)
        .limit(count)
    )
    return [Target(*row) for row in db.session.execute(query)]


# -- one scenario ------------------------------------------------------------------------------


def start_checkouts(app, app_url: str, targets: list[Target]) -> list[str]:
    """Press "Pay online" on each payment page; the provider's payment ids, in order."""
    browser = requests.Session()
    for target in targets:
        page = browser.get(f"{app_url}/pay/{target.token}", timeout=10)
        form = {"csrf_token": CSRF.search(page.text).group(1)}
        answer = browser.post(
            f"{app_url}/pay/{target.token}/online", data=form, allow_redirects=False, timeout=10
        )
        if answer.status_code != 303:
            raise RuntimeError(f"Pay online for invoice {target.id}: HTTP {answer.status_code}")
    with app.app_context():
        ids = [checkout.latest(db.session.get(Invoice, t.id)).provider_id for t in targets]
        db.session.remove()
    return ids


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


@dataclass
class Import:
    """The import run beside the payments: its span, and what it imported."""

    run_id: int
    import_id: int
    started: float | None = None
    finished: float | None = None
    documents: int = 0

    def running_at(self, t: float) -> bool:
        return self.started is not None and self.started <= t <= (self.finished or math.inf)


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


def start_import(app, size: int) -> Import:
    """Queue an import of the older documents (about ``size``), wait until a worker has
    begun it, so the payments meet it running, and watch it in a thread until it ends."""
    with app.app_context():
        today = utcnow().date()
        imp = imports.create_import(
            ImportSource.CLI,
            date_from=today - timedelta(days=RECENT_DAYS + import_days(size)),
            date_to=today - timedelta(days=RECENT_DAYS + 1),
        )
        beside = Import(run_id=teamleader_jobs.start_import(imp).id, import_id=imp.id)
        db.session.remove()
    threading.Thread(target=_watch_import, args=(app, beside), daemon=True).start()
    deadline = time.monotonic() + 60
    while beside.started is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the import did not start within a minute")
        time.sleep(POLL_SECONDS / 2)
    return beside


def _watch_import(app, beside: Import) -> None:
    with app.app_context():
        while beside.finished is None:
            db.session.expire_all()
            run = db.session.get(JobRun, beside.run_id)
            if beside.started is None and run.started_at is not None and run.progress_done:
                beside.started = run.started_at.timestamp()
            if run.finished_at is not None:
                imp = db.session.get(DocumentImport, beside.import_id)
                beside.documents = imp.count("imported")
                beside.finished = run.finished_at.timestamp()
            time.sleep(POLL_SECONDS / 2)
        db.session.remove()


def wait_for_import(beside: Import, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while beside.finished is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def import_days(size: int) -> int:
    """Days of invoices (the sandbox spreads them evenly over 90) that hold about ``size``."""
    return max(1, math.ceil(size / (WORLD_INVOICES / RANGE_DAYS)))


def get_data(url: str):
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def read_jobs(result: Result, started) -> None:
    """The job history of the scenario: the webhook calls' stages, pushes, failures, syncs."""
    runs = db.session.scalars(db.select(JobRun).where(JobRun.created_at >= started)).all()
    query = db.select(
        ProviderNotification.provider_id,
        ProviderNotification.received_at,
        ProviderNotification.dispatched_at,
        ProviderNotification.processed_at,
    ).where(ProviderNotification.received_at >= started)
    calls = {row.provider_id: row for row in db.session.execute(query)}
    stages = {"webhook answered": [], "webhook stored": [], "taken by a job": []}
    stages["payment recorded"] = []
    for s in result.sent:
        stages["webhook answered"].append(s.answered - s.t0)
        call = calls.get(s.provider_id)
        if call is not None and call.processed_at is not None:
            stages["webhook stored"].append(call.received_at.timestamp() - s.t0)
            stages["taken by a job"].append(call.dispatched_at.timestamp() - s.t0)
            stages["payment recorded"].append(call.processed_at.timestamp() - s.t0)
    stages["registerPayment received"] = result.latencies
    result.stages = {k: statistics.median(v) for k, v in stages.items() if v}
    result.jobs = Counter(r.name for r in runs)
    result.job_seconds = sum(
        (r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at
    )
    result.idle_pushes = sum(r.name == "push_teamleader" and "in line" in r.message for r in runs)
    failed = [r for r in runs if r.status == JobStatus.FAILED]
    result.failed = Counter(r.name for r in failed)
    result.first_error = failed[0].error[:300] if failed else None
    ids = [s.target.id for s in result.sent]
    syncs = db.select(TeamleaderSync.status).where(TeamleaderSync.invoice_id.in_(ids))
    result.syncs = Counter(str(status) for status in db.session.scalars(syncs))


# -- the figures -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def figures(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": values[-1],
    }


def report(results: dict[str, list[Result]], args) -> None:
    """Per scenario: each run's figures, then all runs' payments pooled, with the spread
    (lowest–highest) of the runs' median and p99."""
    print(
        f"Payment → Teamleader: database {'PostgreSQL' if args.server else 'SQLite'};"
        f" {args.payments} payments a run, {args.runs} run(s) each; a worker is one"
        f" worker.py; bursts: {BURST_THREADS} webhook calls in flight; import beside:"
        f" about {args.import_size:,} documents; rate limits raised to {RATE_LIMIT:,}/min"
    )
    print(
        f"{'scenario':<44}{'payments':>9}{'median s':>10}{'p90 s':>8}{'p99 s':>8}{'max s':>8}"
        f"{'median spread':>17}{'p99 spread':>15}"
    )
    for key, runs in results.items():
        pooled = sorted(v for r in runs for v in r.measured)
        f = figures(pooled)
        medians = [figures(r.measured).get("median", math.nan) for r in runs]
        p99s = [figures(r.measured).get("p99", math.nan) for r in runs]
        cells = "".join(f"{f.get(k, math.nan):>{w}.3f}" for k, w in _COLUMNS)
        print(
            f"{SCENARIOS[key].title:<44}{len(pooled):>9}{cells}"
            f"{_spread(medians):>17}{_spread(p99s):>15}"
        )
    for key, runs in results.items():
        for n, r in enumerate(runs, 1):
            _details(r, f"{SCENARIOS[key].title}, run {n}")
    print(
        "latency: the provider told the payment is paid (t0) → the Teamleader sandbox received"
        " invoices.registerPayment for that invoice (its own arrival log). Beside an import,"
        " only the payments made while it ran count."
    )


_COLUMNS = (("median", 10), ("p90", 8), ("p99", 8), ("max", 8))


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}" if values else "—"


def _details(r: Result, title: str) -> None:
    f = figures(r.measured)
    summary = ", ".join(f"{k} {v:.3f}" for k, v in f.items()) or "no payment arrived"
    print(f"{title}: {len(r.measured)} payments; {summary}")
    stages = ", ".join(f"{k} {v:.3f}" for k, v in r.stages.items())
    print(f"  stages, median s after t0: {stages}")
    if r.beside is not None:
        b = r.beside
        span = (b.finished - b.started) if b.finished and b.started else math.nan
        print(
            f"  import beside: {b.documents:,} documents in {span:.1f} s; {len(r.measured)}"
            f" of {len(r.sent)} payments made while it ran"
        )
    per = len(r.sent)
    calls = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.calls.items()))
    provider = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.provider_calls.items()))
    print(f"  Teamleader calls per payment: {calls}")
    print(f"  provider calls per payment: {provider}")
    jobs = "  ".join(f"{k} {v}" for k, v in sorted(r.jobs.items()))
    print(f"  jobs: {jobs} ({r.idle_pushes} push_teamleader runs found Teamleader in line)")
    print(f"  job time per payment: {r.job_seconds / per:.3f} s (started → finished)")
    print(f"  Teamleader sync rows: {dict(r.syncs)}")
    if r.cpu:
        total = sum(r.cpu.values())
        roles = ", ".join(f"{k} {v / per * 1000:.1f}" for k, v in r.cpu.items())
        print(
            f"  CPU per payment, ms (t0 → settled): {roles}; all {total / per * 1000:.1f};"
            f" on {os.cpu_count()} cores at best {total / (os.cpu_count() or 1):.2f} s for the"
            f" {per}"
        )
    _warnings(r)


def _warnings(r: Result) -> None:
    for s in r.missing:
        print(
            f"  ! {s.provider_id} (invoice {s.target.id}) did not reach Teamleader within"
            f" --timeout; the provider's webhook was answered HTTP {s.webhook_status}"
        )
    twice = {k: v for k, v in r.registrations.items() if v > 1}
    if twice:
        print(f"  ! registered more than once: {twice}")
    bad_hooks = Counter(s.webhook_status for s in r.sent if s.webhook_status != 200)
    if bad_hooks:
        print(f"  ! provider webhook answers other than 200: {dict(bad_hooks)}")
    if r.failed:
        print(f"  ! failed jobs: {dict(r.failed)}; first: {r.first_error}")


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
    report(results, args)


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
