"""The invoice list as the finance team works it: sort by any column, totals of the whole
filtered set (a page of their own the list links to: tests/test_invoice_totals.py), one
search box, days overdue and its filter, partly paid, and the export of
the filtered list as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest

from collector.documents.models import (
    DocumentKind,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.web.invoice_query import SORTS
from tests.support.factories import make_customer, make_invoice, make_profile

ROW = re.compile(r'<tr data-invoice="(\d+)"')
TOTAL = re.compile(r'data-total="(\w+)" data-value="([-\d.]+)"')
TOTALS_FROM = re.compile(r'data-totals-from="([^"]+)"')


def shown(response) -> list[int]:
    """The ids of the documents in the list's table, in page order."""
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def totals(response) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in TOTAL.findall(response.get_data(as_text=True))}


def totals_of(client, response):
    """The totals page the list ``response`` links to: what its script puts in the list."""
    url = TOTALS_FROM.search(response.get_data(as_text=True)).group(1).replace("&amp;", "&")
    found = client.get(url)
    assert found.status_code == 200, (url, found.status_code)
    return found


def total_count(response) -> int:
    return int(re.search(r'data-totals="(\d+)"', response.get_data(as_text=True)).group(1))


def row_of(response, invoice) -> str:
    page = response.get_data(as_text=True)
    return re.search(rf'<tr data-invoice="{invoice.id}".*?</tr>', page, re.S).group(0)


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def read_xlsx(response) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    return list(book.active.iter_rows(values_only=True))


# -- sorting ------------------------------------------------------------------------------


@pytest.fixture
def mixed(app, clock):
    """Five documents whose every column orders them differently, with ties to break."""
    today = clock.today()
    direct, transfer = make_profile(name="Direct"), make_profile(name="Transfer")
    alpha, bravo, charlie = (make_customer(name=n) for n in ("Alpha", "Bravo", "Charlie"))
    return [
        make_invoice(
            number="N1003",
            customer=charlie,
            profile=transfer,
            invoice_date=today - timedelta(days=90),
            due_date=today - timedelta(days=60),
            state=InvoiceState.EXPIRED,
            amount_due=Decimal("50.00"),
        ),
        make_invoice(
            number="N1001",
            customer=alpha,
            invoice_date=today - timedelta(days=10),
            due_date=today + timedelta(days=20),
            total_incl_vat=Decimal("500.00"),
            amount_due=Decimal("500.00"),
            pdf_key="pdfs/n1001.pdf",
        ),
        make_invoice(
            kind=DocumentKind.CREDIT_NOTE,
            number="CN1004",
            customer=bravo,
            profile=direct,
            invoice_date=today - timedelta(days=5),
            due_date=None,
            total_incl_vat=Decimal("80.00"),
            amount_due=Decimal("0.00"),
            state=InvoiceState.ARCHIVED,
        ),
        make_invoice(
            number="N1002",
            customer=alpha,
            profile=direct,
            invoice_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10),
            amount_due=Decimal("0.00"),
            state=InvoiceState.PAID,
            pdf_key="pdfs/n1002.pdf",
        ),
        make_invoice(
            number="N1005",
            customer=bravo,
            invoice_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10),
            state=InvoiceState.EXPIRED,
        ),
    ]


def signed(d):
    return -d.total_incl_vat if d.kind == DocumentKind.CREDIT_NOTE else d.total_incl_vat


def owed_days(d, today):
    # Days past due of a document still owed (negative: not due yet); None for the rest.
    owed = d.kind == DocumentKind.INVOICE and d.state.value in ("BOOKED", "EXPIRED", "PENDING")
    if not owed or d.amount_due <= 0 or d.due_date is None:
        return None
    return (today - d.due_date).days


# What each sort key means, computed from the rows themselves.
MEANING = {
    "number": lambda d, today: d.number,
    "kind": lambda d, today: d.kind.value,
    "customer": lambda d, today: d.customer.name,
    "invoice_date": lambda d, today: d.invoice_date,
    "due_date": lambda d, today: d.due_date,
    "overdue": owed_days,
    "amount": lambda d, today: signed(d),
    "amount_due": lambda d, today: d.amount_due,
    "state": lambda d, today: d.state.value,
    "profile": lambda d, today: d.profile.name if d.profile else None,
    "pdf": lambda d, today: d.pdf_key is not None,
}


def expected_order(documents, key: str, descending: bool, today) -> list[int]:
    """Sorted by the key's value, rows without one last, ties by id in the same direction."""
    value = {d.id: MEANING[key](d, today) for d in documents}
    present = [d.id for d in documents if value[d.id] is not None]
    missing = [d.id for d in documents if value[d.id] is None]
    present.sort(key=lambda i: (value[i], i), reverse=descending)
    missing.sort(reverse=descending)
    return present + missing


def test_every_sort_key_has_a_meaning_here():
    assert set(MEANING) == set(SORTS)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(SORTS))
def test_each_sort_key_orders_the_whole_list(admin_client, mixed, clock, key, descending):
    sort = f"-{key}" if descending else key
    response = admin_client.get("/invoices/", query_string={"sort": sort})
    assert response.status_code == 200
    assert shown(response) == expected_order(mixed, key, descending, clock.today())


def test_ties_are_broken_by_id_so_pages_never_overlap(admin_client, app):
    same = [make_invoice(invoice_date=date(2026, 5, 1), number="SAME") for _ in range(5)]
    ids = [d.id for d in same]
    seen = []
    for page in (1, 2, 3):
        response = admin_client.get(
            "/invoices/", query_string={"sort": "number", "per_page": 2, "page": page}
        )
        seen += shown(response)
    assert seen == sorted(ids)


def test_default_order_is_newest_invoice_date_first(admin_client, mixed, clock):
    response = admin_client.get("/invoices/")
    assert shown(response) == expected_order(mixed, "invoice_date", True, clock.today())
    assert 'data-sort="invoice_date" aria-sort="descending"' in response.get_data(as_text=True)


@pytest.mark.parametrize("sort", ["id", "customer.name", "--amount", "amount desc", "-"])
def test_a_bad_sort_key_is_a_clear_400(admin_client, mixed, sort):
    response = admin_client.get("/invoices/", query_string={"sort": sort})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="sort"' in page and "Sort by one of: number, kind, customer" in page
    assert shown(response) == []


def test_header_links_sort_and_keep_the_filters(admin_client, mixed):
    page = admin_client.get(
        "/invoices/", query_string={"state": "EXPIRED", "sort": "amount", "page": 1}
    ).get_data(as_text=True)
    header = re.search(r'<th class="num" data-sort="amount"[^>]*><a href="([^"]+)"', page)
    link = header.group(1).replace("&amp;", "&")
    assert "state=EXPIRED" in link and "sort=-amount" in link and "page=" not in link
    other = re.search(r'data-sort="customer"><a href="([^"]+)"', page).group(1)
    assert "sort=customer" in other and "state=EXPIRED" in other
    # The filter form keeps the order too.
    assert '<input type="hidden" name="sort" value="amount">' in page


def test_page_links_keep_the_sort(admin_client, mixed):
    page = admin_client.get("/invoices/", query_string={"sort": "-amount", "per_page": 2})
    text = page.get_data(as_text=True)
    next_link = re.search(r'<a rel="next" href="([^"]+)"', text).group(1).replace("&amp;", "&")
    assert "sort=-amount" in next_link and "page=2" in next_link


# -- totals -------------------------------------------------------------------------------


def test_totals_cover_every_page_of_the_filtered_set(admin_client, mixed):
    response = admin_client.get("/invoices/", query_string={"per_page": 2})
    assert len(shown(response)) == 2
    response = totals_of(admin_client, response)
    assert total_count(response) == len(mixed)
    assert totals(response) == {
        "amount": sum(signed(d) for d in mixed),  # the credit note takes off
        "amount_due": sum(d.amount_due for d in mixed),
    }


@pytest.mark.parametrize(
    "args",
    [{"state": "EXPIRED"}, {"q": "alpha"}, {"kind": "credit_note"}, {"overdue_from": "1"}],
)
def test_totals_match_the_rows_the_filter_shows(admin_client, mixed, args):
    response = admin_client.get("/invoices/", query_string={**args, "per_page": 200})
    rows = [d for d in mixed if d.id in set(shown(response))]
    assert rows, "the filter should match something"
    response = totals_of(admin_client, response)
    assert total_count(response) == len(rows)
    assert totals(response) == {
        "amount": sum(signed(d) for d in rows),
        "amount_due": sum(d.amount_due for d in rows),
    }


def test_totals_are_per_currency(admin_client, app):
    make_invoice(currency="EUR", total_incl_vat=Decimal("100.00"), amount_due=Decimal("100.00"))
    make_invoice(currency="USD", total_incl_vat=Decimal("7.50"), amount_due=Decimal("2.50"))
    page = totals_of(admin_client, admin_client.get("/invoices/")).get_data(as_text=True)
    usd = re.search(r'<p data-currency="USD">(.*?)</p>', page, re.S).group(1)
    assert 'data-total="amount" data-value="7.50"' in usd
    assert 'data-total="amount_due" data-value="2.50"' in usd
    assert 'data-totals="2"' in page


def test_no_match_totals_nothing(admin_client, mixed):
    response = admin_client.get("/invoices/", query_string={"q": "nothing like it"})
    assert shown(response) == []
    assert "No documents match." in response.get_data(as_text=True)
    counted = totals_of(admin_client, response)
    assert total_count(counted) == 0 and totals(counted) == {}


# -- the search box -----------------------------------------------------------------------


@pytest.fixture
def people(app):
    acme = make_customer(
        name="Acme Brewing NV", teamleader_id="7d0c4a1e-1111-4c2e-9a55-000000000001"
    )
    renamed = make_customer(
        name="Brol BV",
        teamleader_id="7d0c4a1e-2222-4c2e-9a55-000000000002",
        customer_number="K-2040",
    )
    return {
        "acme": acme,
        "renamed": renamed,
        "a1": make_invoice(customer=acme, number="2026/0101"),
        "a2": make_invoice(customer=acme, number="2026/0102"),
        "r1": make_invoice(
            customer=renamed,
            number="2026/0777",
            teamleader_id="5e7a9b00-3333-4d1f-8e22-000000000777",
        ),
    }


SEARCHES = [
    ("brewing", {"a1", "a2"}),  # part of the customer's name, any case
    ("ACME", {"a1", "a2"}),
    ("K-2040", {"r1"}),  # an edited customer number, whole
    ("K-20", set()),  # ... not a part of it
    ("7d0c4a1e-1111-4c2e-9a55-000000000001", {"a1", "a2"}),  # the customer's number (its id)
    ("7D0C4A1E-2222-4C2E-9A55-000000000002", set()),  # ids are matched as written
    ("0777", {"r1"}),  # part of the document number
    ("2026/01", {"a1", "a2"}),
    ("5e7a9b00-3333-4d1f-8e22-000000000777", {"r1"}),  # the document's Teamleader id
    ("5e7a9b00", set()),  # ... whole only
    ("%", set()),
    ("nobody", set()),
]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_one_box_finds_by_name_customer_number_document_number_or_teamleader_id(
    admin_client, people, q, expected
):
    response = admin_client.get("/invoices/", query_string={"q": q})
    assert response.status_code == 200
    assert set(shown(response)) == {people[name].id for name in expected}


def test_a_customer_id_that_is_not_the_number_still_finds_its_documents(admin_client, people):
    # The renamed customer's number is K-2040; its Teamleader id finds it all the same.
    q = people["renamed"].teamleader_id
    assert shown(admin_client.get("/invoices/", query_string={"q": q})) == [people["r1"].id]


def test_search_combines_with_the_other_filters(admin_client, people):
    people["a2"].state = InvoiceState.PAID
    db.session.commit()
    response = admin_client.get("/invoices/", query_string={"q": "acme", "state": "BOOKED"})
    assert shown(response) == [people["a1"].id]


# -- days overdue -------------------------------------------------------------------------


@pytest.fixture
def aging(app, clock):
    """Documents due on each side of the 30/31 and 60/61 day edges, and some never overdue."""
    today = clock.today()

    def due(days_ago, **extra):
        return make_invoice(due_date=today - timedelta(days=days_ago), **extra)

    return {
        "61": due(61, state=InvoiceState.EXPIRED),
        "60": due(60, state=InvoiceState.EXPIRED),
        "31": due(31, state=InvoiceState.EXPIRED),
        "30": due(30, state=InvoiceState.EXPIRED),
        "1": due(1),
        "today": due(0),
        "tomorrow": due(-1),
        "no due date": make_invoice(due_date=None),
        "pending 45": due(45, state=InvoiceState.PENDING),
        "paid 45": due(45, state=InvoiceState.PAID, amount_due=Decimal("0.00")),
        "credit note 45": due(
            45,
            kind=DocumentKind.CREDIT_NOTE,
            state=InvoiceState.ARCHIVED,
            amount_due=Decimal("0.00"),
        ),
    }


OVERDUE = [
    ({"overdue_from": "31", "overdue_to": "60"}, {"60", "31", "pending 45"}),
    ({"overdue_from": "1", "overdue_to": "30"}, {"30", "1"}),
    ({"overdue_from": "61"}, {"61"}),
    ({"overdue_from": "1"}, {"61", "60", "31", "30", "1", "pending 45"}),
    ({"overdue_to": "0"}, {"today", "tomorrow", "no due date"}),  # owed, not overdue
    ({"overdue_from": "0", "overdue_to": "0"}, {"today", "no due date"}),
    ({"overdue_from": "30", "overdue_to": "30"}, {"30"}),
    (
        {"overdue_to": "36500"},
        {"61", "60", "31", "30", "1", "today", "tomorrow", "no due date", "pending 45"},
    ),
    ({"overdue_from": "31", "overdue_to": "60", "state": "EXPIRED"}, {"60", "31"}),
]


@pytest.mark.parametrize(("args", "expected"), OVERDUE)
def test_overdue_filter_takes_its_bounds_inclusive(admin_client, aging, args, expected):
    response = admin_client.get("/invoices/", query_string={**args, "per_page": 200})
    assert response.status_code == 200
    assert set(shown(response)) == {aging[name].id for name in expected}


def test_days_overdue_column(admin_client, aging):
    response = admin_client.get("/invoices/", query_string={"per_page": 200})
    cells = {
        name: re.search(r'data-overdue="(\d*)"', row_of(response, doc)).group(1)
        for name, doc in aging.items()
    }
    assert cells["61"] == "61" and cells["31"] == "31" and cells["1"] == "1"
    assert cells["pending 45"] == "45"
    for name in ("today", "tomorrow", "no due date", "paid 45", "credit note 45"):
        assert cells[name] == "", name


def test_days_overdue_count_from_the_local_date(admin_client, app, clock):
    # 00:30 in Brussels is still yesterday in UTC: the invoice is one day late here.
    local_day = clock.today() + timedelta(days=3)
    clock.set_local(local_day, time(0, 30))
    assert clock.now().date() < local_day
    late = make_invoice(due_date=local_day - timedelta(days=1))
    response = admin_client.get("/invoices/", query_string={"overdue_from": "1", "overdue_to": "1"})
    assert shown(response) == [late.id]
    assert 'data-overdue="1"' in row_of(response, late)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"overdue_from": "-1"}, "overdue_from"),
        ({"overdue_to": "many"}, "overdue_to"),
        ({"overdue_from": "61", "overdue_to": "31"}, "overdue_to"),
        ({"overdue_to": "36501"}, "overdue_to"),
    ],
)
def test_bad_overdue_bounds_are_explained(admin_client, aging, args, field):
    response = admin_client.get("/invoices/", query_string=args)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.get_data(as_text=True)


# -- partly paid: tests/test_partly_paid.py ---------------------------------------------


# -- export -------------------------------------------------------------------------------

HEADER = [
    "Number",
    "Kind",
    "Customer",
    "Customer number",
    "Invoice date",
    "Due date",
    "Days overdue",
    "Currency",
    "Amount",
    "Amount due",
    "State",
    "Partly paid",
    "Profile",
    "PDF",
    "Teamleader id",
]


def test_csv_export_has_a_header_plain_numbers_and_iso_dates(viewer_client, mixed, clock):
    n1003 = mixed[0]
    # 71.00 of its 121.00 paid: partly paid (the payment row alone; amounts are the fixture's).
    db.session.add(
        Payment(
            invoice_id=n1003.id,
            key="bank:n1003",
            source=PaymentSource.BANK,
            kind=PaymentKind.PAYMENT,
            amount=Decimal("71.00"),
            currency="EUR",
            occurred_at=clock.now(),
        )
    )
    db.session.commit()
    response = viewer_client.get("/invoices/export.csv", query_string={"sort": "number"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = clock.today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="documents-{today}.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = read_csv(response)
    assert rows[0] == HEADER
    by_number = {r[0]: r for r in rows[1:]}
    assert [r[0] for r in rows[1:]] == ["CN1004", "N1001", "N1002", "N1003", "N1005"]
    assert by_number["N1003"] == [
        "N1003",
        "invoice",
        "Charlie",
        n1003.customer.customer_number,
        n1003.invoice_date.isoformat(),
        n1003.due_date.isoformat(),
        "60",
        "EUR",
        "121.00",
        "50.00",
        "EXPIRED",
        "yes",
        "Transfer",
        "no",
        n1003.teamleader_id,
    ]
    assert by_number["CN1004"][1] == "credit note"
    assert by_number["CN1004"][5:10] == ["", "", "EUR", "-80.00", "0.00"]
    assert by_number["N1001"][12:14] == ["", "yes"]


def test_csv_export_respects_filters_and_sort(viewer_client, mixed):
    response = viewer_client.get(
        "/invoices/export.csv", query_string={"q": "alpha", "sort": "-amount", "page": 3}
    )
    numbers = [r[0] for r in read_csv(response)[1:]]
    assert numbers == ["N1001", "N1002"]  # every page of the filter, in its order
    overdue = viewer_client.get("/invoices/export.csv", query_string={"overdue_from": "31"})
    assert [r[0] for r in read_csv(overdue)[1:]] == ["N1003"]


def test_csv_export_defuses_formulas_in_text(viewer_client, app):
    make_invoice(customer=make_customer(name='=HYPERLINK("http://evil")'), number="-1")
    rows = read_csv(viewer_client.get("/invoices/export.csv"))
    assert rows[1][0] == "'-1" and rows[1][2] == '\'=HYPERLINK("http://evil")'


def test_xlsx_export_has_numbers_and_dates(viewer_client, mixed):
    response = viewer_client.get("/invoices/export.xlsx", query_string={"sort": "number"})
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "documents-" in disposition
    assert disposition.rstrip('"').endswith(".xlsx")
    rows = read_xlsx(response)
    assert list(rows[0]) == HEADER
    by_number = {r[0]: r for r in rows[1:]}
    assert [r[0] for r in rows[1:]] == ["CN1004", "N1001", "N1002", "N1003", "N1005"]
    n1003 = by_number["N1003"]
    assert n1003[4] == datetime.combine(mixed[0].invoice_date, time())  # a real date
    assert n1003[6] == 60
    assert n1003[8] == 121 and n1003[9] == 50  # numbers, not text
    assert isinstance(n1003[8], int | float)
    note = by_number["CN1004"]
    assert note[8] == -80 and note[9] == 0 and note[5] is None


def test_xlsx_keeps_a_formula_like_name_as_text(viewer_client, app):
    make_invoice(customer=make_customer(name="=1+1"))
    book = openpyxl.load_workbook(io.BytesIO(viewer_client.get("/invoices/export.xlsx").data))
    cell = book.active["C2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert book.active["I2"].number_format == "#,##0.00"


def test_xlsx_export_respects_filters(viewer_client, mixed):
    response = viewer_client.get("/invoices/export.xlsx", query_string={"state": "EXPIRED"})
    assert sorted(r[0] for r in read_xlsx(response)[1:]) == ["N1003", "N1005"]


def test_export_of_an_empty_list_is_the_header_only(viewer_client, app):
    assert read_csv(viewer_client.get("/invoices/export.csv")) == [HEADER]
    assert read_xlsx(viewer_client.get("/invoices/export.xlsx")) == [tuple(HEADER)]


def test_export_with_a_bad_argument_is_a_400(viewer_client, app):
    for path in ("/invoices/export.csv", "/invoices/export.xlsx"):
        assert viewer_client.get(path, query_string={"sort": "evil"}).status_code == 400
        assert viewer_client.get(path, query_string={"colour": "red"}).status_code == 400
    assert viewer_client.get("/invoices/export.pdf").status_code == 404


def test_the_list_links_its_exports_with_the_filters(admin_client, mixed):
    page = admin_client.get("/invoices/", query_string={"q": "alpha", "sort": "amount"}).get_data(
        as_text=True
    )
    for ext in ("csv", "xlsx"):
        link = re.search(rf'href="(/invoices/export\.{ext}\?[^"]+)"', page).group(1)
        assert "q=alpha" in link and "sort=amount" in link


def test_login_is_required(client, mixed):
    for path in ("/invoices/", "/invoices/export.csv", "/invoices/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- the selection ------------------------------------------------------------------------


def test_bulk_actions_still_wrap_the_sorted_table(admin_client, mixed):
    page = admin_client.get("/invoices/", query_string={"sort": "customer"}).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/invoices/actions".*?</form>', page, re.S)
    assert form, "the selection form is gone"
    boxes = re.findall(r'name="ids" value="(\d+)"', form.group(0))
    assert sorted(int(b) for b in boxes) == sorted(d.id for d in mixed)
    assert 'value="fetch_pdfs"' in form.group(0) and 'value="send_invitations"' in form.group(0)
    assert 'name="back" value="/invoices/?sort=customer"' in form.group(0)
