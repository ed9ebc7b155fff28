"""The invoice list's sorts by signed amount and by days overdue read the indexes built on
their very expressions (``ix_invoice_signed_amount_id``, ``ix_invoice_overdue_id``).

PostgreSQL serves an ORDER BY from an index only when the expression is the index's,
bound parameters included; a change to ``SIGNED_AMOUNT`` or the "overdue" sort key made
without its index would quietly sort every document for each page again (50 ms at
100,000 documents, ``bench/overview.py``). With sorting and sequential scans priced out,
only a matching index gives the order; without one the plan names no index of ours.

The other sorts read theirs too (``ix_invoice_kind_id``, ``ix_invoice_state_id``,
``ix_invoice_pdf_id`` on the "PDF available" expression), and a Next link's page starts
in the index at its position (``web.invoice_pages``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.documents.models import InvoiceState
from collector.extensions import db
from collector.web import invoice_search
from collector.web.invoice_pages import Position
from collector.web.invoice_query import InvoiceFilter
from collector.web.overview import list_invoices, list_totals
from tests.support.factories import make_customer, make_invoice

pytestmark = pytest.mark.postgres


def page_plan(
    sort: str,
    position: Position | None = None,
    criteria: InvoiceFilter | None = None,
    page: int = 1,
    incremental_sort: bool = False,
) -> str:
    """PostgreSQL's plan of the list's page statement for ``sort`` (from ``position``, a
    Next link's; page ``page`` by OFFSET), sent as the app sends it (the same SQL and
    bound parameters)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        list_invoices(criteria or InvoiceFilter(), page, 50, sort, position=position)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    # The page's statement: a search reads its customers first, without an order.
    pages = [(s, p) for s, p in seen if "LIMIT" in s and "ORDER BY" in s and "invoice" in s]
    statement, parameters = pages[0]
    with db.engine.connect() as conn:  # rolled back on close, and the settings with it
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        if not incremental_sort:  # the sort by customer sorts each name's documents by id
            conn.exec_driver_sql("SET LOCAL enable_incremental_sort = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("-amount", "ix_invoice_signed_amount_id"),
        ("amount", "ix_invoice_signed_amount_id"),
        ("-overdue", "ix_invoice_overdue_id"),
        ("overdue", "ix_invoice_overdue_id"),
        ("-due_date", "ix_invoice_due_date_id"),
        ("kind", "ix_invoice_kind_id"),
        ("-state", "ix_invoice_state_id"),
        ("pdf", "ix_invoice_pdf_id"),
    ],
)
def test_the_sort_reads_the_index_on_its_expression(app, sort, index):
    plan = page_plan(sort)
    assert index in plan, plan


@pytest.mark.parametrize(
    ("sort", "value", "index"),
    [
        ("-invoice_date", date(2026, 5, 1), "ix_invoice_invoice_date_id"),
        ("state", InvoiceState.EXPIRED, "ix_invoice_state_id"),
        ("-amount", Decimal("10.00"), "ix_invoice_signed_amount_id"),
    ],
)
def test_a_next_page_starts_in_the_index_at_its_position(app, sort, value, index):
    # The position is the index scan's start (an Index Cond), not a filter on every row
    # before it: page 10,000 costs what page 1 does.
    plan = page_plan(sort, Position(value, 1234))
    assert index in plan and "Index Cond: (ROW(" in plan, plan


@pytest.fixture
def word(app):
    """Customers whose names hold "kapsalon", among others, with a document each."""
    for name in ("Acme NV", "Kapsalon Anna", "Kapsalon Bert", "Zebra BV"):
        make_invoice(customer=make_customer(name=name))
    db.session.commit()
    return InvoiceFilter(q="kapsalon")


def test_a_name_word_is_read_as_its_customers_ids(word):
    # A constant the planner counts, not ARRAY(subquery) it guesses at (437 for 83,298
    # documents at a million: it read and sorted them all instead of walking the index).
    plan = page_plan("-amount_due", criteria=word)
    assert "ix_invoice_amount_due_id" in plan and "customer_id = ANY ('{" in plan, plan
    assert "InitPlan" not in plan and "SubPlan" not in plan, plan


@pytest.mark.parametrize("page", [1, 10])
@pytest.mark.parametrize("sort", ["customer", "-customer"])
def test_the_sort_by_customer_walks_only_the_words_customers(word, sort, page):
    # In name order from the first of theirs, each one's documents then sorted by id:
    # not every customer before the word's, through all their documents.
    plan = page_plan(sort, criteria=word, page=page, incremental_sort=True)
    assert "ix_customer_name_id" in plan and "Presorted Key: customer.name" in plan, plan
    assert "Index Cond: ((name >= " in plan and "Filter: (id = ANY ('{" in plan, plan
    assert "InitPlan" not in plan and "SubPlan" not in plan, plan


def test_a_next_page_by_customer_starts_at_its_name(word):
    plan = page_plan("customer", Position("Kapsalon Bert", 1234), word, incremental_sort=True)
    assert "ix_customer_name_id" in plan and "Index Cond: ((name >= " in plan, plan
    assert "Filter: (id = ANY ('{" in plan, plan


def test_a_word_in_more_names_than_the_bound_is_one_hashed_look_up(word, monkeypatch):
    # Past the bound the customers are not written out; an array parameter would be
    # searched element by element on every document (two minutes for "v" at a million).
    monkeypatch.setattr(invoice_search, "MAX_CUSTOMERS", 1)
    for sort in ("-amount_due", "customer"):
        plan = page_plan(sort, criteria=word, incremental_sort=True)
        assert "hashed SubPlan" in plan and "ANY (" not in plan, plan


def totals_plan(criteria: InvoiceFilter) -> str:
    """PostgreSQL's plan of the totals' statement of ``criteria``, as the app sends it."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        list_totals(criteria)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    statement, parameters = next((s, p) for s, p in seen if "GROUP BY" in s)
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)


def test_the_totals_of_a_word_count_its_customers_as_the_page_does(word, monkeypatch):
    # ARRAY(subquery) there summed for minutes a word of one letter at a million (each
    # document's recheck searched 24,000 ids one by one): the same constant as the page,
    # and past the bound the same hashed look-up.
    plan = totals_plan(word)
    assert "customer_id = ANY ('{" in plan and "SubPlan" not in plan, plan
    monkeypatch.setattr(invoice_search, "MAX_CUSTOMERS", 1)
    plan = totals_plan(word)
    assert "hashed SubPlan" in plan and "ANY (" not in plan, plan
