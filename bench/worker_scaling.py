"""What does another worker buy? An import and a payment burst on 1, 2 and 4 workers.

Each row is a world of its own (a fresh sandbox, a scratch PostgreSQL database and Redis
db) with --workers ``worker.py`` processes on it, as production runs them:

  import       5,000 invoices (and their credit notes) of the last 90 days, without the
               custom-field profile choice: list calls and batched customer calls only;
  import, custom fields   the same with the invoice and subscription "Payment profile"
               fields: one ``invoices.info`` per new invoice, so Teamleader's limit binds.
               Both on the real limit (190 of Teamleader's 200 per window, the sandbox
               answering 429 past 200) with windows scaled down --time-scale times
               (``bench/import_throughput.py``'s measure of Teamleader minutes);
  import split in N       the same range cut into one import per worker, queued at once:
               what more workers could do for one import if it were split, since an
               import is one job (``teamleader.jobs.run_import`` runs its chunks one
               after another) and a second worker cannot take part of it;
  burst        200 payments marked paid at once (``bench/payment_latency.py``'s burst),
               with Teamleader's limit raised out of the way, so the figure is our
               capacity; its Teamleader calls per minute say how far past the 190 we
               allow that capacity goes.

Per row: throughput (documents or payments per minute), Teamleader calls per minute
against the 190 we allow (per Teamleader minute: a scaled window counts as a minute), the
ratio, the 1-minute load average at its end, and what binds.

    python bench/worker_scaling.py [--workers 1,2,4] [--paths import,import-cf,burst]
                                   [--documents 5000] [--payments 200] [--time-scale 20]
                                   [--runs 1] [--no-split] [--quick]
                                   [--server postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import flask_migrate
import payment_latency
import requests
from import_throughput import (
    OUR_LIMIT,
    QUICK,
    RANGE_DAYS,
    SERVER_LIMIT,
    booked_documents,
    configure,
    connect,
    scratch_database,
)
from import_throughput import Result as ImportResult
from latency_report import percentile
from payment_latency import Scenario
from payment_world import collector_config
from services import dispose, scratch_redis, serving, workers

import sandbox
from collector import create_app
from collector.core.columns import utcnow
from collector.extensions import db
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import DocumentImport, ImportSource

# Names of its own, so it can run beside the other benches (import_throughput and
# payment_latency share collector_bench_import; Redis: tests 15, benches 14, payment 8).
DATABASE = "collector_bench_scaling"
REDIS_URL = "redis://127.0.0.1:6379/5"
CORES = os.cpu_count() or 1
PATHS = {
    "import": "import, no custom field",
    "import-cf": "import, custom fields",
    "burst": "burst of payments",
}
QUICK_PAYMENTS = 20
POLL_SECONDS = 0.1
GAIN = 1.15  # less than this much more throughput than the row before: the worker adds none


@dataclass
class Row:
    """One measured row: a throughput, and what it cost at Teamleader."""

    path: str
    workers: int
    jobs: int  # imports queued at once (1, or one per worker); payments: 0
    done: int  # documents imported or payments in Teamleader
    expected: int
    wall: float  # seconds
    minutes: float  # Teamleader minutes (scaled for a paced import)
    calls: int
    rate_limited: int
    paced: bool  # the calls needed more than one window: the limit set the pace
    load: float
    note: str = ""
    scale: float = 1.0  # how many times the windows were shortened

    @property
    def least_minutes(self) -> float:
        """A paced import's Teamleader minutes scaling only the windows its calls need at
        our limit, not the rest of its wall time (our own processing): a lower bound where
        ``minutes`` (the whole wall time scaled) is an upper one."""
        window = 60 / self.scale
        waits = max(math.ceil(self.calls / OUR_LIMIT) - 1, 0) * window
        return (waits * self.scale + max(self.wall - waits, 0)) / 60

    @property
    def per_minute(self) -> float:
        return self.done / self.minutes if self.minutes else math.nan

    @property
    def calls_per_minute(self) -> float:
        return self.calls / self.minutes if self.minutes else math.nan

    @property
    def ratio(self) -> float:
        return self.calls_per_minute / OUR_LIMIT


# -- imports -------------------------------------------------------------------------------


def run_import(args, path: str, count: int, jobs: int) -> Row:
    """``jobs`` imports cutting the 90 days between them, queued at once on ``count``
    workers, on the real rate limit with scaled windows."""
    window = 60 / args.time_scale
    teamleader = {"SEED": 7, "RATE_LIMIT": SERVER_LIMIT, "RATE_WINDOW_SECONDS": window}
    world = sandbox.create_app({"teamleader": {**teamleader, **sizes(args)}})
    expected = booked_documents(world.emulators["teamleader"])
    with ExitStack() as stack:
        sandbox_url = stack.enter_context(serving(world))
        connection = stack.enter_context(scratch_redis(args.redis))
        database_url, tmp = stack.enter_context(scratch_database(args.server, args.database))
        config = collector_config(sandbox_url, database_url, tmp, args.redis)
        config |= {"TEAMLEADER_RATE_LIMIT": OUR_LIMIT, "TEAMLEADER_RATE_WINDOW": window}
        app = create_app(config)
        stack.callback(dispose, app)
        with app.app_context():
            flask_migrate.upgrade()
            configure(connect(app), custom_fields=path == "import-cf")
            db.session.remove()
        stack.enter_context(workers(count, "lanes", app, tmp, connection))
        time.sleep(window)  # the connect's calls leave the window
        calls_url = f"{sandbox_url}/teamleader/_control/calls"
        requests.delete(calls_url, timeout=10).raise_for_status()
        with app.app_context():
            started = time.time()
            ids = queue_imports(jobs)
            finished, documents = wait_for_imports(ids, args.timeout)
        calls = requests.get(calls_url, timeout=10).json()["data"]
    rate_limited = calls.pop("rate_limited", 0)
    measured = ImportResult(
        path, documents, expected, {}, calls, rate_limited, finished - started, 0, args.time_scale
    )
    return Row(
        path, count, jobs, documents, expected, measured.wall, measured.teamleader_minutes,
        measured.total_calls, rate_limited, measured.paced, os.getloadavg()[0],
        scale=args.time_scale,
    )  # fmt: skip


def queue_imports(jobs: int) -> list[int]:
    """The last RANGE_DAYS days (today included) cut into ``jobs`` imports, each queued."""
    today = utcnow().date()
    first = today - timedelta(days=RANGE_DAYS)
    days = RANGE_DAYS + 1
    bounds = [first + timedelta(days=days * i // jobs) for i in range(jobs + 1)]
    ids = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        imp = imports.create_import(
            ImportSource.CLI, date_from=start, date_to=end - timedelta(days=1), today=today
        )
        teamleader_jobs.start_import(imp)
        ids.append(imp.id)
    return ids


def wait_for_imports(ids: list[int], timeout: float) -> tuple[float, int]:
    """When the last of the imports ``ids`` finished (epoch s), and the documents they
    imported together."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        rows = db.session.scalars(db.select(DocumentImport).where(DocumentImport.id.in_(ids)))
        rows = list(rows)
        if all(r.done for r in rows):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"imports {ids} not done after {timeout:g} s")
        time.sleep(POLL_SECONDS)
    for r in rows:
        if r.status.value != "finished":
            print(f"  ! import {r.id} {r.status.value}: {r.error}", file=sys.stderr)
    db.session.remove()
    return max(r.finished_at.timestamp() for r in rows), sum(r.count("imported") for r in rows)


def sizes(args) -> dict:
    """What the sandbox generates (``bench/import_throughput.py``'s world)."""
    if args.quick:
        return QUICK
    counts = (args.documents, 400, 600, 50)
    keys = ("INVOICE_COUNT", "CONTACT_COUNT", "COMPANY_COUNT", "SUBSCRIPTION_COUNT")
    return dict(zip(keys, counts, strict=True))


# -- payments ------------------------------------------------------------------------------


def run_burst(args, count: int, seed: int) -> Row:
    """``bench/payment_latency.py``'s burst on ``count`` workers: payments per minute from
    the first payment marked paid to the last registerPayment Teamleader received."""
    scenario = Scenario(f"burst-{count}", f"burst, {count} workers", count, None)
    result = payment_latency.run(args, scenario, seed, args.database, args.redis)
    arrived = [s for s in result.sent if s.received is not None]
    wall = max(s.received for s in arrived) - min(s.t0 for s in result.sent)
    calls = dict(result.calls)
    rate_limited = calls.pop("rate_limited", 0)
    p99 = percentile(result.latencies, 99) if result.latencies else math.nan
    return Row(
        "burst", count, 0, len(arrived), len(result.sent), wall, wall / 60,
        sum(calls.values()), rate_limited, False, os.getloadavg()[0], f"p99 {p99:.2f} s",
    )  # fmt: skip


# -- the table -----------------------------------------------------------------------------


def binds(row: Row, before: Row | None) -> str:
    """What limits the row: Teamleader's rate limit, one serial job, or our CPU."""
    if row.path == "burst":
        here = _cpu(row, before) or "our processing"
        if row.ratio < 1:
            return here
        allows = OUR_LIMIT * row.done / row.calls
        return f"Teamleader's limit ({allows:.0f} payments/min at most); here {here}"
    if row.paced:
        return "Teamleader's rate limit"
    if row.jobs == 1:
        idle = f" ({row.workers - 1} worker(s) idle)" if row.workers > 1 else ""
        return f"one job is serial{idle}"
    return _cpu(row, before) or "our processing"


def _cpu(row: Row, before: Row | None) -> str:
    if row.workers > CORES:
        return f"our CPU ({row.workers} workers on {CORES} cores)"
    if before is not None and row.per_minute < before.per_minute * GAIN:
        return f"our CPU (the {CORES} cores are shared)"
    return ""


def report(rows: list[Row], args) -> None:
    print(
        f"Worker scaling: database {'PostgreSQL' if args.server else 'SQLite'}; a worker is"
        f" one worker.py; {CORES} cores; load average at the end {_load()}"
    )
    print(
        f"Imports on the real limit ({OUR_LIMIT} of Teamleader's {SERVER_LIMIT} per window),"
        f" windows scaled ×{args.time_scale:g} to {60 / args.time_scale:g} s: a paced run's"
        " Teamleader minutes are its wall time × the scale (an upper bound; the line under it"
        " scales only the windows). Bursts: limit raised, real minutes."
    )
    head = (
        f"{'path':<24}{'workers':>8}{'jobs':>5}{'done':>7}{'wall s':>8}{'per min':>9}"
        f"{'TL calls':>9}{'calls/min':>10}{'ratio':>7}{'load':>6}  binds"
    )
    for path in PATHS:
        mine = [r for r in rows if r.path == path]
        if not mine:
            continue
        print(f"\n{PATHS[path]} (per min: {'payments' if path == 'burst' else 'documents'})")
        print(head)
        for row in mine:
            before = _before(row, rows)
            print(
                f"{path:<24}{row.workers:>8}{row.jobs or '—':>5}{row.done:>7}{row.wall:>8.1f}"
                f"{row.per_minute:>9,.0f}{row.calls:>9}{row.calls_per_minute:>10,.0f}"
                f"{row.ratio:>7.2f}{row.load:>6.1f}  {binds(row, before)}"
            )
            _warn(row)
    print(
        "\nratio: Teamleader calls per minute / 190. An import whose calls fit in one window"
        " (fewer than 190) never waited for the limit: its ratio is the pace it would ask"
        " for, not one it got."
    )


def _before(row: Row, rows: list[Row]) -> Row | None:
    """The row of the same path and kind with the next fewer workers: one import for
    one import, one import per worker for a split one (one worker: one import)."""
    split = row.jobs > 1
    fewer = [
        r
        for r in rows
        if r.path == row.path
        and r.workers < row.workers
        and (r.jobs == r.workers if split else r.jobs <= 1)
    ]
    return max(fewer, key=lambda r: r.workers, default=None)


def _warn(row: Row) -> None:
    if row.note:
        print(f"{'':<24}  {row.note}")
    if row.paced:
        least = row.least_minutes
        per_minute = row.calls / least
        print(
            f"{'':<24}  not scaling our own time: {least:.1f} TL min, {row.done / least:,.0f}"
            f" docs/min, {per_minute:.0f} calls/min, ratio {per_minute / OUR_LIMIT:.2f}"
        )
    if row.done != row.expected or row.rate_limited:
        print(f"{'':<24}  ! {row.done} of {row.expected}; 429s: {row.rate_limited}")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker.py counts, comma-separated")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"of: {', '.join(PATHS)}")
    parser.add_argument("--documents", type=int, default=5000, help="invoices to generate")
    parser.add_argument("--payments", type=int, default=200, help="payments in the burst")
    parser.add_argument("--time-scale", type=float, default=20, help="shrink windows N times")
    parser.add_argument("--runs", type=int, default=1, help="runs of every row")
    parser.add_argument("--no-split", action="store_true", help="only one import per row")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all")
    parser.add_argument("--server", help="PostgreSQL server URL; default SQLite")
    parser.add_argument("--database", default=DATABASE, help="the scratch database's name")
    parser.add_argument("--redis", default=REDIS_URL, help="the scratch Redis database")
    parser.add_argument("--quick", action="store_true", help="300 invoices, 20 payments")
    args = parser.parse_args()
    args.import_size = 0  # payment_latency's import beside the payments: none here
    if args.quick:
        args.payments = QUICK_PAYMENTS
    counts = [int(n) for n in args.workers.split(",")]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if unknown := [p for p in paths if p not in PATHS]:
        parser.error(f"unknown path(s) {', '.join(unknown)}; known: {', '.join(PATHS)}")
    logging.disable(logging.INFO)  # alembic's migrations, the servers' request lines
    rows = []
    for n in range(args.runs):
        for path in paths:
            for count in counts:
                try:
                    new = measure(args, path, count, seed=7 + n)
                except RuntimeError as exc:  # a row that failed; the others still count
                    print(f"  ! {PATHS[path]}, {count} worker(s): {exc}", file=sys.stderr)
                    continue
                rows += new
                done = "; ".join(f"{r.done} in {r.wall:.1f} s, {r.calls} calls" for r in new)
                print(f"  … {PATHS[path]}, {count} worker(s), run {n + 1}: {done}", file=sys.stderr)
    report(rows, args)


def measure(args, path: str, count: int, seed: int) -> list[Row]:
    if path == "burst":
        return [run_burst(args, count, seed)]
    rows = [run_import(args, path, count, 1)]
    if count > 1 and not args.no_split:
        rows.append(run_import(args, path, count, count))
    return rows


if __name__ == "__main__":
    main()
