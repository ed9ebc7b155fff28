"""How many documents a minute does forwarding book in Exact Online, against its limit?

Imports 90 days from a fresh Teamleader sandbox into a scratch database, connects the Exact
sandbox through its OAuth page, chooses the first administration and maps every VAT rate of
the Belgian department, gives the first --documents Belgian documents a stored PDF
(--pdf-kb each), then times one forwarding run of exactly those, in a child process as an rq
worker runs it: the app's own client, paced through the Redis budget shared per
administration (the app's default, 59 of Exact's 60 per minute). Exact's minute is scaled
down --time-scale times on both sides (60 calls per 60/N s), so a run takes seconds, not a
quarter of an hour; the Teamleader limit is raised out of the way. Calls per document come
from the client's ``calls`` counter, 429s and the fixed windows from the Exact sandbox's own
call log.

    python bench/exact_forwarding.py [--documents 300] [--time-scale 60] [--pdf-kb 40]
                                     [--server postgresql://postgres@127.0.0.1:5432]
"""

import argparse
import logging
import math
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from multiprocessing import get_context

import flask_migrate
import psycopg
import redis
import requests
from psycopg import sql
from werkzeug.serving import make_server

from collector import create_app
from collector.core.columns import utcnow
from collector.documents.models import Invoice
from collector.exact import connection as exact_connection
from collector.exact import forwarding as exact_forwarding
from collector.exact import settings as exact_settings
from collector.exact import setup as exact_setup
from collector.exact.models import SyncTrigger
from collector.exact.ratelimit import DEFAULT_MINUTE_LIMIT
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource
from sandbox import exact as exact_sandbox
from sandbox import teamleader as tl_sandbox
from sandbox.exact.consent import authorization_code as exact_code
from sandbox.teamleader.consent import authorization_code as tl_code
from sandbox.teamleader.structure import DEPARTMENT_IDS

EXACT_MINUTE_LIMIT = 60  # Exact: calls per minute per administration (reference §3)
EXACT_DAILY_LIMIT = 5000  # Exact: calls per day per administration
OUR_LIMIT = DEFAULT_MINUTE_LIMIT  # collector's default EXACT_RATE_LIMIT
UNLIMITED = 100_000
REDIS_URL = "redis://127.0.0.1:6379/14"
DATABASE = "collector_bench_exact"
RANGE_DAYS = 90  # the Teamleader sandbox spreads its invoices over the last 90 days
BELGIAN = DEPARTMENT_IDS["BE"]


@dataclass(frozen=True)
class Job:
    """What the child process needs."""

    teamleader_url: str
    exact_url: str
    database_url: str
    instance_path: str
    window: float
    documents: int
    pdf_bytes: int


# -- the child process: set up, then one timed forwarding run, as a worker runs it ----------


def forward_in_worker(job: Job) -> dict:
    logging.disable(logging.INFO)  # alembic's migration chatter
    app = create_app(app_config(job))
    app.config.update(EXACT_RATE_WINDOW=job.window, EXACT_RATE_LIMIT=OUR_LIMIT)
    with app.app_context():
        flask_migrate.upgrade()
        teamleader = connect_teamleader(app)
        today = utcnow().date()
        imp = imports.create_import(
            ImportSource.CLI, date_from=today - timedelta(days=RANGE_DAYS), date_to=today
        )
        imports.run_import(teamleader_setup.client(app, teamleader), teamleader, imp)
        connection = connect_exact(app, teamleader)
        ids = store_pdfs(app, job.documents, job.pdf_bytes)
        exact = exact_setup.client(app, connection)
        tl_client = teamleader_setup.client(app, teamleader)
        store = runtime_setup.document_store(app)
        time.sleep(2 * job.window)  # the set-up's calls leave the shared window
        requests.delete(f"{job.exact_url}/_control/calls", timeout=10)
        started = time.perf_counter()
        run = exact_forwarding.forward(
            connection,
            exact,
            tl_client,
            store,
            trigger=SyncTrigger.MANUAL,
            limit=len(ids),
            invoice_ids=ids,
        )
        wall = time.perf_counter() - started
        outcome = {
            "booked": run.booked,
            "found": run.found,
            "failed": run.failed,
            "waiting": run.waiting,
            "problem": run.problem,
            "calls": dict(exact.calls),
            "wall": wall,
        }
        db.engine.dispose()
    return outcome


def app_config(job: Job) -> dict:
    return {
        "ENV": "test",
        "SECRET_KEY": "bench-secret",
        "DATABASE_URL": job.database_url,
        "REDIS_URL": REDIS_URL,
        "JOBS_INLINE": False,  # rq backend: the client gets the Redis-shared budget
        "INSTANCE_PATH": job.instance_path,
        "DOCUMENT_STORAGE": f"{job.instance_path}/documents",
        "LOG_LEVEL": "WARNING",
        "TEAMLEADER_AUTH_URL": job.teamleader_url,
        "TEAMLEADER_API_URL": job.teamleader_url,
        "TEAMLEADER_CLIENT_ID": "collector-sandbox",
        "TEAMLEADER_CLIENT_SECRET": "sandbox-secret",
        "TEAMLEADER_RATE_LIMIT": UNLIMITED,
        "EXACT_BASE_URL": f"{job.exact_url}/{{country}}",
        "EXACT_CLIENT_ID": "collector-sandbox",
        "EXACT_CLIENT_SECRET": "sandbox-secret",
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",  # the sandbox serves the PDF locations
    }


def connect_teamleader(app):
    """Press "Grant access" on the Teamleader sandbox's OAuth page."""
    code = tl_code(teamleader_setup.oauth(app).authorize_url("bench"))
    return teamleader_connection.complete_connect(
        teamleader_setup.oauth(app),
        teamleader_setup.client_factory(app),
        runtime_setup.cipher(app),
        code,
        None,
        app.config["PUBLIC_BASE_URL"],
    )


def connect_exact(app, teamleader):
    """Press "Authorize" on the Exact sandbox's page (Belgium), choose the first
    administration and save settings forwarding the Belgian department, each of its VAT
    rates mapped to the exclusive sales VAT code of that percentage, as finance would."""
    host = exact_setup.host(app, "be")
    code = exact_code(exact_setup.oauth(app, host).authorize_url("bench"))
    connection = exact_connection.complete_connect(
        exact_setup.oauth(app, host),
        exact_setup.client_factory(app),
        runtime_setup.cipher(app),
        code,
        None,
        country="be",
        host=host,
    )
    division = connection.choices["divisions"][0]["code"]
    exact = exact_setup.client_factory(app)(
        exact_setup.token_source(app, connection), host, division
    )
    tl_client = teamleader_setup.client(app, teamleader)
    connection = exact_settings.choose_division(connection, division, exact, tl_client)
    choices = connection.choices
    rates = sorted({t["rate"] for t in choices["tax_rates"] if t["department_id"] == BELGIAN})
    revenue = choices["gl_accounts"]
    journals = {j["type"]: j["code"] for j in choices["journals"]}
    data = {
        "invoice_journal": journals[exact_settings.SALES_JOURNAL],
        "credit_note_journal": journals.get(exact_settings.RETURN_JOURNAL)
        or journals[exact_settings.SALES_JOURNAL],
        "department_ids": [BELGIAN],
        "vat_codes": {rate: vat_code(choices, rate) for rate in rates},
        "gl_accounts": {rate: revenue[i % len(revenue)]["id"] for i, rate in enumerate(rates)},
        "payment_conditions": {},
        "sync_credit_notes": True,
    }
    return exact_settings.save_settings(connection, data, teamleader)


def vat_code(choices: dict, rate: str) -> str:
    for code in choices["vat_codes"]:
        if code["type"] == "E" and Decimal(code["percentage"] or "-1") == Decimal(rate):
            return code["code"]
    raise RuntimeError(f"the Exact sandbox offers no exclusive VAT code of {rate}")


def store_pdfs(app, documents: int, size: int) -> list[int]:
    """A stored PDF (``size`` bytes) for each of the first ``documents`` Belgian documents,
    in the order a run takes them; their ids."""
    chosen = list(
        db.session.scalars(
            db.select(Invoice)
            .where(Invoice.department_id == BELGIAN)
            .order_by(Invoice.invoice_date, Invoice.id)
            .limit(documents)
        )
    )
    if len(chosen) < documents:
        raise RuntimeError(f"the sandbox gave only {len(chosen)} Belgian documents")
    store = runtime_setup.document_store(app)
    for invoice in chosen:
        head = f"%PDF-1.4\n% {invoice.number}\n".encode()
        invoice.pdf_key = store.put(head + b"%" * max(size - len(head) - 6, 0) + b"\n%%EOF")
    db.session.commit()
    return [invoice.id for invoice in chosen]


# -- the parent: sandboxes, scratch database, figures ----------------------------------------


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@contextmanager
def scratch_database(server: str | None):
    """(database URL, temp dir): SQLite in the temp dir, or a fresh PostgreSQL database."""
    with tempfile.TemporaryDirectory(prefix="collector-bench-exact-") as tmp:
        if server is None:
            yield f"sqlite:///{tmp}/bench.sqlite3", tmp
            return
        name = sql.Identifier(DATABASE)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        try:
            yield f"{server}/{DATABASE}", tmp
        finally:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))


def run(args) -> tuple[dict, list[dict], float]:
    window = 60 / args.time_scale
    # About 62 % of the sandbox's invoices (plus their credit notes) are Belgian and booked.
    teamleader_app = tl_sandbox.create_app(
        {"SEED": 7, "INVOICE_COUNT": math.ceil(args.documents * 1.6) + 50, "RATE_LIMIT": UNLIMITED}
    )
    exact_app = exact_sandbox.create_app(
        {"SEED": 3, "MINUTE_LIMIT": EXACT_MINUTE_LIMIT, "MINUTE_WINDOW": window}
    )
    teamleader_url, teamleader_server = serve(teamleader_app)
    exact_url, exact_server = serve(exact_app)
    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        with scratch_database(args.server) as (url, tmp):
            job = Job(
                teamleader_url,
                exact_url,
                url,
                tmp,
                window,
                args.documents,
                args.pdf_kb * 1024,
            )
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                outcome = pool.submit(forward_in_worker, job).result()
        calls = requests.get(f"{exact_url}/_control/calls", timeout=10).json()
    finally:
        teamleader_server.shutdown()
        exact_server.shutdown()
    return outcome, calls, window


def report(outcome: dict, calls: list[dict], window: float, args) -> None:
    documents = outcome["booked"] + outcome["found"]
    per_endpoint = Counter(outcome["calls"])
    total = sum(per_endpoint.values())
    per_document = total / documents
    exact_minutes = outcome["wall"] * args.time_scale / 60
    achieved = documents / exact_minutes
    ceiling = EXACT_MINUTE_LIMIT / per_document
    ours = OUR_LIMIT / per_document
    statuses = Counter(c["status"] for c in calls)
    windows = Counter(math.floor(c["at"] / window) for c in calls)
    counts = [windows[k] for k in sorted(windows)]
    inner = counts[1:-1] or counts

    print(
        f"Exact {EXACT_MINUTE_LIMIT} calls/min (ours {OUR_LIMIT}), the minute scaled"
        f" ×{args.time_scale:g} to {window:g} s; database"
        f" {'PostgreSQL' if args.server else 'SQLite'}; PDFs {args.pdf_kb} KB"
    )
    print(
        f"documents: {documents} booked ({outcome['found']} found already),"
        f" {outcome['failed']} failed, {outcome['waiting']} waiting"
        + (f"; {outcome['problem']}" if outcome["problem"] else "")
    )
    print(f"calls: {total}, {per_document:.3f} per document:")
    for endpoint, count in per_endpoint.most_common():
        print(f"  {endpoint:<32}{count:>6}{count / documents:>8.3f} per document")
    accounts = Counter(c["method"] for c in calls if "/crm/Accounts" in c["path"])
    searches, created = accounts.get("GET", 0), accounts.get("POST", 0)
    print(
        f"  of the accounts: {searches} searches, {created} created (one per customer Exact"
        f" did not have); once every customer is linked a document costs"
        f" {(total - searches - created) / documents:.3f} calls"
    )
    print(
        f"429s from the sandbox: {statuses.get(429, 0)}; calls per {window:g} s window:"
        f" busiest {max(counts)}, mean {sum(inner) / len(inner):.1f} (of {EXACT_MINUTE_LIMIT};"
        f" first and last windows left out)"
    )
    print(
        f"elapsed: {outcome['wall']:.1f} s = {exact_minutes:.2f} Exact minutes"
        f" -> {achieved:.1f} documents per minute"
    )
    print(
        f"ceiling at {per_document:.3f} calls/document: {ceiling:.1f} documents per minute"
        f" ({EXACT_MINUTE_LIMIT}/{per_document:.3f}), {EXACT_DAILY_LIMIT / per_document:,.0f}"
        f" per day ({EXACT_DAILY_LIMIT:,}/{per_document:.3f})"
    )
    print(
        f"ratio achieved/ceiling: {achieved / ceiling:.3f}"
        f" (against our own {OUR_LIMIT}/min: {achieved / ours:.3f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300, help="documents to forward")
    parser.add_argument(
        "--time-scale", type=float, default=60, help="shrink Exact's minute N times"
    )
    parser.add_argument("--pdf-kb", type=int, default=40, help="size of each stored PDF")
    parser.add_argument("--server", help="PostgreSQL server URL; default: SQLite in a temp dir")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    outcome, calls, window = run(args)
    report(outcome, calls, window, args)


if __name__ == "__main__":
    main()
