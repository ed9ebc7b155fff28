"""A customer as an account: the balance (open, overdue, unapplied credit, paid this
year), the statement with its running balance and CSV, and the list sorted by what is
open and searched by name, number or email."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from collector.core import clock as core_clock
from collector.direct_debit.models import CollectionStatus
from collector.documents import balances, statements
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.web.filters import money
from tests.support.factories import make_collection, make_customer, make_invoice, make_mandate

TODAY = date(2027, 3, 15)  # the business date every test here is set on
ROW = re.compile(r'<tr data-customer="(\d+)"')
LINE = re.compile(r'<tr data-line="([a-z_]+)"')


@pytest.fixture(autouse=True)
def on_today(app, clock):
    clock.set_local(TODAY, time(12))


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC instant given as the company's wall-clock time (Europe/Brussels, UTC+1 in
    winter)."""
    return datetime.combine(day, time(hour, minute), tzinfo=core_clock.zone()).astimezone(UTC)


def pay(invoice, amount: str, when: datetime, **overrides) -> Payment:
    values = {
        "invoice_id": invoice.id,
        "key": f"test:{uuid.uuid4()}",
        "source": PaymentSource.BANK,
        "kind": PaymentKind.PAYMENT,
        "amount": Decimal(amount),
        "currency": invoice.currency,
        "occurred_at": when,
    }
    row = Payment(**{**values, **overrides})
    db.session.add(row)
    db.session.commit()
    return row


def invoice(customer, number: str, on: date, total: str, due: str | None = None, **overrides):
    amount = Decimal(total)
    values = {
        "customer": customer,
        "number": number,
        "invoice_date": on,
        "due_date": on + timedelta(days=30),
        "total_excl_vat": amount,
        "total_vat": Decimal("0.00"),
        "total_incl_vat": amount,
        "amount_due": Decimal(total if due is None else due),
    }
    return make_invoice(**{**values, **overrides})


def credit_note(customer, number: str, on: date, total: str, credits=None):
    return invoice(
        customer,
        number,
        on,
        total,
        due="0.00",
        kind=DocumentKind.CREDIT_NOTE,
        due_date=None,
        state=InvoiceState.ARCHIVED,
        credited_invoice_id=credits.id if credits else None,
    )


# -- the balance ------------------------------------------------------------------------------


@pytest.fixture
def books():
    """A customer with open, overdue, credited and paid documents, and a stranger's."""
    acme = make_customer(name="Acme NV")
    march, feb = date(2027, 3, 1), date(2027, 2, 1)
    current = invoice(acme, "A-1", march, "121.00", due="100.00")  # due 31 March
    credit_note(acme, "CNA-1", march, "21.00", credits=current)  # applied: not unapplied
    credit_note(acme, "CNA-2", march, "30.00")  # credits nothing here: unapplied
    late = invoice(
        acme, "A-2", date(2027, 1, 10), "200.00", due="150.00", state=InvoiceState.EXPIRED
    )
    pay(late, "50.00", at(feb))  # partly paid this year
    invoice(acme, "A-3", march, "80.00", state=InvoiceState.PENDING)  # being collected
    new_year = invoice(
        acme, "A-4", date(2026, 12, 1), "100.00", due="0.00", state=InvoiceState.PAID
    )
    pay(new_year, "100.00", at(date(2027, 1, 1), 0, 30))  # 23:30 UTC on 31 December
    old = invoice(acme, "A-5", date(2026, 11, 1), "60.00", due="0.00", state=InvoiceState.PAID)
    pay(old, "60.00", at(date(2026, 12, 31), 23, 0))  # last year, even if only just
    pay(old, "999.00", at(feb), cancelled_at=at(feb))  # stopped counting
    invoice(acme, "A-6", feb, "70.00", state=InvoiceState.ARCHIVED)  # closed unpaid
    invoice(make_customer(), "Z-1", feb, "500.00", state=InvoiceState.EXPIRED)  # not Acme's
    return acme


def test_balance_adds_up_open_overdue_credit_and_this_years_payments(books):
    figures = balances.balance(books.id, "EUR", TODAY)
    assert figures.open == Decimal("330.00")  # 100 + 150 + 80
    assert figures.open_count == 3
    assert figures.overdue == Decimal("150.00")  # A-2 only: are due later
    assert figures.overdue_count == 1
    assert figures.credited == Decimal("30.00")
    assert figures.paid_this_year == Decimal("150.00")  # 50 + 100, not last year's 60
    assert figures.year == 2027


def test_paid_this_year_takes_refunds_off(books):
    partly = next(i for i in _documents(books) if i.number == "A-2")
    paid = next(p for p in partly.payments)
    pay(partly, "-20.00", at(date(2027, 3, 2)), kind=PaymentKind.REFUND, reverses_id=paid.id)
    assert balances.balance(books.id, "EUR", TODAY).paid_this_year == Decimal("130.00")


def test_balance_is_shown_on_the_customers_page(viewer_client, books):
    page = viewer_client.get(f"/customers/{books.id}").get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">[^<]*<strong>([^<]+)</strong>', page))
    expected = {"open": "330.00", "overdue": "150.00", "credited": "30.00", "paid": "150.00"}
    assert figures == {name: money(Decimal(amount)) for name, amount in expected.items()}
    assert "Paid in 2027" in page


def _documents(customer):
    return list(db.session.scalars(db.select(Invoice).where(Invoice.customer_id == customer.id)))


# -- the statement ----------------------------------------------------------------------------


@pytest.fixture
def account():
    """Documents, a credit note, payments, a refund, a mail, an invoice paid in Teamleader,
    one archived unpaid and a direct debit, each on a day of its own but one."""
    acme = make_customer(name="Acme NV")
    first = invoice(acme, "2027/1", date(2027, 1, 10), "121.00", due="70.00")
    db.session.add(
        DocumentMail(
            invoice_id=first.id,
            kind=DocumentMailKind.INVITATION,
            key="invitation",
            status=DocumentMailStatus.SENT,
            sent_at=at(date(2027, 1, 11)),
        )
    )
    db.session.commit()
    credit_note(acme, "CN2027/1", date(2027, 1, 20), "21.00", credits=first)
    paid = pay(first, "40.00", at(date(2027, 2, 1), 9))
    # Booked the same day as the payment: documents come first on a day.
    second = invoice(
        acme,
        "2027/2",
        date(2027, 2, 1),
        "50.00",
        due="0.00",
        state=InvoiceState.PAID,
        teamleader_paid_at=at(date(2027, 2, 4)),
    )
    pay(first, "-10.00", at(date(2027, 2, 5)), kind=PaymentKind.REFUND, reverses_id=paid.id)
    invoice(
        acme,
        "2027/3",
        date(2027, 2, 6),
        "30.00",
        state=InvoiceState.ARCHIVED,
        state_changed_at=at(date(2027, 2, 10)),
    )
    mandate = make_mandate(customer=acme)
    make_collection(
        mandate=mandate, invoice=first, amount=Decimal("70.00"), collection_date=date(2027, 3, 18)
    )
    make_collection(
        mandate=mandate,
        invoice=first,
        amount=Decimal("70.00"),
        collection_date=date(2027, 3, 1),
        status=CollectionStatus.CANCELLED,  # its run was cancelled: nothing happened
    )
    return {"customer": acme, "first": first, "second": second}


EXPECTED = [
    # date, kind, document, amount, balance
    ("2027-01-10", "invoice", "2027/1", "121.00", "121.00"),
    ("2027-01-11", "mail", "2027/1", "", "121.00"),
    ("2027-01-20", "credit_note", "CN2027/1", "-21.00", "100.00"),
    ("2027-02-01", "invoice", "2027/2", "50.00", "150.00"),
    ("2027-02-01", "payment", "2027/1", "-40.00", "110.00"),
    ("2027-02-04", "settled_in_teamleader", "2027/2", "-50.00", "60.00"),
    ("2027-02-05", "reversal", "2027/1", "10.00", "70.00"),
    ("2027-02-06", "invoice", "2027/3", "30.00", "100.00"),
    ("2027-02-10", "written_off", "2027/3", "-30.00", "70.00"),
]


def _rows(lines):
    return [
        (
            line.on.isoformat(),
            line.kind,
            line.number,
            "" if line.amount is None else f"{line.amount:.2f}",
            f"{line.balance:.2f}",
        )
        for line in lines
    ]


def test_statement_is_in_date_order_with_a_running_balance(account):
    customer = account["customer"]
    shown = statements.statement(customer.id, "EUR")
    assert _rows(shown.lines) == EXPECTED
    # What the statement ends on is what the documents still ask: the first invoice's due.
    assert shown.closing == Decimal("70.00")
    assert shown.closing == balances.balance(customer.id, "EUR", TODAY).open


def test_statement_from_a_date_opens_with_the_balance_before_it(account):
    shown = statements.statement(
        account["customer"].id, "EUR", date_from=date(2027, 2, 2), date_to=date(2027, 2, 6)
    )
    assert shown.opening == Decimal("110.00")
    assert _rows(shown.lines) == EXPECTED[5:8]
    assert shown.closing == Decimal("100.00")


def test_statement_keeps_to_one_currency(account):
    invoice(account["customer"], "USD-1", date(2027, 3, 2), "999.00", currency="USD")
    assert _rows(statements.statement(account["customer"].id, "EUR").lines) == EXPECTED
    dollars = statements.statement(account["customer"].id, "USD")
    assert [(line.number, line.balance) for line in dollars.lines] == [("USD-1", Decimal("999.00"))]
    assert balances.currencies(account["customer"].id) == ["EUR", "USD"]


def test_customers_page_shows_the_statement_with_direct_debits(viewer_client, account):
    customer = account["customer"]
    page = viewer_client.get(f"/customers/{customer.id}").get_data(as_text=True)
    kinds = LINE.findall(page)
    # The direct debit (for information) comes in date order; the cancelled one not at all.
    assert kinds == [row[1] for row in EXPECTED] + ["collection", "closing"]
    assert "in a collection file" in page
    assert f'data-invoice="{account["second"].id}"' in page
    assert money(Decimal("-21.00")) in page  # the credit note, negative


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_statement_csv_has_a_header_iso_dates_and_plain_amounts(viewer_client, account):
    customer = account["customer"]
    response = viewer_client.get(f"/customers/{customer.id}/statement.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-{customer.id}-EUR.csv"'
    )
    rows = read_csv(response)
    assert rows[0] == ["date", "type", "document", "description", "detail", "amount", "balance"]
    assert [(r[0], r[1], r[2], r[5], r[6]) for r in rows[1:-1]] == EXPECTED
    assert rows[3] == [
        "2027-01-20",
        "credit_note",
        "CN2027/1",
        "Credit note",
        "",
        "-21.00",
        "100.00",
    ]
    assert rows[2][3:5] == ["Mail", "invitation sent"]
    assert rows[5][3:5] == ["Payment", "bank"]
    assert rows[-1] == [
        "2027-03-18",
        "collection",
        "2027/1",
        "Direct debit",
        "in a collection file",
        "",
        "70.00",
    ]


def test_statement_csv_follows_the_period_and_opens_with_the_balance(viewer_client, account):
    customer = account["customer"]
    query = "?date_from=2027-02-02&date_to=2027-02-06&currency=EUR"
    rows = read_csv(viewer_client.get(f"/customers/{customer.id}/statement.csv{query}"))
    assert rows[1] == ["2027-02-02", "opening", "", "Opening balance", "", "", "110.00"]
    assert [r[2] for r in rows[2:]] == ["2027/2", "2027/1", "2027/3"]


def test_statement_csv_defuses_formulas(viewer_client, app):
    customer = make_customer()
    invoice(customer, "=HYPERLINK(1)", date(2027, 3, 1), "10.00")
    rows = read_csv(viewer_client.get(f"/customers/{customer.id}/statement.csv"))
    assert rows[1][2] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "query",
    ["date_from=tomorrow", "date_from=2027-03-02&date_to=2027-03-01", "currency=euro", "page=2"],
)
def test_a_bad_statement_query_is_400(viewer_client, account, query):
    customer = account["customer"]
    page = viewer_client.get(f"/customers/{customer.id}?{query}")
    assert page.status_code == 400
    assert 'class="error"' in page.get_data(as_text=True)
    assert viewer_client.get(f"/customers/{customer.id}/statement.csv?{query}").status_code == 400


# -- the list ---------------------------------------------------------------------------------


@pytest.fixture
def crowd():
    """Four customers owing 0, 10, 250 and 40 (the last in two documents)."""
    people = {
        "none": make_customer(name="Delta"),
        "small": make_customer(name="Alpha", email="pay@alpha.example"),
        "big": make_customer(name="Charlie", customer_number="K-7"),
        "mid": make_customer(name="Bravo"),
    }
    invoice(people["small"], "S-1", date(2027, 3, 1), "10.00")
    invoice(people["big"], "B-1", date(2027, 1, 1), "250.00", state=InvoiceState.EXPIRED)
    invoice(people["big"], "B-2", date(2027, 1, 1), "900.00", due="0.00", state=InvoiceState.PAID)
    invoice(people["mid"], "M-1", date(2027, 3, 1), "25.00")
    invoice(people["mid"], "M-2", date(2027, 3, 1), "15.00", state=InvoiceState.PENDING)
    return people


def shown(response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (None, ["small", "mid", "big", "none"]),  # by name
        ("name", ["small", "mid", "big", "none"]),
        ("-name", ["none", "big", "mid", "small"]),
        ("-balance", ["big", "mid", "small", "none"]),
        ("balance", ["none", "small", "mid", "big"]),
    ],
)
def test_list_sorts_by_name_and_by_open_amount(viewer_client, crowd, sort, order):
    response = viewer_client.get("/customers/", query_string={"sort": sort} if sort else {})
    assert shown(response) == [crowd[name].id for name in order]


def test_list_pages_in_balance_order(viewer_client, crowd):
    second = viewer_client.get("/customers/?sort=-balance&per_page=2&page=2")
    assert shown(second) == [crowd["small"].id, crowd["none"].id]


def test_list_shows_what_each_has_open(viewer_client, crowd):
    page = viewer_client.get("/customers/?sort=-balance").get_data(as_text=True)
    assert re.findall(r'data-open="([^"]*)"', page) == ["250.00", "40.00", "10.00", "0.00"]
    assert money(Decimal("250.00")) in page


def test_list_says_when_open_documents_are_in_several_currencies(viewer_client, crowd):
    invoice(crowd["small"], "S-2", date(2027, 3, 1), "5.00", currency="USD")
    page = viewer_client.get("/customers/?q=alpha").get_data(as_text=True)
    assert 'data-open=""' in page and "several currencies" in page


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("brav", {"mid"}),  # name
        ("PAY@ALPHA", {"small"}),  # email
        ("k-7", {"big"}),  # a customer number changed here
        ("no such", set()),
    ],
)
def test_list_search_finds_by_name_number_or_email(viewer_client, crowd, q, expected):
    response = viewer_client.get("/customers/", query_string={"q": q, "sort": "-balance"})
    assert set(shown(response)) == {crowd[name].id for name in expected}


def test_list_search_finds_by_teamleader_id_when_the_number_was_changed(viewer_client, crowd):
    big = crowd["big"]
    assert shown(viewer_client.get("/customers/", query_string={"q": big.teamleader_id})) == [
        big.id
    ]


def test_sort_links_keep_the_search_and_turn_round(viewer_client, crowd):
    page = viewer_client.get("/customers/?q=a&sort=-balance").get_data(as_text=True)
    balance_link = re.search(r'href="([^"]+)" data-sort="balance"', page).group(1)
    name_link = re.search(r'href="([^"]+)" data-sort="name"', page).group(1)
    assert "sort=balance" in balance_link and "q=a" in balance_link
    assert "sort=name" in name_link and "q=a" in name_link
    assert 'aria-sort="descending"' in page


def test_bad_sort_is_400(viewer_client, crowd):
    response = viewer_client.get("/customers/?sort=amount")
    assert response.status_code == 400
    assert 'data-field="sort"' in response.get_data(as_text=True)


def test_customers_csv_takes_the_lists_sort(viewer_client, crowd):
    # The list's "Download CSV" link carries every argument of the list, sort included.
    response = viewer_client.get("/customers.csv?sort=-balance&q=alpha")
    assert response.status_code == 200
    assert [row[1] for row in read_csv(response)[1:]] == ["Alpha"]


def test_the_teamleader_id_is_a_link_target_not_a_label(viewer_client, crowd):
    mid = crowd["mid"]
    mid.teamleader_url = f"https://focus.teamleader.eu/company_detail.php?id={mid.teamleader_id}"
    db.session.commit()
    for path in ("/customers/", f"/customers/{mid.id}"):
        page = viewer_client.get(path).get_data(as_text=True)
        assert f'href="{mid.teamleader_url}"' in page
        assert f">{mid.teamleader_id}</a>" not in page
        assert ">Bravo<" in page or ">Bravo</a>" in page


# -- who may look -----------------------------------------------------------------------------


def test_login_is_required(client, account):
    customer = account["customer"]
    for path in (
        "/customers/?sort=-balance",
        f"/customers/{customer.id}",
        f"/customers/{customer.id}/statement.csv",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_customer_has_no_statement(viewer_client, app):
    assert viewer_client.get("/customers/4242/statement.csv").status_code == 404
