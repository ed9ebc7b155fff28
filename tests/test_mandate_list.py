"""The mandates list as the finance team works it: sorted by any column (stable, in the
URL), one search box, filters kept in the URL, counts per status, and the export of the
filtered list as CSV in machine values with the header in the reader's language."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from collector.direct_debit.mandate_list import SORTS
from collector.direct_debit.models import MandateScheme, MandateStatus
from tests.support.factories import make_customer, make_mandate, make_profile

ROW = re.compile(r'<tr data-mandate="(\d+)"')
COUNT = re.compile(r'data-status-count="(\w+)" data-value="(\d+)"')


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def book(app, clock):
    """Four mandates whose columns each order them differently."""
    today = clock.today()
    sepa, b2b = make_profile(name="SEPA", allow_direct_debit=True), make_profile(name="Zakelijk")
    acme = make_customer(name="Acme NV")
    brol = make_customer(name="Brol BV", customer_number="C-0042")
    zeta = make_customer(name="Zeta Bakkerij")
    return {
        "acme": make_mandate(
            customer=acme,
            profile=sepa,
            reference="MD-0003",
            iban="BE68539007547034",
            signed_on=today - timedelta(days=400),
            last_collected_on=today - timedelta(days=20),
            used=True,
        ),
        "brol": make_mandate(
            customer=brol,
            profile=b2b,
            reference="MD-0001",
            iban="NL91ABNA0417164300",
            debtor_name="J. Peeters",
            signed_on=today - timedelta(days=30),
            scheme=MandateScheme.B2B,
        ),
        "zeta": make_mandate(
            customer=zeta,
            profile=sepa,
            reference="MD-0004",
            iban="BE71096123456769",
            signed_on=today - timedelta(days=900),
            status=MandateStatus.REVOKED,
            status_reason="Closed (user:admin@example.com)",
        ),
        "acme2": make_mandate(
            customer=acme,
            profile=b2b,
            reference="MD-0002",
            iban="DE89370400440532013000",
            signed_on=today - timedelta(days=30),
            last_collected_on=today - timedelta(days=5),
            used=True,
            status=MandateStatus.LAPSED,
        ),
    }


def ids(book, *names) -> list[int]:
    return [book[name].id for name in names]


# -- sorting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["acme2", "zeta", "brol", "acme"]),  # the latest stored first
        ("reference", ["brol", "acme2", "acme", "zeta"]),
        ("-reference", ["zeta", "acme", "acme2", "brol"]),
        ("customer", ["acme", "acme2", "brol", "zeta"]),  # ties: the id, the same way
        ("-customer", ["zeta", "brol", "acme2", "acme"]),
        ("iban", ["acme", "zeta", "acme2", "brol"]),
        ("profile", ["acme", "zeta", "brol", "acme2"]),
        ("scheme", ["brol", "acme", "zeta", "acme2"]),
        ("signed", ["zeta", "acme", "brol", "acme2"]),
        ("-signed", ["acme2", "brol", "acme", "zeta"]),
        ("next", ["brol", "zeta", "acme", "acme2"]),
        ("collected", ["acme", "acme2", "brol", "zeta"]),  # never collected: last
        ("-collected", ["acme2", "acme", "zeta", "brol"]),  # last either way
        ("status", ["acme", "brol", "acme2", "zeta"]),  # active, lapsed, revoked
    ],
)
def test_the_list_sorts_by_any_column_stably(viewer_client, book, sort, expected):
    response = viewer_client.get("/mandates/", query_string={"sort": sort} if sort else {})

    assert response.status_code == 200
    assert shown(response) == ids(book, *expected)


def test_every_sort_key_has_its_header_and_a_click_turns_it_round(viewer_client, book):
    html = viewer_client.get("/mandates/", query_string={"sort": "customer", "q": "md-"}).text

    assert set(re.findall(r'data-sort="(\w+)"', html)) == set(SORTS.keys) - {"stored"}
    assert 'data-sort="customer" aria-sort="ascending"' in html
    # The sorted column turns round; another starts its own way; the search is kept.
    assert 'href="/mandates/?sort=-customer&amp;q=md-"' in html
    assert 'href="/mandates/?sort=-signed&amp;q=md-"' in html


def test_paging_a_sorted_list_shows_every_row_once(viewer_client, book):
    pages = [
        shown(
            viewer_client.get(
                "/mandates/", query_string={"sort": "-customer", "per_page": 1, "page": n}
            )
        )
        for n in (1, 2, 3, 4)
    ]
    assert [row for page in pages for row in page] == ids(book, "zeta", "brol", "acme2", "acme")


def test_an_unknown_sort_is_a_400_naming_the_keys(viewer_client, book):
    response = viewer_client.get("/mandates/", query_string={"sort": "iban; drop table"})

    assert response.status_code == 400
    assert 'data-field="sort"' in response.text and "reference, customer" in response.text


# -- searching and filtering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"q": "md-0002"}, ["acme2"]),  # the reference, any case
        ({"q": "acme"}, ["acme2", "acme"]),  # the customer's name
        ({"q": "C-0042"}, ["brol"]),  # the customer's number
        ({"q": "peeters"}, ["brol"]),  # the account holder
        ({"q": "7034"}, ["acme"]),  # the IBAN's last digits
        ({"q": "be71 0961"}, ["zeta"]),  # the IBAN as printed
        ({"q": "100%"}, []),  # LIKE's wildcards are taken literally
        ({"status": "active"}, ["brol", "acme"]),
        ({"scheme": "B2B"}, ["brol"]),
        ({"status": "active", "q": "acme"}, ["acme"]),
    ],
)
def test_one_search_box_and_the_filters(viewer_client, book, args, expected):
    response = viewer_client.get("/mandates/", query_string=args)

    assert response.status_code == 200
    assert shown(response) == ids(book, *expected)


def test_profile_customer_and_signature_dates_filter_too(viewer_client, book, clock):
    today = clock.today()
    by_profile = viewer_client.get(
        "/mandates/", query_string={"profile_id": book["acme"].profile_id}
    )
    assert shown(by_profile) == ids(book, "zeta", "acme")
    by_customer = viewer_client.get(
        "/mandates/", query_string={"customer_id": book["acme"].customer_id}
    )
    assert shown(by_customer) == ids(book, "acme2", "acme")
    recent = {"signed_from": (today - timedelta(days=31)).isoformat()}
    assert shown(viewer_client.get("/mandates/", query_string=recent)) == ids(book, "acme2", "brol")
    older = {"signed_to": (today - timedelta(days=31)).isoformat(), "sort": "signed"}
    assert shown(viewer_client.get("/mandates/", query_string=older)) == ids(book, "zeta", "acme")


def test_dates_in_the_wrong_order_are_a_400(viewer_client, book):
    response = viewer_client.get(
        "/mandates/", query_string={"signed_from": "2026-03-01", "signed_to": "2026-02-01"}
    )
    assert response.status_code == 400 and 'data-field="signed_to"' in response.text


def test_the_filter_form_keeps_what_was_asked(viewer_client, book):
    html = viewer_client.get(
        "/mandates/", query_string={"q": "acme", "scheme": "B2B", "sort": "iban", "per_page": 2}
    ).text

    assert 'name="q" value="acme"' in html
    assert '<option value="B2B" selected>' in html
    assert '<input type="hidden" name="sort" value="iban">' in html
    assert '<input type="hidden" name="per_page" value="2">' in html


def test_the_counts_are_of_the_whole_filtered_list_per_status(viewer_client, book):
    html = viewer_client.get("/mandates/", query_string={"per_page": 1}).text

    assert re.search(r'data-totals="(\d+)"', html).group(1) == "4"
    assert dict(COUNT.findall(html)) == {"active": "2", "revoked": "1", "lapsed": "1"}
    searched = viewer_client.get("/mandates/", query_string={"q": "acme"}).text
    assert dict(COUNT.findall(searched)) == {"active": "1", "lapsed": "1"}


# -- export ---------------------------------------------------------------------------------


def test_the_csv_export_has_machine_values_in_the_lists_order(viewer_client, book, clock):
    response = viewer_client.get("/mandates/export.csv", query_string={"sort": "reference"})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = clock.today()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="mandates-{today.isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = read_csv(response)
    assert rows[0][:6] == [
        "Reference",
        "Status",
        "Customer",
        "Customer number",
        "Account holder",
        "IBAN",
    ]
    assert [r[0] for r in rows[1:]] == ["MD-0001", "MD-0002", "MD-0003", "MD-0004"]
    acme = book["acme"]
    assert rows[3] == [
        "MD-0003",
        "active",
        "Acme NV",
        acme.customer.customer_number,
        acme.debtor_name,
        "BE68539007547034",
        "",
        "",
        "SEPA",
        "CORE",
        acme.signed_on.isoformat(),
        "RCUR",
        acme.last_collected_on.isoformat(),
        (acme.last_collected_on + relativedelta(months=36)).isoformat(),
    ]
    revoked = rows[4]
    assert revoked[1] == "revoked" and revoked[11] == "" and revoked[13] == ""


def test_the_csv_export_keeps_the_filter_and_every_page(viewer_client, book):
    response = viewer_client.get(
        "/mandates/export.csv",
        query_string={"q": "acme", "sort": "-reference", "page": 2, "per_page": 1},
    )
    assert [r[0] for r in read_csv(response)[1:]] == ["MD-0003", "MD-0002"]
    assert viewer_client.get("/mandates/export.csv", query_string={"sort": "x"}).status_code == 400


def test_the_csv_header_speaks_the_readers_language_and_values_stay_machine(viewer_client, book):
    rows = read_csv(
        viewer_client.get(
            "/mandates/export.csv",
            query_string={"sort": "reference"},
            headers={"Accept-Language": "nl-BE"},
        )
    )
    assert rows[0][:5] == ["Referentie", "Status", "Klant", "Klantnummer", "Rekeninghouder"]
    assert rows[1][1] == "active" and rows[1][10] == book["brol"].signed_on.isoformat()


def test_the_csv_export_defuses_formulas_in_text(viewer_client, app):
    make_mandate(customer=make_customer(name='=HYPERLINK("http://evil")'), debtor_name="+32 a")
    row = read_csv(viewer_client.get("/mandates/export.csv"))[1]
    assert row[2] == '\'=HYPERLINK("http://evil")' and row[4] == "'+32 a"


def test_the_page_fits_a_laptop_the_table_scrolls_in_its_own_box(viewer_client, book):
    html = viewer_client.get("/mandates/").text
    assert re.search(
        r'<div class="table-scroll">\s*<table class="grid worked" id="mandates">', html
    )
    assert "lists.css" in html
