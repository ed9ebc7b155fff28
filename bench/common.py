"""What the benches share, so each says only what it measures: a scratch PostgreSQL
database made and dropped around a run (or kept, and reused by the next run to skip the
seed), the app on it, the documents seed (customers and 100,000 invoices and credit notes
over three years, inserted in bulk), and the timing of a question — its median and 95th
percentile over fresh sessions, with the statements it sent and, asked for, their plans.

Imported by ``bench/overview.py``, ``bench/dashboard.py`` and ``bench/mandates_csv.py``
(a script's own folder is first on ``sys.path``)."""

from __future__ import annotations

import argparse
import enum
import itertools
import logging
import math
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import flask_migrate
import psycopg
import sqlalchemy as sa
from psycopg import sql

from collector import create_app
from collector.accounts import users
from collector.documents.models import (
    Customer,
    CustomerKind,
    DocumentKind,
    Invoice,
    InvoiceState,
    Profile,
)
from collector.dunning.models import StepKind
from collector.dunning.steps import replace_steps
from collector.extensions import db

SERVER = "postgresql://postgres@127.0.0.1:5432"
EMAIL = "bench@example.com"
PASSWORD = "bench password"  # noqa: S105  (a throwaway database)

# -- the scratch database ------------------------------------------------------------------


def arguments(description: str, database: str) -> argparse.ArgumentParser:
    """The options every bench takes: the server, and keeping or reusing its database."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--database", default=database, help="the scratch database's name")
    parser.add_argument("--keep", action="store_true", help=f"keep the {database} database")
    parser.add_argument(
        "--reuse", action="store_true", help=f"time a {database} kept by --keep, unseeded again"
    )
    return parser


@contextmanager
def scratch_database(server: str, name: str, keep: bool = False, reuse: bool = False):
    """The URL of database ``name`` on ``server``, new (dropped first if there) unless
    ``reuse`` finds it; dropped afterwards unless ``keep``. Yields (url, new)."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        new = not (reuse and found)
        if new:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_id(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(_id(name)))
    try:
        yield f"{server}/{name}", new
    finally:
        if not (keep or reuse):
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(_id(name)))


def _id(name: str) -> sql.Identifier:
    return sql.Identifier(name)


@contextmanager
def bench_app(args: argparse.Namespace, database: str, seed: Callable[[], None]):
    """The app on the scratch ``database`` (``arguments``' options), migrated to the
    head, seeded by ``seed`` with the bench's user added (unless reused), analyzed."""
    logging.disable(logging.INFO)  # alembic's migration chatter
    name = getattr(args, "database", None) or database  # ``arguments``' --database
    with scratch_database(args.server, name, args.keep, args.reuse) as (url, new):
        settings = {
            "DATABASE_URL": url,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="collector-bench-"),
            "LOG_LEVEL": "WARNING",
            "WTF_CSRF_ENABLED": False,
        }
        app = create_app(settings)
        try:
            with app.app_context():
                flask_migrate.upgrade()
                if new:
                    started = time.perf_counter()
                    seed()
                    users.create_user(EMAIL, PASSWORD, "viewer")
                    print(f"seeded in {time.perf_counter() - started:.1f} s")
                analyze()
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


def analyze() -> None:
    """Give the planner statistics and the visibility map, as autovacuum would have."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# -- the documents -------------------------------------------------------------------------

START = date(2024, 1, 1)
TODAY = date(2026, 11, 30)
DEPARTMENTS = [("dep-be", 0.7), ("dep-nl", 0.3)]
STATES = [
    (InvoiceState.PAID, 0.60),
    (InvoiceState.BOOKED, 0.15),
    (InvoiceState.EXPIRED, 0.10),
    (InvoiceState.PENDING, 0.05),
    (InvoiceState.ARCHIVED, 0.10),
]
# Customers are named from these, so a word of a name is shared by about one in twelve.
NAME_WORDS = [
    "Acme", "Brouwerij", "Cafe", "Dakwerken", "Elektro", "Fietsen",
    "Garage", "Houtbouw", "Installaties", "Juwelier", "Kapsalon", "Loodgieter",
]  # fmt: skip
NAME_FORMS = ["BV", "NV", "VOF", "SRL", "Comm.V"]
STEPS = [(StepKind.REMINDER, 7), (StepKind.FINAL_NOTICE, 21), (StepKind.HAND_OFF, 45)]


def seed_documents(n_invoices: int, n_customers: int, rng: random.Random) -> None:
    """Five profiles with a dunning schedule (reminder +7, final notice +21, hand-off +45),
    ``n_customers`` customers and ``n_invoices`` documents dated from START to TODAY,
    streamed in with COPY while the documents' secondary indexes are away (built once
    afterwards, rather than kept up row by row under INSERTs)."""
    profiles = [Profile(name=f"Profile {i}", allow_bank_transfer=True) for i in range(5)]
    db.session.add_all(profiles)
    db.session.commit()
    for profile in profiles:
        replace_steps(profile, STEPS)
    db.session.commit()
    profile_ids = [p.id for p in profiles] + [None]
    customer_rows = [_customer(i, rng.choice(profile_ids)) for i in range(n_customers)]
    copy_rows(Customer, customer_rows)
    customers = db.session.execute(sa.select(Customer.id, Customer.profile_id)).all()
    days = (TODAY - START).days
    rows = (
        _invoice(i, rng.choice(customers), START + timedelta(days=rng.randrange(days)), rng)
        for i in range(n_invoices)
    )
    with indexes_away(Invoice):
        copy_rows(Invoice, rows)
    db.session.commit()


def copy_rows(model, rows: Iterable[dict]) -> None:
    """``rows`` (column name → value; every row the same names) into ``model``'s table with
    PostgreSQL's COPY, in the session's transaction; the columns' Python-side defaults
    filled in as the ORM would, enums by value."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    table = model.__table__
    defaults = {
        c.name: c.default
        for c in table.columns
        if c.default is not None and not c.primary_key and c.name not in first
    }
    names = [*first, *defaults]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in itertools.chain([first], rows):
            values = [*row.values(), *(_default(d) for d in defaults.values())]
            copy.write_row([v.value if isinstance(v, enum.Enum) else v for v in values])


def _default(default):
    return default.arg(None) if default.is_callable else default.arg


@contextmanager
def indexes_away(model):
    """Drop ``model``'s table's plain indexes (not those of its keys and unique
    constraints) for the block, and build them again after it."""
    table = model.__table__.name
    found = db.session.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ),
        {"table": table},
    ).all()
    for name, _definition in found:
        db.session.connection().exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    db.session.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _name, definition in found:
        db.session.connection().exec_driver_sql(definition)


def _pick(rng: random.Random, weighted: list[tuple]) -> object:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _customer(i: int, profile_id: int | None) -> dict:
    tl_id = str(uuid.UUID(int=i + 1))
    return {
        "teamleader_id": tl_id,
        "customer_number": tl_id,
        "kind": CustomerKind.COMPANY,
        "name": f"{NAME_WORDS[i % len(NAME_WORDS)]} {i:05d} {NAME_FORMS[i % len(NAME_FORMS)]}",
        "email": f"billing{i}@example.com",
        "profile_id": profile_id,
    }


def _invoice(i: int, customer, invoice_date: date, rng: random.Random) -> dict:
    credit = rng.random() < 0.1
    number = f"{invoice_date.year}/{i:06d}"
    total = Decimal(rng.randrange(1_000, 500_000)) / 100
    state = InvoiceState.ARCHIVED if credit else _pick(rng, STATES)
    # PDFs arrive within days; a few older ones failed to fetch.
    recent = (TODAY - invoice_date).days < 10
    return {
        "kind": DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
        "number": f"CN{number}" if credit else number,
        "teamleader_id": str(uuid.uuid4()),
        "department_id": _pick(rng, DEPARTMENTS),
        "customer_id": customer.id,
        "profile_id": customer.profile_id,
        "invoice_date": invoice_date,
        "due_date": invoice_date + timedelta(days=30),
        "total_excl_vat": total,
        "total_vat": Decimal("0.00"),
        "total_incl_vat": total,
        "amount_due": _due(state, total, rng),
        "state": state,
        "pdf_key": None if recent or rng.random() < 0.005 else f"pdfs/{i}.pdf",
    }


def _due(state: InvoiceState, total: Decimal, rng: random.Random) -> Decimal:
    if state == InvoiceState.PAID:
        return Decimal("0.00")
    if state in (InvoiceState.BOOKED, InvoiceState.EXPIRED) and rng.random() < 0.2:
        part = Decimal(rng.randrange(10, 90)) / 100  # a fifth of them partly paid
        return (total * part).quantize(Decimal("0.01"))
    return total


# -- timing --------------------------------------------------------------------------------


def percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) in ms of ``runs`` calls of
    ``fn``, after one call that warms caches and compiled statements."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[math.ceil(0.95 * len(times)) - 1]


class Statements:
    """Records what the engine sends, to count statements and EXPLAIN them."""

    def __init__(self):
        self.seen: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))


def time_questions(
    questions: list[tuple[str, Callable[[], object]]],
    runs: int,
    explain: bool = False,
    shown: Callable[[object], str] = lambda _result: "",
) -> list[float]:
    """Times each (name, question) on a fresh session per call, printing its median, p95,
    statement count and ``shown(result)`` (and with ``explain``, the plans); returns the
    p95s."""
    recorder = Statements()
    sa.event.listen(db.engine, "before_cursor_execute", recorder)
    worst = []
    try:
        for name, question in questions:

            def run(question=question):
                result = question()
                db.session.remove()
                return result

            recorder.seen.clear()
            result = run()
            statements = list(recorder.seen)
            median, p95 = percentiles(run, runs)
            worst.append(p95)
            print(
                f"  {name:<32} {median:7.1f} {p95:7.1f} ms   {len(statements):2} statements"
                f"   {shown(result)}".rstrip()
            )
            if explain:
                print_plans(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", recorder)
    return worst


def print_plans(statements) -> None:
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
            print("      " + "\n      ".join(row[0] for row in plan))
            print()


def logged_in(app):
    """A test client logged in as the bench's user (``users.create_user(EMAIL, PASSWORD)``)."""
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    return client


def time_pages(app, paths: list[str], runs: int) -> list[float]:
    """GET each of ``paths`` ``runs`` times, printing its median and p95; returns the p95s."""
    client = logged_in(app)
    worst = []
    for path in paths:

        def get(path=path):
            assert client.get(path).status_code == 200

        median, p95 = percentiles(get, runs)
        worst.append(p95)
        print(f"  GET {path:<56} {median:7.1f} {p95:7.1f} ms")
    return worst
