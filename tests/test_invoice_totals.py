"""The invoice list answers with its page alone; the totals of the whole filter (count,
amount, amount due, per currency) and the page count are a page of their own,
/invoices/totals, which the list links to and its script puts in place
(tests/browser/test_list_totals.py). At a million documents a sum over the filter costs
ten pages: the list must not run one, and must know whether there is a Next page without
counting."""

from __future__ import annotations

import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.documents.models import DocumentKind, InvoiceState
from collector.extensions import db
from tests.support.factories import make_invoice
from tests.test_invoice_list import shown, total_count, totals_of

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
D = Decimal


@contextmanager
def statements():
    """The SQL statements sent while the block runs, lower-cased."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def sums_or_counts_invoices(statement: str) -> bool:
    """A sum or count over the documents of the filter (the page's own rows, read by id,
    may add up their payments)."""
    over_the_page = "where invoice.id in (" in statement
    aggregates = "sum(" in statement or "count(" in statement
    return "from invoice" in statement and aggregates and not over_the_page


@pytest.fixture
def books(app):
    """Invoices and credit notes in two currencies, some owed, some not."""
    return [
        make_invoice(total_incl_vat=D("100.00"), amount_due=D("100.00")),
        make_invoice(total_incl_vat=D("250.00"), amount_due=D("0.00"), state=InvoiceState.PAID),
        make_invoice(
            kind=DocumentKind.CREDIT_NOTE,
            total_incl_vat=D("30.00"),
            amount_due=D("0.00"),
            state=InvoiceState.ARCHIVED,
            due_date=None,
        ),
        make_invoice(currency="USD", total_incl_vat=D("12.50"), amount_due=D("12.50")),
        make_invoice(
            currency="USD",
            kind=DocumentKind.CREDIT_NOTE,
            total_incl_vat=D("2.50"),
            amount_due=D("0.00"),
            state=InvoiceState.ARCHIVED,
            due_date=None,
        ),
    ]


def per_currency(response) -> dict[str, dict[str, Decimal]]:
    page = response.get_data(as_text=True)
    lines = re.findall(r'<p data-currency="(\w+)">(.*?)</p>', page, re.S)
    return {currency: totals_of_line(line) for currency, line in lines}


def totals_of_line(line: str) -> dict[str, Decimal]:
    found = re.findall(r'data-total="(\w+)" data-value="([-\d.]+)"', line)
    return {name: D(value) for name, value in found}


def test_the_list_page_runs_no_sum_and_no_count(admin_client, books):
    with statements() as seen:
        response = admin_client.get("/invoices/", query_string={"state": "BOOKED"})
    assert response.status_code == 200 and len(shown(response)) == 2
    assert not [s for s in seen if sums_or_counts_invoices(s)], "the list summed or counted"
    page = response.get_data(as_text=True)
    assert "data-totals=" not in page and "in all" not in page
    assert 'data-totals-from="/invoices/totals?state=BOOKED"' in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {},
            {
                "EUR": {"amount": D("320.00"), "amount_due": D("100.00")},  # 100 + 250 - 30
                "USD": {"amount": D("10.00"), "amount_due": D("12.50")},
            },
        ),
        (
            {"kind": "credit_note"},
            {
                "EUR": {"amount": D("-30.00"), "amount_due": D("0.00")},
                "USD": {"amount": D("-2.50"), "amount_due": D("0.00")},
            },
        ),
        ({"state": "BOOKED", "q": "nobody at all"}, {}),
        ({"state": "PAID"}, {"EUR": {"amount": D("250.00"), "amount_due": D("0.00")}}),
    ],
    ids=["everything", "credit notes", "no match", "paid"],
)
def test_the_totals_page_adds_up_the_filter(admin_client, books, args, expected):
    response = admin_client.get("/invoices/totals", query_string=args)
    assert response.status_code == 200
    assert per_currency(response) == expected
    listed = admin_client.get("/invoices/", query_string={**args, "per_page": 200})
    assert total_count(response) == len(shown(listed))


def test_the_totals_page_is_a_page_with_the_count_and_a_way_back(admin_client, books):
    args = {"sort": "-amount", "per_page": "2", "page": "2"}
    response = admin_client.get("/invoices/totals", query_string=args)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "<h1>Totals of this list</h1>" in page and 'data-totals="5"' in page
    assert 'data-pager="position">Page 2 of 3<' in page
    assert 'data-pager="count">· 5 in all<' in page
    back = re.search(r'<a href="(/invoices/\?[^"]+)">‹ Back to the list', page).group(1)
    assert set(back.replace("&amp;", "&").split("?")[1].split("&")) == {
        "sort=-amount",
        "per_page=2",
        "page=2",
    }


def test_the_list_links_its_own_totals_with_the_filter_and_the_page(admin_client, books):
    first = admin_client.get("/invoices/", query_string={"per_page": 2, "kind": "invoice"})
    next_link = NEXT.search(first.get_data(as_text=True)).group(1).replace("&amp;", "&")
    counted = totals_of(admin_client, admin_client.get(next_link))
    assert 'data-pager="position">Page 2 of 2<' in counted.get_data(as_text=True)
    assert per_currency(counted) == {
        "EUR": {"amount": D("350.00"), "amount_due": D("100.00")},
        "USD": {"amount": D("12.50"), "amount_due": D("12.50")},
    }


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (
            {"date_from": "2026-12-01", "date_to": "2026-11-01"},
            "date_to",
            "De einddatum ligt vóór de begindatum",
        ),
        ({"sort": "evil"}, "sort", None),
        ({"colour": "red"}, "colour", None),
        ({"after": "not-a-position"}, "page", None),
    ],
)
def test_a_refused_argument_is_a_400_saying_why(admin_client, books, args, field, message):
    response = admin_client.get(
        "/invoices/totals", query_string=args, headers={"Accept-Language": "nl"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-field="{field}"' in page and "data-totals=" not in page
    listed = admin_client.get("/invoices/", query_string=args, headers={"Accept-Language": "nl"})
    assert listed.status_code == 400
    said = refusal(page, field)
    assert said == refusal(listed.get_data(as_text=True), field)  # the list's own words
    if message:
        assert message in said


def refusal(page: str, field: str) -> str:
    return re.search(rf'data-field="{field}">(.*?)</p>', page, re.S).group(1)


def test_login_is_required(client, books):
    response = client.get("/invoices/totals")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_viewer_sees_the_totals(viewer_client, books):
    assert viewer_client.get("/invoices/totals").status_code == 200


# -- Next, without a count ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["first page", "typed in", "after a position"])
@pytest.mark.parametrize("rows", [3, 4], ids=["exactly a page", "one more"])
def test_next_shows_when_a_row_follows_the_page_without_a_count(admin_client, app, how, rows):
    per_page = 3
    # The page looked at holds the documents from the fourth on (page 2), or the first.
    before = 0 if how == "first page" else per_page
    for _ in range(before + rows):
        make_invoice()
    url = f"/invoices/?per_page={per_page}"
    if how == "typed in":
        url += "&page=2"
    elif how == "after a position":
        first = admin_client.get(url).get_data(as_text=True)
        url = NEXT.search(first).group(1).replace("&amp;", "&")
    with statements() as seen:
        response = admin_client.get(url)
    assert len(shown(response)) == per_page
    assert bool(NEXT.search(response.get_data(as_text=True))) == (rows > per_page)
    assert not [s for s in seen if sums_or_counts_invoices(s)], "the page was counted"
