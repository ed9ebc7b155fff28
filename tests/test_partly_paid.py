""" "Partly paid" in the invoice list and its exports: money was received (payments less
the refunds, returns and chargebacks taken from them) and something is still due. A
credit note lowers what is due but pays nothing, so alone it never makes an invoice
partly paid. Money moves through the ledger, as in production."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice, InvoiceState, PaymentKind
from collector.documents.models import PaymentSource as Source
from collector.extensions import db
from collector.web import states
from tests.support.factories import make_invoice

D = Decimal
BADGE = '<span class="badge badge-partly-paid">partly paid</span>'
PARTLY_COLUMN = 11  # "Partly paid" in the CSV and XLSX (see tests/test_invoice_list.py)


def pay(invoice: Invoice, amount: str, clock, source: Source = Source.BANK, key: str = "p1"):
    return ledger.record_payment(
        invoice,
        key=f"{key}:{invoice.id}",
        amount=D(amount),
        occurred_at=clock.now(),
        source=source,
        actor="system",
    )


def take_back(payment, amount: str, kind: PaymentKind, clock):
    return ledger.record_reversal(
        payment,
        key=f"back:{payment.id}:{kind.value}",
        kind=kind,
        amount=D(amount),
        occurred_at=clock.now(),
        actor="system",
    )


def credit(invoice: Invoice, amount: str) -> None:
    """A credit note held here on ``invoice``, offset as an import does."""
    make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        customer=invoice.customer,
        total_incl_vat=D(amount),
        amount_due=D("0.00"),
        state=InvoiceState.ARCHIVED,
        credited_invoice_id=invoice.id,
    )
    ledger.settle(invoice, "Credited.", actor="system")


def nothing(invoice, clock):
    pass


def credited_only(invoice, clock):
    credit(invoice, "21.00")
    assert invoice.amount_due == D("100.00")  # less is due, and nothing was paid


def paid_part(invoice, clock):
    pay(invoice, "50.00", clock)


def a_cent_paid(invoice, clock):
    pay(invoice, "0.01", clock)


def refunded(invoice, clock):
    take_back(pay(invoice, "50.00", clock), "50.00", PaymentKind.REFUND, clock)


def returned_by_the_bank(invoice, clock):
    take_back(pay(invoice, "50.00", clock), "50.00", PaymentKind.RETURN, clock)


def charged_back(invoice, clock):
    take_back(pay(invoice, "50.00", clock), "50.00", PaymentKind.CHARGEBACK, clock)


def partly_refunded(invoice, clock):
    take_back(pay(invoice, "50.00", clock), "20.00", PaymentKind.REFUND, clock)


def payment_removed(invoice, clock):
    ledger.cancel_entry(pay(invoice, "50.00", clock), "Removed in Teamleader", actor="system")


def paid_in_teamleader(invoice, clock):
    pay(invoice, "40.00", clock, source=Source.TEAMLEADER)


def credited_and_paid(invoice, clock):
    credit(invoice, "21.00")
    pay(invoice, "50.00", clock)


def paid_in_full(invoice, clock):
    pay(invoice, "121.00", clock)


def paid_then_collecting(invoice, clock):
    pay(invoice, "50.00", clock)
    ledger.start_collection(invoice, "Direct debit announced.", actor="system")


def paid_then_archived(invoice, clock):
    pay(invoice, "50.00", clock)
    ledger.archive(invoice, "Written off.", actor="user:admin")


CASES: list[tuple[Callable, bool]] = [
    (nothing, False),
    (credited_only, False),  # the credit note lowered what is due: nothing was paid
    (paid_part, True),
    (a_cent_paid, True),
    (refunded, False),
    (returned_by_the_bank, False),
    (charged_back, False),
    (partly_refunded, True),  # 30.00 still stands
    (payment_removed, False),
    (paid_in_teamleader, True),  # mirrored from Teamleader: money received all the same
    (credited_and_paid, True),
    (paid_in_full, False),  # nothing left: paid, not partly
    (paid_then_collecting, False),  # a collection is under way for the rest
    (paid_then_archived, False),
]


@pytest.fixture
def document(app, clock, request) -> tuple[Invoice, bool]:
    story, partly = request.param
    invoice = make_invoice()  # € 121.00, booked
    story(invoice, clock)
    db.session.commit()
    return invoice, partly


def row_of(response, invoice) -> str:
    page = response.get_data(as_text=True)
    return re.search(rf'<tr data-invoice="{invoice.id}".*?</tr>', page, re.S).group(0)


def csv_row(response, invoice) -> list[str]:
    rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
    return next(r for r in rows if r[0] == invoice.number)


def xlsx_row(response, invoice) -> tuple:
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    return next(r for r in book.active.iter_rows(values_only=True) if r[0] == invoice.number)


IDS = [story.__name__ for story, _ in CASES]


@pytest.mark.parametrize("document", CASES, ids=IDS, indirect=True)
def test_the_list_says_partly_paid_only_when_money_came_in_and_some_is_due(admin_client, document):
    invoice, partly = document
    row = row_of(admin_client.get("/invoices/"), invoice)
    assert (BADGE in row) is partly
    assert ("data-partly-paid" in row) is partly
    state = invoice.state.value  # beside the state's own badge (BOOKED reads "open")
    assert f'<span class="badge badge-{state.lower()}">{states.label(state)}</span>' in row


@pytest.mark.parametrize("document", CASES, ids=IDS, indirect=True)
def test_the_exports_say_the_same(viewer_client, document):
    invoice, partly = document
    word = "yes" if partly else "no"
    assert csv_row(viewer_client.get("/invoices/export.csv"), invoice)[PARTLY_COLUMN] == word
    assert xlsx_row(viewer_client.get("/invoices/export.xlsx"), invoice)[PARTLY_COLUMN] == word


def test_a_credit_note_is_never_partly_paid(admin_client, app):
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE, amount_due=D("50.00"))
    assert "partly paid" not in row_of(admin_client.get("/invoices/"), note)


def statements_for_the_list(client) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/invoices/").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_page_reads_what_was_received_in_one_query(admin_client, app, clock):
    paid_part(make_invoice(), clock)
    db.session.commit()
    few = statements_for_the_list(admin_client)
    for _ in range(8):
        paid_part(make_invoice(), clock)
    db.session.commit()
    assert statements_for_the_list(admin_client) == few
