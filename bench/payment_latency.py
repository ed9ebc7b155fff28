"""How long does a payment take to reach Teamleader?

Peer integrations write a payment back to Teamleader within one to two hours; collector
says seconds. This measures it end to end, on a real rq worker with the real doorbell:

  1. the combined sandbox (Teamleader + payment provider), a scratch database, Redis db 13;
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
           purpose. A payment costs one worker three jobs (the provider's webhook,
           push_teamleader, Teamleader's paymentRegistered echo), about 0.2 s of job
           time plus rq's pickup and fork per job, so one worker falls behind at 0.1 s
           apart; Teamleader's own limit allows under one payment a second anyway.
  burst    all --payments marked paid at once (BURST_THREADS calls in flight): how long
           the queue takes to drain.

Rate limits are raised out of the way (RATE_LIMIT calls per minute, sandbox and ours):
the figure is our path, not Teamleader's budget. Calls per payment are printed, and
what Teamleader's 200 per minute allows at that many.

    python bench/payment_latency.py [--payments 200] [--interval 0.5] [--workers 1]
                                    [--no-burst] [--quick]
                                    [--server postgresql://postgres@127.0.0.1:5432]
"""

import argparse
import logging
import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import flask_migrate
import redis
import requests
from import_throughput import (
    OUR_LIMIT,
    RANGE_DAYS,
    Job,
    app_config,
    configure,
    connect,
    scratch_database,
)
from rq import Queue, Worker
from werkzeug.serving import make_server

import sandbox
from collector import create_app
from collector.config import KEYS
from collector.core.columns import utcnow
from collector.documents import profiles
from collector.documents.ledger import PAYABLE
from collector.documents.models import DocumentKind, Invoice, Profile
from collector.extensions import db
from collector.payments import checkout
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource, TeamleaderSync
from sandbox.provider.emulator import DEFAULTS as PROVIDER_DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/13"  # the tests use 14 and 15
RATE_LIMIT = 100_000  # calls per minute, sandbox and ours: never the bottleneck here
BURST_THREADS = 16
POLL_SECONDS = 0.1
PEERS_SECONDS = 3600  # "within one to two hours": the kinder end
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
QUICK_PAYMENTS = 20


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

    @property
    def latencies(self) -> list[float]:
        return sorted(s.latency for s in self.sent if s.latency is not None)

    @property
    def missing(self) -> list[Sent]:
        return [s for s in self.sent if s.received is None]


# -- the services: sandbox, app, workers ---------------------------------------------------


@contextmanager
def serving(app):
    """Serve ``app`` on a free port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def scratch_redis():
    """Redis db 13, empty before and after."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()


def collector_config(sandbox_url: str, database_url: str, tmp: str) -> dict:
    """The import benchmark's settings, plus the provider, Redis db 13 and no rate limit."""
    job = Job(f"{sandbox_url}/teamleader", database_url, tmp, 60.0, False)
    return {
        **app_config(job),
        "REDIS_URL": REDIS_URL,
        "TEAMLEADER_RATE_LIMIT": RATE_LIMIT,
        "PAYMENT_PROVIDER_URL": f"{sandbox_url}/provider/v2",
        "PAYMENT_PROVIDER_API_KEY": PROVIDER_DEFAULTS["API_KEY"],
        "MAIL_HOST": "",  # the mail sink, whatever a .env says
    }


@contextmanager
def workers(count: int, app, log_dir: str, connection: redis.Redis):
    """``count`` ``worker.py`` processes with the app's settings, listening on every queue."""
    env = {**os.environ, **{key.name: str(app.config[key.name]) for key in KEYS}}
    logs = [Path(log_dir, f"worker-{i}.log") for i in range(count)]
    procs = []
    try:
        for path in logs:
            with path.open("wb") as out:
                procs.append(
                    subprocess.Popen(  # noqa: S603  (our own interpreter and script)
                        [sys.executable, str(ROOT / "worker.py")],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        _wait_for_workers(count, connection, procs, logs)
        yield logs
    finally:
        for proc in procs:
            proc.terminate()  # rq's warm shutdown: the job in hand finishes first
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_workers(count, connection, procs, logs, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=connection)) < count:
        exited = [p for p in procs if p.poll() is not None]
        if exited or time.monotonic() > deadline:
            tail = logs[0].read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the rq workers did not start; worker-0.log ends:\n{tail}")
        time.sleep(0.1)


def settle(connection: redis.Redis, timeout: float = 120, quiet: float = 1.0) -> None:
    """Wait until no job has been queued or running for ``quiet`` seconds (the Teamleader
    sandbox's own webhooks keep adding jobs for a moment after the last payment)."""
    queues = [Queue(name, connection=connection) for name in QUEUES]
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        busy = any(q.count or q.started_job_registry.count for q in queues)
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= quiet:
            return
        time.sleep(0.1)
    print(f"  ! jobs still queued or running after {timeout:g} s", file=sys.stderr)


# -- setup: connected, configured, imported ---------------------------------------------------


def prepare(app, count: int) -> list[Target]:
    """Migrate, connect, configure for online payments, import; ``count`` payable invoices."""
    flask_migrate.upgrade()
    connection = connect(app)
    configure(connection, custom_fields=False)
    allow_online_payments(connection)
    today = utcnow().date()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=RANGE_DAYS), date_to=today
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


def send_paced(provider_url: str, pairs, interval: float) -> list[Sent]:
    start = time.time()
    sent = []
    for i, (target, provider_id) in enumerate(pairs):
        time.sleep(max(0.0, start + i * interval - time.time()))
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


def run_scenario(name: str, env: dict, targets: list[Target], args) -> Result:
    """Pay ``targets`` (paced or at once) and time each to Teamleader."""
    app, sandbox_url, connection = env["app"], env["sandbox_url"], env["redis"]
    settle(connection)
    for path in ("teamleader/_control/calls", "teamleader/_control/registrations"):
        requests.delete(f"{sandbox_url}/{path}", timeout=10)
    requests.delete(f"{sandbox_url}/provider/_control/calls", timeout=10)
    pairs = list(zip(targets, start_checkouts(app, env["app_url"], targets), strict=True))
    started = utcnow()
    provider_url = f"{sandbox_url}/provider"
    if name == "paced":
        sent = send_paced(provider_url, pairs, args.interval)
    else:
        sent = send_burst(provider_url, pairs)
    wait_for_arrivals(sandbox_url, sent, args.timeout)
    settle(connection)  # a late second registerPayment would show in the counts
    registrations = get_data(f"{sandbox_url}/teamleader/_control/registrations")
    result = Result(
        scenario=name,
        sent=sent,
        calls=Counter(get_data(f"{sandbox_url}/teamleader/_control/calls")),
        provider_calls=Counter(get_data(f"{sandbox_url}/provider/_control/calls")),
        registrations=Counter(row["invoice_id"] for row in registrations),
        stages={},
    )
    with app.app_context():
        read_jobs(result, started)
        db.session.remove()
    return result


def get_data(url: str):
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def read_jobs(result: Result, started) -> None:
    """The job history of the scenario: the webhook jobs' stages, pushes, failures, syncs."""
    runs = db.session.scalars(db.select(JobRun).where(JobRun.created_at >= started)).all()
    by_payment = {r.args[0]: r for r in runs if r.name == "handle_provider_webhook" and r.args}
    stages = {"fetch job queued": [], "webhook answered": [], "fetch job started": []}
    stages["fetch job done"] = []
    for s in result.sent:
        run = by_payment.get(s.provider_id)
        stages["webhook answered"].append(s.answered - s.t0)
        if run is not None and run.finished_at is not None:
            stages["fetch job queued"].append(run.created_at.timestamp() - s.t0)
            stages["fetch job started"].append(run.started_at.timestamp() - s.t0)
            stages["fetch job done"].append(run.finished_at.timestamp() - s.t0)
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


def report(results: list[Result], args) -> None:
    print(
        f"Payment → Teamleader: {args.workers} rq worker(s); paced: one payment every"
        f" {args.interval * 1000:g} ms; burst: all at once, {BURST_THREADS} in flight;"
        f" rate limits raised to {RATE_LIMIT:,}/min; database"
        f" {'PostgreSQL' if args.server else 'SQLite'}"
    )
    print(
        f"{'scenario':<10}{'paid':>6}{'arrived':>9}{'median s':>10}{'p90 s':>8}{'p99 s':>8}"
        f"{'max s':>8}{'sent over s':>13}{'register/payment':>18}"
    )
    for r in results:
        _row(r)
    for r in results:
        _details(r)
    print(
        "latency: the provider told the payment is paid (t0) → the Teamleader sandbox received"
        " invoices.registerPayment for that invoice (its own arrival log)."
    )


def _row(r: Result) -> None:
    lat = r.latencies
    figures = (
        "".join(
            f"{v:>{w}.3f}"
            for v, w in (
                (statistics.median(lat), 10),
                (percentile(lat, 90), 8),
                (percentile(lat, 99), 8),
                (lat[-1], 8),
            )
        )
        if lat
        else f"{'—':>10}{'—':>8}{'—':>8}{'—':>8}"
    )
    span = r.sent[-1].t0 - r.sent[0].t0
    per_payment = r.calls.get("invoices.registerPayment", 0) / len(r.sent)
    print(
        f"{r.scenario:<10}{len(r.sent):>6}{len(lat):>9}{figures}{span:>13.2f}{per_payment:>18.2f}"
    )


def _details(r: Result) -> None:
    print(f"{r.scenario}:")
    stages = ", ".join(f"{k} {v:.3f}" for k, v in r.stages.items())
    print(f"  stages, median s after t0: {stages}")
    per = len(r.sent)
    calls = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.calls.items()))
    provider = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.provider_calls.items()))
    print(f"  Teamleader calls per payment: {calls}")
    print(f"  provider calls per payment: {provider}")
    if r.calls:
        payments_per_minute = OUR_LIMIT / (sum(r.calls.values()) / per)
        print(
            f"  at Teamleader's limit (our {OUR_LIMIT} of 200 per minute) these calls allow"
            f" {payments_per_minute:.0f} payments a minute before the limit, not our path,"
            " sets the pace"
        )
    jobs = "  ".join(f"{k} {v}" for k, v in sorted(r.jobs.items()))
    print(f"  jobs: {jobs} ({r.idle_pushes} push_teamleader runs found Teamleader in line)")
    print(
        f"  job time per payment: {r.job_seconds / per:.3f} s (started → finished; rq's pickup"
        " and fork per job come on top)"
    )
    print(f"  Teamleader sync rows: {dict(r.syncs)}")
    _warnings(r)
    if r.latencies:
        median, p99 = statistics.median(r.latencies), percentile(r.latencies, 99)
        print(
            f"  against the peers' 1–2 hours: median {median:.3f} s is"
            f" 1/{PEERS_SECONDS / median:,.0f} of {PEERS_SECONDS} s;"
            f" p99 {p99:.3f} s is 1/{PEERS_SECONDS / p99:,.0f}"
        )


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
    parser.add_argument("--payments", type=int, default=200, help="payments per scenario")
    parser.add_argument("--interval", type=float, default=0.5, help="paced: seconds apart")
    parser.add_argument("--workers", type=int, default=1, help="rq worker processes")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for all")
    parser.add_argument("--no-burst", action="store_true", help="the paced scenario only")
    parser.add_argument("--server", help="PostgreSQL server URL; default SQLite")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PAYMENTS} payments each")
    args = parser.parse_args()
    if args.quick:
        args.payments = QUICK_PAYMENTS
    logging.disable(logging.INFO)  # alembic's migrations, the servers' request lines
    scenarios = ["paced"] if args.no_burst else ["paced", "burst"]
    report(run(args, scenarios), args)


def run(args, scenarios: list[str]) -> list[Result]:
    needed = args.payments * len(scenarios)
    # About half of what the sandbox generates is open and payable.
    sandbox_config = {"SEED": 7, "INVOICE_COUNT": 2 * needed + 100, "RATE_LIMIT": RATE_LIMIT}
    with ExitStack() as stack:
        sandbox_url = stack.enter_context(
            serving(sandbox.create_app({"teamleader": sandbox_config}))
        )
        connection = stack.enter_context(scratch_redis())
        database_url, tmp = stack.enter_context(scratch_database(args.server))
        app = create_app(collector_config(sandbox_url, database_url, tmp))
        stack.callback(_dispose, app)
        app_url = stack.enter_context(serving(app))
        app.config["PUBLIC_BASE_URL"] = app_url  # known once the server has its port
        with app.app_context():
            targets = prepare(app, needed)
            db.session.remove()
        stack.enter_context(workers(args.workers, app, tmp, connection))
        env = {"app": app, "app_url": app_url, "sandbox_url": sandbox_url, "redis": connection}
        n = args.payments
        return [
            run_scenario(name, env, targets[i * n : (i + 1) * n], args)
            for i, name in enumerate(scenarios)
        ]


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
