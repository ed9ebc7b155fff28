"""The payments list (issue 18): every ledger row with its customer and document, sorted by
any column (stable, in the URL), one search box, filters kept in the URL, totals per
currency in SQL that leave cancelled rows out, company-local dates, and the filtered list
as CSV in machine values with the header in the reader's language."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from collector.core import clock as core_clock
from collector.documents import ledger
from collector.documents.models import Payment, PaymentKind, PaymentSource
from collector.extensions import db
from tests.support.browser import log_in
from tests.support.factories import make_customer, make_invoice

TODAY = date(2027, 3, 15)  # the business date every test here is set on
ROW = re.compile(r'<tr data-payment="(\d+)"')
DUTCH = {"Accept-Language": "nl-BE"}


@pytest.fixture(autouse=True)
def on_today(app, clock):
    clock.set_local(TODAY, time(12))


def at(day: date, hour: int = 12) -> datetime:
    """A UTC instant given as the company's wall-clock time (Europe/Brussels)."""
    return datetime.combine(day, time(hour), tzinfo=core_clock.zone()).astimezone(UTC)


def pay(invoice, amount: str, when: datetime, key: str, **overrides) -> Payment:
    row = ledger.record_payment(
        invoice,
        key=key,
        amount=Decimal(amount),
        occurred_at=when,
        source=overrides.pop("source", PaymentSource.BANK),
        actor="system",
        **overrides,
    )
    db.session.commit()
    return row


def take_back(payment: Payment, amount: str, kind: PaymentKind, when: datetime) -> Payment:
    return ledger.record_reversal(
        payment,
        key=f"back:{payment.id}:{kind.value}",
        kind=kind,
        amount=Decimal(amount),
        occurred_at=when,
        actor="system",
    )


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def book(app):
    """Five ledger rows whose columns each order them differently, one of them cancelled."""
    acme = make_customer(name="Acme NV")
    brol = make_customer(name="Brol BV", customer_number="C-0042")
    zeta = make_customer(name="Zeta Bakkerij")
    a = make_invoice(customer=acme, number="2027 / 0007", amount_due=Decimal("1260.25"))
    b = make_invoice(customer=brol, number="2027 / 0003")
    z = make_invoice(customer=zeta, number="2027 / 0011", currency="USD")
    rows = {
        "acme": pay(
            a, "1250.25", at(TODAY - timedelta(days=3)), "bank:1", reference="+++090/9337/55493+++"
        ),
        "brol": pay(
            b,
            "121.00",
            at(TODAY - timedelta(days=10)),
            "provider:tr_B",
            source=PaymentSource.PROVIDER,
            reference="tr_B",
        ),
        "zeta": pay(
            z,
            "50.00",
            at(TODAY - timedelta(days=1)),
            "teamleader:z",
            source=PaymentSource.TEAMLEADER,
        ),
    }
    rows["refund"] = take_back(
        rows["brol"], "21.00", PaymentKind.REFUND, at(TODAY - timedelta(days=2))
    )
    rows["gone"] = pay(
        a, "10.00", at(TODAY - timedelta(days=5)), "manual:x", source=PaymentSource.MANUAL
    )
    ledger.cancel_entry(rows["gone"], "Removed in Teamleader", actor="system")
    db.session.commit()
    return rows


def ids(book, *names) -> list[int]:
    return [book[name].id for name in names]


# -- the page -------------------------------------------------------------------------------


def test_the_list_shows_what_finance_reads(viewer_client, book):
    html = viewer_client.get("/payments/").text
    row = re.search(rf'<tr data-payment="{book["refund"].id}".*?</tr>', html, re.S).group(0)

    assert f'href="/customers/{book["brol"].invoice.customer_id}">Brol BV</a>' in row
    assert f'href="/invoices/{book["brol"].invoice_id}">2027 / 0003</a>' in row
    assert ">refund<" in row and ">online<" in row
    assert 'data-amount="-21.00"' in row and "€21.00" in row
    assert re.search(r'<td class="date">13 Mar 2027, 12:00</td>', row)
    assert re.search(
        r'<div class="table-scroll">\s*<table class="grid worked" id="payments">', html
    )


def test_cancelled_rows_are_hidden_unless_asked_and_never_counted(viewer_client, book):
    default = viewer_client.get("/payments/")
    assert book["gone"].id not in shown(default)
    asked = viewer_client.get("/payments/", query_string={"include_cancelled": "1"})
    html = asked.text
    assert book["gone"].id in shown(asked)
    row = re.search(rf'<tr data-payment="{book["gone"].id}" class="cancelled">.*?</tr>', html, re.S)
    assert row and "badge-cancelled" in row.group(0) and "<s>" in row.group(0)
    # The totals stay those of the rows that count; the cancelled one is said apart.
    assert 'data-cancelled="1"' in html
    assert re.search(r'data-currency="EUR">\s*.*?data-value="1350.25"', html, re.S)


def test_totals_are_of_the_whole_filtered_list_per_currency(viewer_client, book):
    html = viewer_client.get("/payments/", query_string={"per_page": 1}).text

    assert shown(viewer_client.get("/payments/", query_string={"per_page": 1})) == ids(book, "zeta")
    assert re.search(r'data-totals="(\d+)"', html).group(1) == "4"
    eur = re.search(r'<p data-currency="EUR">.*?</p>', html, re.S).group(0)
    usd = re.search(r'<p data-currency="USD">.*?</p>', html, re.S).group(0)
    # 1250.25 + 121.00 - 21.00; the cancelled 10.00 is not in it.
    assert 'data-total="amount" data-value="1350.25"' in eur and 'data-value="3"' in eur
    assert 'data-total="amount" data-value="50.00"' in usd and 'data-value="1"' in usd


# -- sorting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["zeta", "refund", "acme", "brol"]),  # the latest first
        ("date", ["brol", "acme", "refund", "zeta"]),
        ("customer", ["acme", "brol", "refund", "zeta"]),  # ties: the id, the same way
        ("-customer", ["zeta", "refund", "brol", "acme"]),
        ("number", ["brol", "refund", "acme", "zeta"]),
        ("-number", ["zeta", "acme", "refund", "brol"]),
        ("kind", ["acme", "brol", "zeta", "refund"]),
        ("channel", ["acme", "brol", "refund", "zeta"]),  # bank, provider, teamleader
        ("amount", ["refund", "zeta", "brol", "acme"]),
        ("-amount", ["acme", "brol", "zeta", "refund"]),
        ("reference", ["acme", "brol", "zeta", "refund"]),  # none: last either way
        ("-reference", ["brol", "acme", "refund", "zeta"]),
    ],
)
def test_the_list_sorts_by_any_column_both_ways(viewer_client, book, sort, expected):
    response = viewer_client.get("/payments/", query_string={"sort": sort} if sort else {})

    assert response.status_code == 200
    assert shown(response) == ids(book, *expected)


def test_a_header_click_turns_the_order_round_and_keeps_the_filter(viewer_client, book):
    html = viewer_client.get("/payments/", query_string={"sort": "customer", "q": "b"}).text

    assert 'data-sort="customer" aria-sort="ascending"' in html
    assert 'href="/payments/?sort=-customer&amp;q=b"' in html
    assert 'href="/payments/?sort=-amount&amp;q=b"' in html


def test_paging_a_sorted_list_shows_every_row_once(viewer_client, book):
    pages = [
        shown(
            viewer_client.get(
                "/payments/", query_string={"sort": "-customer", "per_page": 1, "page": n}
            )
        )
        for n in (1, 2, 3, 4)
    ]
    assert [row for page in pages for row in page] == ids(book, "zeta", "refund", "brol", "acme")


# -- searching and filtering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"q": "acme"}, ["acme"]),  # a part of the customer's name, any case
        ({"q": "brol"}, ["refund", "brol"]),  # the refund is the customer's too
        ({"q": "0011"}, ["zeta"]),  # a part of the document number
        ({"q": "C-0042"}, ["refund", "brol"]),  # the whole customer number
        ({"q": "9337/55"}, ["acme"]),  # a part of the reference
        ({"q": "100%"}, []),  # LIKE's wildcards are taken literally
        ({"kind": "refund"}, ["refund"]),
        ({"kind": "payment"}, ["zeta", "acme", "brol"]),
        ({"channel": "provider"}, ["refund", "brol"]),
        ({"channel": "teamleader"}, ["zeta"]),
        ({"currency": "USD"}, ["zeta"]),
        ({"channel": "provider", "q": "0003", "kind": "payment"}, ["brol"]),
    ],
)
def test_one_search_box_and_the_filters(viewer_client, book, args, expected):
    response = viewer_client.get("/payments/", query_string=args)

    assert response.status_code == 200
    assert shown(response) == ids(book, *expected)


def test_the_customer_filter_names_the_customer(viewer_client, book):
    customer_id = book["brol"].invoice.customer_id
    response = viewer_client.get("/payments/", query_string={"customer_id": customer_id})

    assert shown(response) == ids(book, "refund", "brol")
    assert "Payments of Brol BV." in response.text
    assert f'<input type="hidden" name="customer_id" value="{customer_id}">' in response.text


def test_the_invoice_and_customer_pages_link_to_the_customers_payments(viewer_client, book):
    invoice = book["brol"].invoice
    link = f'href="/payments/?customer_id={invoice.customer_id}" data-link="customer-payments"'
    assert link in viewer_client.get(f"/invoices/{invoice.id}").text
    assert link in viewer_client.get(f"/customers/{invoice.customer_id}").text


def test_dates_are_the_companys_local_days(viewer_client, app, clock):
    # 23:30 UTC on 31 March is 01:30 on 1 April in Brussels (summer time).
    invoice = make_invoice(currency="EUR")
    late = pay(invoice, "5.00", datetime(2027, 3, 31, 23, 30, tzinfo=UTC), "bank:late")
    march = {"date_from": "2027-03-01", "date_to": "2027-03-31"}
    april = {"date_from": "2027-04-01", "date_to": "2027-04-01"}

    assert shown(viewer_client.get("/payments/", query_string=march)) == []
    response = viewer_client.get("/payments/", query_string=april)
    assert shown(response) == [late.id]
    assert "1 Apr 2027, 01:30" in response.text


@pytest.mark.parametrize(
    ("args", "field", "says"),
    [
        ({"sort": "amount; drop table"}, "sort", "Sort by one of: date, customer"),
        ({"kind": "gift"}, "kind", "Must be one of"),
        ({"date_from": "2027-03-10", "date_to": "2027-03-01"}, "date_to", "end date comes before"),
        ({"date_from": "yesterday"}, "date_from", "Not a valid date"),
        ({"currency": "euro"}, "currency", "Three capitals."),
        ({"customer_id": "99999999999"}, "customer_id", "Must be from 1 to 2,147,483,647."),
        ({"colour": "red"}, "colour", "does not know this parameter"),
    ],
)
def test_a_bad_argument_is_a_400_that_says_which_and_why(viewer_client, book, args, field, says):
    response = viewer_client.get("/payments/", query_string=args)

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.text and says in response.text


# -- who sees it ----------------------------------------------------------------------------


def test_a_viewer_sees_it_in_the_menu_after_customers(viewer_client, book):
    html = viewer_client.get("/payments/").text
    menu = re.findall(r'<a href="(/[^"]*)"(?: aria-current="page")?>', html)
    assert menu.index("/payments/") == menu.index("/customers/") + 1
    assert '<a href="/payments/" aria-current="page">Payments</a>' in html


def test_anonymous_is_sent_to_log_in(client, book):
    for path in ("/payments/", "/payments/export.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- languages ------------------------------------------------------------------------------


def test_the_page_in_dutch(viewer_client, book):
    html = viewer_client.get("/payments/", headers=DUTCH).text

    assert "<h1>Betalingen</h1>" in html
    assert ">Klant</a></th>" in html and ">Kanaal</a></th>" in html
    assert "€\xa01.250,25" in html  # nl-BE: "€ 1.250,25", a no-break space
    assert "€\xa01.350,25" in html  # the EUR total
    assert ">terugbetaling<" in html


# -- export ---------------------------------------------------------------------------------


def test_the_csv_export_has_machine_values_in_the_lists_order(viewer_client, book, clock):
    response = viewer_client.get("/payments/export.csv", query_string={"sort": "amount"})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="payments-{TODAY.isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = read_csv(response)
    assert rows[0] == [
        "Date",
        "Customer",
        "Customer number",
        "Document",
        "Kind",
        "Channel",
        "Amount",
        "Currency",
        "Reference",
        "Reason",
        "Cancelled at",
    ]
    assert [r[6] for r in rows[1:]] == ["-21.00", "50.00", "121.00", "1250.25"]
    refund = rows[1]
    assert refund[:6] == [
        "2027-03-13T12:00:00+01:00",
        "Brol BV",
        "C-0042",
        "2027 / 0003",
        "refund",
        "provider",
    ]
    assert refund[7:] == ["EUR", "", "", ""]


def test_the_csv_export_keeps_the_filter_and_every_page(viewer_client, book):
    response = viewer_client.get(
        "/payments/export.csv",
        query_string={"include_cancelled": "1", "sort": "date", "page": 2, "per_page": 1},
    )
    rows = read_csv(response)[1:]
    assert [r[3] for r in rows] == [
        "2027 / 0003",
        "2027 / 0007",
        "2027 / 0007",
        "2027 / 0003",
        "2027 / 0011",
    ]
    assert rows[1][4:6] == ["payment", "manual"] and rows[1][10].startswith("2027-03-15T")
    assert viewer_client.get("/payments/export.csv", query_string={"sort": "x"}).status_code == 400


def test_the_csv_header_speaks_the_readers_language(viewer_client, book):
    rows = read_csv(viewer_client.get("/payments/export.csv", headers=DUTCH))
    assert rows[0][:4] == ["Datum", "Klant", "Klantnummer", "Document"]
    assert rows[1][6] == "50.00"  # values stay machine values


def test_the_csv_export_defuses_formulas_in_text(viewer_client, app):
    invoice = make_invoice(customer=make_customer(name='=HYPERLINK("http://evil")'))
    pay(invoice, "1.00", at(TODAY), "bank:evil", reference="+32 a", reason="@SUM(A1)")
    row = read_csv(viewer_client.get("/payments/export.csv"))[1]
    assert row[1] == '\'=HYPERLINK("http://evil")' and row[8] == "'+32 a" and row[9] == "'@SUM(A1)"


@pytest.mark.browser
def test_the_page_fits_a_phone_the_table_scrolls_in_its_own_box(page, live_server, admin):
    customer = make_customer(name="Brouwerij Sint-Bernardus en Zonen Internationaal BV")
    invoice = make_invoice(customer=customer, number="2027/000000000000042")
    pay(invoice, "121.00", at(TODAY), "bank:long", reference="+++090/9337/55493+++")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/payments/")

    sideways = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(sideways) == 0
    box = page.locator(".table-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")


def test_a_cancelled_row_is_said_cancelled_in_the_readers_language(viewer_client, book):
    for language, word in (("nl-BE", "geannuleerd"), ("fr-BE", "annulé"), ("en", "cancelled")):
        html = viewer_client.get(
            "/payments/",
            query_string={"include_cancelled": "1"},
            headers={"Accept-Language": language},
        ).text
        row = re.search(rf'<tr data-payment="{book["gone"].id}".*?</tr>', html, re.S).group(0)
        assert f'<span class="badge badge-cancelled">{word}</span>' in row, (language, row)
