"""The invoice list's Previous and Next links carry the position of the page's first or
last row (its sort value and id), so a deep page is read from the sort's index instead of
counting past every row before it. Walking the links must show every document once, in
the sort's order, ties broken by id — for every sort, both ways, under a filter — and a
damaged position is a clear 400, never a 500."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from collector.documents.models import DocumentKind, InvoiceState
from collector.extensions import db
from collector.web.invoice_pages import encode
from collector.web.invoice_query import SORTS
from tests.support.factories import make_customer, make_invoice, make_profile
from tests.test_invoice_list import expected_order, shown, total_count, totals_of

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
PREV = re.compile(r'<a rel="prev" href="([^"]+)"')
POSITION = re.compile(r'data-pager="position">([^<]+)<')
EVERY_SORT = [f"{sign}{key}" for key in sorted(SORTS) for sign in ("", "-")]


def link(pattern, response) -> str | None:
    found = pattern.search(response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


def position_text(response) -> str:
    return POSITION.search(response.get_data(as_text=True)).group(1)


@pytest.fixture
def ties(app, clock):
    """Eleven documents with few distinct values in every column: ties everywhere, rows
    without a due date, a profile or days overdue, and two customers of the same name."""
    today = clock.today()
    direct = make_profile(name="Direct")
    customers = [make_customer(name=n) for n in ("Same NV", "Same NV", "Other BV")]
    documents = []
    for i in range(11):
        credit = i % 5 == 4
        state = [InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PAID][i % 3]
        documents.append(
            make_invoice(
                kind=DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
                number=f"N{i % 3}",
                customer=customers[i % 3],
                profile=direct if i % 2 else None,
                invoice_date=today - timedelta(days=10 * (i % 2)),
                due_date=None if i % 4 == 3 else today - timedelta(days=20 * (i % 3)),
                total_incl_vat=Decimal("121.00") if i % 2 else Decimal("50.00"),
                amount_due=Decimal("0.00") if state == InvoiceState.PAID else Decimal("50.00"),
                state=InvoiceState.ARCHIVED if credit else state,
                pdf_key="pdfs/x.pdf" if i % 3 == 1 else None,
            )
        )
    return documents


def walk(client, first: str, pattern=NEXT) -> tuple[list[int], list[str], list]:
    """Follow ``pattern``'s link from ``first`` to the end: the rows in the order seen,
    each page's "Page n of m", and the responses."""
    rows, positions, responses, url = [], [], [], first
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = shown(response)
        rows += page if pattern is NEXT else page[::-1]
        positions.append(position_text(response))
        responses.append(response)
        url = link(pattern, response)
        assert len(responses) < 20, "the links go round in circles"
    return rows, positions, responses


@pytest.mark.parametrize("sort", EVERY_SORT)
def test_next_and_previous_walk_every_sort_with_its_ties(admin_client, ties, clock, sort):
    expected = expected_order(ties, sort.removeprefix("-"), sort.startswith("-"), clock.today())
    rows, positions, responses = walk(admin_client, f"/invoices/?sort={sort}&per_page=3")
    assert rows == expected
    assert positions == [f"Page {n}" for n in (1, 2, 3, 4)]
    # And back from the last page: the same rows, the same page numbers.
    back_rows, back_positions, _ = walk(admin_client, link(NEXT, responses[-2]), PREV)
    assert back_rows[::-1] == expected
    assert back_positions == [f"Page {n}" for n in (4, 3, 2, 1)]
    # The count comes with the totals, for the page the list shows.
    counted = totals_of(admin_client, responses[2]).get_data(as_text=True)
    assert 'data-pager="position">Page 3 of 4<' in counted


def test_the_links_keep_the_filter_and_its_totals(admin_client, ties, clock):
    expired = [d for d in ties if d.state == InvoiceState.EXPIRED]
    first = "/invoices/?state=EXPIRED&sort=-due_date&per_page=1"
    rows, positions, responses = walk(admin_client, first)
    assert rows == expected_order(expired, "due_date", True, clock.today())
    assert all(total_count(totals_of(admin_client, r)) == len(expired) for r in responses)
    assert all("state=EXPIRED" in link(NEXT, r) for r in responses[:-1])


def test_a_search_pages_by_position_too(admin_client, ties, clock):
    same = [d for d in ties if d.customer.name == "Same NV"]
    rows, _positions, _responses = walk(admin_client, "/invoices/?q=same&sort=customer&per_page=2")
    assert rows == expected_order(same, "customer", False, clock.today())


def test_first_page_has_no_previous_and_last_page_no_next(admin_client, ties):
    first = admin_client.get("/invoices/?per_page=5")
    assert link(PREV, first) is None and "after=" in link(NEXT, first)
    assert "page=2" in link(NEXT, first)
    _rows, _positions, responses = walk(admin_client, "/invoices/?per_page=5")
    last = responses[-1]
    assert link(NEXT, last) is None and len(shown(last)) == 1
    # Previous from page 2 is the first page itself; from page 3, a position.
    assert not re.search(r"[?&](page|before)=", link(PREV, responses[1]))
    assert "before=" in link(PREV, last) and "page=2" in link(PREV, last)
    assert 'rel="first"' in last.get_data(as_text=True)


def test_a_page_typed_in_by_number_still_opens_and_links_on(admin_client, ties, clock):
    expected = expected_order(ties, "amount", False, clock.today())
    response = admin_client.get("/invoices/?sort=amount&per_page=3&page=2")
    assert shown(response) == expected[3:6]
    assert shown(admin_client.get(link(NEXT, response))) == expected[6:9]


def test_a_new_document_does_not_shift_the_next_page(admin_client, ties, clock):
    expected = expected_order(ties, "invoice_date", True, clock.today())
    first = admin_client.get("/invoices/?per_page=4")
    newer = make_invoice(invoice_date=clock.today())  # would push every offset by one
    second = admin_client.get(link(NEXT, first))
    assert shown(first) == expected[:4] and shown(second) == expected[4:8]
    assert newer.id not in shown(second)


def test_previous_near_the_start_shows_the_whole_first_page(admin_client, ties, clock):
    expected = expected_order(ties, "invoice_date", True, clock.today())
    # Page 3 was reached, then the rows before it went (archived elsewhere, say): its
    # Previous link would find fewer than a page, so the first page is shown in full.
    third = walk(admin_client, "/invoices/?per_page=2")[2][2]
    gone = [d for d in ties if d.id in expected[:3]]
    for document in gone:
        db.session.delete(document)
    db.session.commit()
    response = admin_client.get(link(PREV, third))
    assert response.status_code == 200
    assert shown(response) == expected[3:5] and position_text(response) == "Page 1"


def token(*parts) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


DAMAGED = [
    {"after": "not-a-position"},
    {"after": "%%%"},
    {"after": token("-invoice_date")},  # cut short
    {"after": token("due_date", "2026-01-01", 5)},  # another order's
    {"after": token("-invoice_date", "yesterday", 5)},
    {"after": token("-invoice_date", None, 5)},  # every document has a date
    {"after": token("-invoice_date", "2026-01-01", 2**40)},
    {"after": token("-invoice_date", "2026-01-01", "5")},
    {"after": token("-invoice_date", "2026-01-01", True)},
    {"after": token("-amount", "1.005", 5), "sort": "-amount"},  # a fraction of a cent
    {"after": token("-amount", "NaN", 5), "sort": "-amount"},
    {"after": token("-amount", "1E+999999", 5), "sort": "-amount"},
    {"after": token("state", "LOST", 5), "sort": "state"},
    {"after": token("pdf", "yes", 5), "sort": "pdf"},
    {"after": token("customer", "a\x00b", 5), "sort": "customer"},
    {"after": token("customer", "x" * 300, 5), "sort": "customer"},
    {"after": "A" * 1000},
    {"before": token("-invoice_date", ["2026-01-01"], 5)},
    {
        "after": encode("-invoice_date", "2026-01-01", 5),
        "before": encode("-invoice_date", "2026-01-01", 5),
    },
]


@pytest.mark.parametrize("args", DAMAGED)
def test_a_damaged_position_is_a_clear_400(admin_client, ties, args):
    response = admin_client.get("/invoices/", query_string=args)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This page link is damaged or belongs to another order of the list." in page
    assert shown(response) == []


def test_a_position_past_the_end_is_an_empty_page_not_an_error(admin_client, ties):
    after = encode("-invoice_date", "1999-01-01", 1)
    response = admin_client.get("/invoices/", query_string={"after": after, "page": 9})
    assert response.status_code == 200 and shown(response) == []
    assert total_count(totals_of(admin_client, response)) == len(ties)


def test_sort_links_and_the_filter_form_drop_the_position(admin_client, ties):
    first = admin_client.get("/invoices/?per_page=3")
    second = admin_client.get(link(NEXT, first))
    page = second.get_data(as_text=True)
    headers = re.findall(r'data-sort="\w+"[^>]*><a href="([^"]+)"', page)
    assert headers and not any(re.search(r"[?&](page|after)=", h) for h in headers)
    assert 'name="after"' not in page


def test_a_profile_renamed_between_pages_goes_on_after_its_old_name(admin_client, app):
    by_name = {n: make_profile(name=n) for n in ("Alpha", "Bravo", "Charlie")}
    docs = {n: [make_invoice(profile=p).id for _ in range(2)] for n, p in by_name.items()}
    first = admin_client.get("/invoices/?sort=profile&per_page=3")
    assert shown(first) == [*docs["Alpha"], docs["Bravo"][0]]
    by_name["Bravo"].name = "Zulu"
    db.session.commit()
    second = admin_client.get(link(NEXT, first))
    assert second.status_code == 200
    assert shown(second) == [*docs["Charlie"], docs["Bravo"][0]]
