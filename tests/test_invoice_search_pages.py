"""A search's page reads its matching customers first (``web.invoice_search``) and its
rows in another statement than the totals: every sort, both ways, Next and Previous and
a page typed in must show exactly the rows of a plain ORDER BY of ``conditions`` —
customers of the same name mixed by document id, a document found by its own number,
a filter beside the word, and a word in more names than the bound."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.documents.models import DocumentKind, Invoice, InvoiceState
from collector.extensions import db
from collector.web import invoice_search
from collector.web.invoice_pages import decode, joined
from collector.web.invoice_query import SORTS, InvoiceFilter, conditions, ordering
from collector.web.overview import export_rows, list_invoices, list_totals, search_invoices
from tests.support.factories import make_customer, make_invoice, make_profile

EVERY_SORT = [f"{sign}{key}" for key in sorted(SORTS) for sign in ("", "-")]
PER_PAGE = 3
SEARCHES = {
    "a word": InvoiceFilter(q="kapsalon"),
    "a word + EXPIRED": InvoiceFilter(q="kapsalon", state=InvoiceState.EXPIRED),
    "a number's part": InvoiceFilter(q="zuid"),
    "two letters": InvoiceFilter(q="an"),
}


@pytest.fixture
def searched(app, clock):
    """Customers whose names share "Kapsalon" — two of the same name, one far from the
    others in name order — between customers without it, one of whom has a document
    whose number holds the word; every column with ties and gaps."""
    today = clock.today()
    direct = make_profile(name="Direct")
    names = [
        "Acme NV",
        "Kapsalon Anna",
        "Kapsalon Anna",
        "Kapsalon Bert",
        "Lunchbar Zuid",
        "Salon Kapsalon-Zuid",
        "Zebra BV",
    ]
    customers = [make_customer(name=n) for n in names]
    for i in range(30):
        credit = i % 7 == 6
        state = [InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PAID][i % 3]
        make_invoice(
            kind=DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
            number=f"KAPSALON-ZUID-{i}" if i % 11 == 10 else f"N{i % 4}",
            customer=customers[(i * 3) % len(customers)],
            profile=direct if i % 2 else None,
            invoice_date=today - timedelta(days=10 * (i % 3)),
            due_date=None if i % 5 == 3 else today - timedelta(days=20 * (i % 4)),
            total_incl_vat=Decimal("121.00") if i % 2 else Decimal("50.00"),
            amount_due=Decimal("0.00") if state == InvoiceState.PAID else Decimal(5 * (i % 3)),
            state=InvoiceState.ARCHIVED if credit else state,
            pdf_key="pdfs/x.pdf" if i % 3 == 1 else None,
        )
    db.session.commit()


def plain_order(criteria: InvoiceFilter, sort: str, today) -> list[int]:
    """The ids ``criteria`` selects in ``sort`` order, by one ORDER BY over everything."""
    order, _join = ordering(sort)
    query = sa.select(Invoice.id).where(*conditions(criteria, today))
    return list(db.session.scalars(joined(query, SORTS[sort.removeprefix("-")]).order_by(*order)))


def walk(criteria: InvoiceFilter, sort: str) -> tuple[list[int], list[int]]:
    """The rows the Next links show from the first page to the last, and those the
    Previous links show back from the last page to the first (from page 2, the link is
    to the first page itself, as the pager makes it)."""
    pages = [list_invoices(criteria, 1, PER_PAGE, sort)]
    while len(pages[-1].items) == PER_PAGE and len(pages) < 30:
        after = decode(pages[-1].last, sort)
        pages.append(list_invoices(criteria, len(pages) + 1, PER_PAGE, sort, position=after))
    if len(pages) > 1 and not pages[-1].items:
        pages.pop()  # the page after a full last one: empty, and no Previous from it
    forward = [d.id for page in pages for d in page.items]
    page, back = pages[-1], []
    for number in range(len(pages) - 1, 0, -1):
        back = [d.id for d in page.items] + back
        before = decode(page.first, sort, before=True) if number > 1 else None
        page = list_invoices(criteria, number, PER_PAGE, sort, position=before)
    return forward, [d.id for d in page.items] + back


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("sort", EVERY_SORT)
def test_a_search_pages_exactly_as_one_order_by(searched, clock, sort, search):
    criteria = SEARCHES[search]
    expected = plain_order(criteria, sort, clock.today())
    assert expected, "the seed has rows for every search"
    forward, back = walk(criteria, sort)
    assert forward == expected
    assert back == expected
    for number in range(1, len(expected) // PER_PAGE + 2):
        typed = list_invoices(criteria, number, PER_PAGE, sort)
        start = (number - 1) * PER_PAGE
        assert [d.id for d in typed.items] == expected[start : start + PER_PAGE]


@pytest.mark.parametrize("sort", ["customer", "-customer", "-amount_due"])
def test_a_word_in_more_names_than_the_bound_pages_the_same(searched, clock, monkeypatch, sort):
    monkeypatch.setattr(invoice_search, "MAX_CUSTOMERS", 2)  # four names hold the word
    criteria = SEARCHES["a word"]
    forward, _back = walk(criteria, sort)
    assert forward == plain_order(criteria, sort, clock.today())


@pytest.mark.parametrize("bound", [None, 2])
def test_the_totals_the_api_and_the_export_count_what_the_pages_show(
    searched, clock, monkeypatch, bound
):
    if bound is not None:
        monkeypatch.setattr(invoice_search, "MAX_CUSTOMERS", bound)
    for criteria in (SEARCHES["a word + EXPIRED"], SEARCHES["a word"]):
        forward, _back = walk(criteria, "customer")
        assert list_totals(criteria).count == len(forward)
        api = search_invoices(criteria, 1, 500, "customer")
        assert api.total == len(forward) and [d.id for d in api.items] == forward
        exported = [row.number for row in export_rows(criteria, "customer")]
        assert exported == [db.session.get(Invoice, i).number for i in forward]
