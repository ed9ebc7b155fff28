"""How fast is the documents overview at 100,000 invoices?

Seeds a scratch PostgreSQL database (created here, dropped afterwards) with
CUSTOMERS customers and INVOICES documents spread over three years, then times
``search_invoices`` for the overview's usual questions (median of RUNS, each on a
fresh session, so nothing comes from the identity map) and the rendered
/invoices page through the test client. With --explain it prints PostgreSQL's
plan of every statement of every case.

    python bench/overview.py [--server postgresql://postgres@127.0.0.1:5432]
                             [--invoices 100000] [--customers 3000] [--runs 7] [--explain]
"""

import argparse
import logging
import random
import statistics
import tempfile
import time
import uuid
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
from collector.extensions import db
from collector.web.overview import InvoiceFilter, search_invoices

DATABASE = "collector_bench"
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
CHUNK = 5_000
PASSWORD = "bench password"  # noqa: S105  (a throwaway database)


def recreate_database(server: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        name = sql.Identifier(DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(server: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


def pick(rng: random.Random, weighted: list[tuple]) -> object:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def seed(n_invoices: int, n_customers: int, rng: random.Random) -> None:
    """Profiles, customers and documents, inserted in chunks of CHUNK rows."""
    profiles = [Profile(name=f"Profile {i}", allow_bank_transfer=True) for i in range(5)]
    db.session.add_all(profiles)
    db.session.commit()
    profile_ids = [p.id for p in profiles] + [None]
    customer_rows = [_customer(i, rng.choice(profile_ids)) for i in range(n_customers)]
    db.session.execute(sa.insert(Customer), customer_rows)
    customers = db.session.execute(sa.select(Customer.id, Customer.profile_id)).all()
    days = (TODAY - START).days
    for first in range(0, n_invoices, CHUNK):
        rows = [
            _invoice(i, rng.choice(customers), START + timedelta(days=rng.randrange(days)), rng)
            for i in range(first, min(first + CHUNK, n_invoices))
        ]
        db.session.execute(sa.insert(Invoice), rows)
    db.session.commit()


def _customer(i: int, profile_id: int | None) -> dict:
    tl_id = str(uuid.UUID(int=i + 1))
    return {
        "teamleader_id": tl_id,
        "customer_number": tl_id,
        "kind": CustomerKind.COMPANY,
        "name": f"Customer {i:05d}",
        "email": f"billing{i}@example.com",
        "profile_id": profile_id,
    }


def _invoice(i: int, customer, invoice_date: date, rng: random.Random) -> dict:
    credit = rng.random() < 0.1
    number = f"{invoice_date.year}/{i:06d}"
    total = Decimal(rng.randrange(1_000, 500_000)) / 100
    state = InvoiceState.ARCHIVED if credit else pick(rng, STATES)
    # PDFs arrive within days; a few older ones failed to fetch.
    recent = (TODAY - invoice_date).days < 10
    return {
        "kind": DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
        "number": f"CN{number}" if credit else number,
        "teamleader_id": str(uuid.uuid4()),
        "department_id": pick(rng, DEPARTMENTS),
        "customer_id": customer.id,
        "profile_id": customer.profile_id,
        "invoice_date": invoice_date,
        "due_date": invoice_date + timedelta(days=30),
        "total_excl_vat": total,
        "total_vat": Decimal("0.00"),
        "total_incl_vat": total,
        "amount_due": Decimal("0.00") if state == InvoiceState.PAID else total,
        "state": state,
        "pdf_key": None if recent or rng.random() < 0.005 else f"pdfs/{i}.pdf",
    }


def analyze() -> None:
    """Give the planner statistics, as autovacuum would have in production."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def cases() -> list[tuple[str, InvoiceFilter, int]]:
    """(name, filter, page): the overview's usual questions."""
    some = db.session.execute(
        sa.select(Invoice.number, Invoice.teamleader_id, Invoice.customer_id, Invoice.profile_id)
        .where(Invoice.profile_id.is_not(None))
        .order_by(Invoice.id)
        .offset(12_345)
        .limit(1)
    ).one()
    return [
        ("no filter, first page", InvoiceFilter(), 1),
        ("no filter, page 1000", InvoiceFilter(), 1000),
        (
            "state BOOKED + profile",
            InvoiceFilter(state=InvoiceState.BOOKED, profile_id=some.profile_id),
            1,
        ),
        ("number search", InvoiceFilter(q=some.number[-6:]), 1),
        ("number search, no match", InvoiceFilter(q="no-such-number"), 1),
        ("Teamleader id", InvoiceFilter(q=some.teamleader_id), 1),
        ("customer", InvoiceFilter(customer_id=some.customer_id), 1),
        (
            "date range (a month)",
            InvoiceFilter(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)),
            1,
        ),
        ("pdf = no", InvoiceFilter(pdf=False), 1),
        ("credit notes, page 20", InvoiceFilter(kind=DocumentKind.CREDIT_NOTE), 20),
    ]


class Statements:
    """Records what the engine sends, to count statements and EXPLAIN them."""

    def __init__(self):
        self.seen: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))


def median_ms(fn, runs: int) -> float:
    fn()  # warm up caches and compiled statements
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def time_cases(runs: int, explain: bool) -> None:
    recorder = Statements()
    sa.event.listen(db.engine, "before_cursor_execute", recorder)
    for name, criteria, page in cases():

        def run(criteria=criteria, page=page):
            result = search_invoices(criteria, page)
            [(i.customer.name, i.profile and i.profile.name) for i in result.items]
            db.session.remove()
            return result

        recorder.seen.clear()
        result = run()
        statements = list(recorder.seen)
        ms = median_ms(run, runs)
        shown = f"{len(result.items)} of {result.total}"
        print(f"  {name:<28} {ms:8.1f} ms   {len(statements)} statements   {shown}")
        if explain:
            _explain(statements)
    sa.event.remove(db.engine, "before_cursor_execute", recorder)


def _explain(statements) -> None:
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
            print("      " + "\n      ".join(row[0] for row in plan))
            print()


def time_page(app, runs: int) -> float:
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD})
    assert response.status_code == 302, "login failed"

    def get():
        assert client.get("/invoices/").status_code == 200

    return median_ms(get, runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # alembic's migration chatter
    recreate_database(args.server)
    app = create_app(
        {
            "DATABASE_URL": f"{args.server}/{DATABASE}",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="collector-bench-"),
            "LOG_LEVEL": "WARNING",
            "WTF_CSRF_ENABLED": False,
        }
    )
    try:
        with app.app_context():
            flask_migrate.upgrade()
            started = time.perf_counter()
            seed(args.invoices, args.customers, random.Random(7))
            analyze()
            users.create_user("bench@example.com", PASSWORD, "viewer")
            seeded = time.perf_counter() - started
            print(f"seeded {args.invoices} documents, {args.customers} customers in {seeded:.1f} s")
            print(f"search_invoices, 50 per page, median of {args.runs}:")
            time_cases(args.runs, args.explain)
        page_ms = time_page(app, args.runs)
        print(f"  {'GET /invoices/ (rendered)':<28} {page_ms:8.1f} ms")
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            drop_database(args.server)


if __name__ == "__main__":
    main()
