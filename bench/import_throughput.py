"""How many Teamleader calls does an import cost, and how close to the limit does it run?

Imports what the sandbox generated over the last 90 days (--documents invoices, drafts
left out, plus their credit notes) into a scratch database, twice, each time on a fresh
database, a fresh sandbox and an empty rate budget:

  no custom field    profile choice without custom fields: list calls and batched
                     customer calls only (DESIGN §4: well under 0.05 calls per document)
  custom fields      the invoice and subscription "Payment profile" fields configured:
                     one invoices.info per new invoice, so Teamleader's limit sets the pace

Calls are the sandbox's own counters (``GET /_control/calls``). The import runs in a
child process, as in an rq worker, with the app's own client and the rate budget it
shares through Redis (190 of Teamleader's 200 per window). Windows are scaled down by
--time-scale N (200 per 60/N s) so the paced run takes a minute, not 25. A run that
needs more than one window of calls is paced by the limit: its Teamleader time is wall
time × N (an upper bound, our own processing is scaled too). A run that fits in one
window never waits for the limit: its Teamleader time is its wall time.

    python bench/import_throughput.py [--documents 5000] [--time-scale 20] [--quick]
                                      [--server postgresql://postgres@127.0.0.1:5432]
"""

import argparse
import logging
import math
import resource
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context

import flask_migrate
import psycopg
import redis
import requests
from psycopg import sql
from werkzeug.serving import make_server

from collector import create_app
from collector.core.columns import utcnow
from collector.documents import profiles
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource
from sandbox import teamleader as tl_sandbox
from sandbox.teamleader.consent import authorization_code

SERVER_LIMIT = 200  # Teamleader: calls per sliding minute
OUR_LIMIT = 190  # collector's default TEAMLEADER_RATE_LIMIT
REDIS_URL = "redis://127.0.0.1:6379/14"
DATABASE = "collector_bench_import"
PROFILE_NAMES = ("Direct debit", "Payment link", "Bank transfer")  # the sandbox's options
RANGE_DAYS = 90  # the sandbox spreads its invoices over the 90 days before today
BOOKED = ("outstanding", "matched")
SCENARIOS = (("no custom field", False), ("custom fields", True))
QUICK = {"INVOICE_COUNT": 300, "CONTACT_COUNT": 40, "COMPANY_COUNT": 60, "SUBSCRIPTION_COUNT": 5}
SHOWN = ("invoices.list", "creditNotes.list", "contacts.list", "companies.list")


@dataclass(frozen=True)
class Job:
    """What the child process needs to run one import."""

    sandbox_url: str
    database_url: str
    instance_path: str
    window: float
    custom_fields: bool


@dataclass
class Result:
    scenario: str
    documents: int
    expected: int
    counts: dict
    calls: Counter
    rate_limited: int
    wall: float
    rss_mb: float
    scale: float

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def paced(self) -> bool:
        """Whether the calls needed more than one window, so the limit set the pace."""
        return self.total_calls > OUR_LIMIT

    @property
    def teamleader_minutes(self) -> float:
        return self.wall * (self.scale if self.paced else 1) / 60

    @property
    def floor_minutes(self) -> float:
        """The least time any client needs: with a sliding window, N calls need
        ceil(N / 200) - 1 full minutes (the first 200 go at once)."""
        return max(math.ceil(self.total_calls / SERVER_LIMIT) - 1, 0)


# -- the child process: one import, as a worker runs it --------------------------------------


def import_in_worker(job: Job) -> dict:
    """Set up a connection through the sandbox's OAuth, then time one import of 90 days."""
    logging.disable(logging.INFO)  # alembic's migration chatter
    app = create_app(app_config(job))
    # The key is read as an int; a scaled window is a fraction of a second.
    app.config["TEAMLEADER_RATE_WINDOW"] = job.window
    with app.app_context():
        flask_migrate.upgrade()
        connection = connect(app)
        configure(connection, job.custom_fields)
        today = utcnow().date()
        imp = imports.create_import(
            ImportSource.CLI, date_from=today - timedelta(days=RANGE_DAYS), date_to=today
        )
        client = teamleader_setup.client(app, connection)
        requests.delete(f"{job.sandbox_url}/_control/calls", timeout=10)
        started = time.perf_counter()
        imports.run_import(client, connection, imp)
        wall = time.perf_counter() - started
        counts = dict(imp.counts)
        db.engine.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"counts": counts, "wall": wall, "rss_mb": rss_mb}


def app_config(job: Job) -> dict:
    return {
        "ENV": "test",
        "SECRET_KEY": "bench-secret",
        "DATABASE_URL": job.database_url,
        "REDIS_URL": REDIS_URL,
        "JOBS_INLINE": False,  # rq backend: the client gets the Redis-shared rate budget
        "INSTANCE_PATH": job.instance_path,
        "DOCUMENT_STORAGE": f"{job.instance_path}/documents",
        "LOG_LEVEL": "WARNING",
        "TEAMLEADER_AUTH_URL": job.sandbox_url,
        "TEAMLEADER_API_URL": job.sandbox_url,
        "TEAMLEADER_CLIENT_ID": "collector-sandbox",
        "TEAMLEADER_CLIENT_SECRET": "sandbox-secret",
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",  # the sandbox serves the PDF locations
    }


def connect(app):
    """A connection made as an admin makes it: "Grant access" on the sandbox's OAuth page."""
    code = authorization_code(teamleader_setup.oauth(app).authorize_url("bench"))
    return teamleader_connection.complete_connect(
        teamleader_setup.oauth(app),
        teamleader_setup.client_factory(app),
        runtime_setup.cipher(app),
        code,
        None,
        app.config["PUBLIC_BASE_URL"],
    )


def configure(connection, custom_fields: bool) -> None:
    """Profiles the custom fields can name, a default, and (optionally) the two fields."""
    default = profiles.create_profile({"name": "Default", "allow_bank_transfer": True})
    for name in PROFILE_NAMES:
        profiles.create_profile({"name": name, "allow_bank_transfer": True})
    fields = {
        f"{f['context']}_profile_field_id": f["id"]
        for f in connection.custom_fields or []
        if custom_fields and "rofile" in f["label"]
    }
    settings = {
        "import_department_ids": connection.import_department_ids,
        "default_profile_id": default.id,
        **fields,
    }
    teamleader_connection.update_settings(connection, settings)


# -- the parent: sandbox, scratch database, figures ------------------------------------------


def run_in_worker(window: float, sandbox: dict, args, custom_fields: bool, work, *extra):
    """``work(job, *extra)`` in a worker process against a fresh sandbox (``sandbox`` its
    settings), database and rate budget: (its outcome, the call counters, the sandbox app)."""
    sandbox_app = tl_sandbox.create_app(
        {"SEED": 7, "RATE_LIMIT": SERVER_LIMIT, "RATE_WINDOW_SECONDS": window, **sandbox}
    )
    server = make_server("127.0.0.1", 0, sandbox_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        with scratch_database(args.server) as (url, tmp):
            job = Job(base, url, tmp, window, custom_fields)
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                outcome = pool.submit(work, job, *extra).result()
        calls = Counter(requests.get(f"{base}/_control/calls", timeout=10).json()["data"])
    finally:
        server.shutdown()
    return outcome, calls, sandbox_app


def run_scenario(name: str, custom_fields: bool, args, sizes: dict) -> Result:
    """One import on a fresh sandbox, database and rate budget."""
    outcome, calls, sandbox_app = run_in_worker(
        60 / args.time_scale, sizes, args, custom_fields, import_in_worker
    )
    rate_limited = calls.pop("rate_limited", 0)
    return Result(
        scenario=name,
        documents=outcome["counts"].get("imported", 0),
        expected=booked_documents(sandbox_app),
        counts=outcome["counts"],
        calls=calls,
        rate_limited=rate_limited,
        wall=outcome["wall"],
        rss_mb=outcome["rss_mb"],
        scale=args.time_scale,
    )


def booked_documents(sandbox_app) -> int:
    """What there is to import, read from the sandbox's own dataset."""
    data = sandbox_app.extensions["teamleader_emulator"].store.data
    invoices = sum(i["status"] in BOOKED for i in data.invoices.values())
    return invoices + len(data.credit_notes)


@contextmanager
def scratch_database(server: str | None, database: str = DATABASE):
    """(database URL, temp dir): SQLite in the temp dir, or a fresh PostgreSQL database
    named ``database`` (a bench running beside another gives its own name)."""
    with tempfile.TemporaryDirectory(prefix="collector-bench-import-") as tmp:
        if server is None:
            yield f"sqlite:///{tmp}/bench.sqlite3", tmp
            return
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            name = sql.Identifier(database)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        try:
            yield f"{server}/{database}", tmp
        finally:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))


def report(results: list[Result], args) -> None:
    print(
        f"Teamleader {SERVER_LIMIT} calls/min (ours {OUR_LIMIT}), windows scaled"
        f" ×{args.time_scale:g} to {60 / args.time_scale:g} s;"
        f" database {'PostgreSQL' if args.server else 'SQLite'}"
    )
    head = f"{'':<17}{'docs':>6}{'calls':>7}{'/doc':>8}{'wall s':>8}{'TL min':>8}"
    print(head + f"{'docs/min':>10}{'floor':>10}{'ratio':>7}{'RSS MB':>8}  paced by")
    for r in results:
        _row(r)
    print(
        "TL min: Teamleader minutes; floor: the most documents per minute the limit allows"
        " at these calls (∞: they fit in one window); ratio: TL min / the floor's minutes."
    )
    for r in results:
        shown = "  ".join(f"{k} {r.calls[k]}" for k in SHOWN)
        others = "  ".join(f"{k} {v}" for k, v in sorted(r.calls.items()) if k not in SHOWN)
        print(f"{r.scenario}: {shown}  {others}  (429s: {r.rate_limited})")
        if r.paced:
            _pacing(r)
        else:
            _not_paced(r)
        _warn(r)


def _row(r: Result) -> None:
    floor, ratio = "∞", "—"
    if r.floor_minutes:
        floor = f"{r.documents / r.floor_minutes:.0f}"
        ratio = f"{r.teamleader_minutes / r.floor_minutes:.2f}"
    print(
        f"{r.scenario:<17}{r.documents:>6}{r.total_calls:>7}{r.total_calls / r.documents:>8.4f}"
        f"{r.wall:>8.1f}{r.teamleader_minutes:>8.2f}{r.documents / r.teamleader_minutes:>10.0f}"
        f"{floor:>10}{ratio:>7}{r.rss_mb:>8.0f}"
        f"  {'the rate limit' if r.paced else 'our processing'}"
    )


def _not_paced(r: Result) -> None:
    steady = SERVER_LIMIT * r.documents / r.total_calls
    print(
        f"  fewer calls than one window holds: the limit never waited. At"
        f" {r.total_calls / r.documents:.4f} calls/document it would allow {steady:,.0f}"
        f" docs/min in a long import; we processed {r.documents / r.wall * 60:,.0f} docs/min."
    )


def _pacing(r: Result) -> None:
    """Split a paced run's wall time into the windows our limit needs and the rest, which
    TL min scales too although only part of it is waiting: the lower bound scales none."""
    window = 60 / r.scale
    ours = max(math.ceil(r.total_calls / OUR_LIMIT) - 1, 0) * window
    rest = max(r.wall - ours, 0)
    least = (ours * r.scale + rest) / 60
    print(
        f"  of {r.wall:.1f} s, {ours:.1f} s are the windows {r.total_calls} calls need at"
        f" {OUR_LIMIT} per window, {rest:.1f} s the rest; not scaling the rest:"
        f" {least:.2f} TL min, {r.documents / least:.0f} docs/min, ratio"
        f" {least / r.floor_minutes:.2f}."
    )


def _warn(r: Result) -> None:
    problems = {k: r.counts[k] for k in ("skipped", "failed") if r.counts.get(k)}
    if r.documents != r.expected or problems:
        print(f"  ! imported {r.documents} of {r.expected} booked documents {problems or ''}")


def sizes(args) -> dict:
    """What the sandbox generates."""
    if args.quick:
        return QUICK
    return {
        "INVOICE_COUNT": args.documents,
        "CONTACT_COUNT": args.contacts,
        "COMPANY_COUNT": args.companies,
        "SUBSCRIPTION_COUNT": args.subscriptions,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000, help="invoices to generate")
    parser.add_argument("--contacts", type=int, default=400)
    parser.add_argument("--companies", type=int, default=600)
    parser.add_argument("--subscriptions", type=int, default=50)
    parser.add_argument("--time-scale", type=float, default=20, help="shrink windows N times")
    parser.add_argument("--server", help="PostgreSQL server URL; default: SQLite in a temp dir")
    parser.add_argument("--quick", action="store_true", help="a smoke run of 300 invoices")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    results = [run_scenario(name, custom, args, sizes(args)) for name, custom in SCENARIOS]
    report(results, args)


if __name__ == "__main__":
    main()
