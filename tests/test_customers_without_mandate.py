"""The customers list filtered to direct-debit customers without a mandate: the customers
the dashboard's needs-attention item counts, listed where a person can act on them (and
download as the mandates CSV to fill in), shown as a filter that can be cleared."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from collector.core.clock import local_today
from collector.direct_debit.models import MandateStatus
from collector.documents.models import InvoiceState
from tests.support.factories import make_customer, make_invoice, make_mandate, make_profile

D = Decimal
ROW = re.compile(r'<tr data-customer="(\d+)"')


@pytest.fixture
def debtors(app) -> dict:
    """Customers on either side of the definition; ``missing``: those without a mandate."""
    direct, other_direct, transfer = (
        make_profile(name="Direct debit", allow_direct_debit=True),
        make_profile(name="Direct debit NL", allow_direct_debit=True),
        make_profile(name="Transfer"),
    )
    c = {key: make_customer(name=f"{key.title()} BV") for key in KEYS}
    make_invoice(customer=c["unsigned"], profile=direct, amount_due=D("30.00"))
    make_invoice(customer=c["unsigned"], profile=direct, amount_due=D("12.00"))
    late = local_today() - timedelta(days=40)
    make_invoice(customer=c["late"], profile=direct, due_date=late, state=InvoiceState.EXPIRED)
    # A mandate, but on another profile than the invoice's; a mandate no longer active.
    make_mandate(customer=c["elsewhere"], profile=other_direct)
    make_invoice(customer=c["elsewhere"], profile=direct)
    make_mandate(customer=c["revoked"], profile=direct, status=MandateStatus.REVOKED)
    make_invoice(customer=c["revoked"], profile=direct)
    # Not missing one: signed, a collection under way, nothing owed, not on direct debit.
    make_mandate(customer=c["signed"], profile=direct)
    make_invoice(customer=c["signed"], profile=direct)
    make_invoice(customer=c["pending"], profile=direct, state=InvoiceState.PENDING)
    make_invoice(customer=c["paid"], profile=direct, state=InvoiceState.PAID, amount_due=D("0.00"))
    make_invoice(customer=c["transfer"], profile=transfer)
    return {"customers": c, "missing": {c[k].id for k in MISSING}, "direct": direct}


KEYS = ("unsigned", "late", "elsewhere", "revoked", "signed", "pending", "paid", "transfer")
MISSING = ("unsigned", "late", "elsewhere", "revoked")


def listed(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    return {int(i) for i in ROW.findall(response.get_data(as_text=True))}


def no_mandate_item(client) -> tuple[int, str]:
    """The dashboard's item: its count and where it leads."""
    html = client.get("/").get_data(as_text=True)
    item = re.search(r'<li data-item="no_mandate">(.*?)</li>', html, re.S).group(1)
    count = int(re.search(r'data-count="(\d+)"', item).group(1))
    return count, unescape(re.search(r'href="([^"]+)"', item).group(1))


def test_the_dashboard_item_leads_to_the_customers_it_counts(viewer_client, debtors):
    count, link = no_mandate_item(viewer_client)

    assert link == "/customers/?without_mandate=1"
    rows = listed(viewer_client.get(link))
    assert rows == debtors["missing"]
    assert count == len(rows) == len(MISSING)


def test_a_signed_mandate_takes_the_customer_off_both(viewer_client, debtors):
    unsigned = debtors["customers"]["unsigned"]
    make_mandate(customer=unsigned, profile=debtors["direct"])

    count, link = no_mandate_item(viewer_client)
    rows = listed(viewer_client.get(link))
    assert rows == debtors["missing"] - {unsigned.id}
    assert count == len(rows)


def test_the_filter_shows_as_on_and_can_be_cleared(viewer_client, debtors):
    html = viewer_client.get("/customers/?without_mandate=1&sort=-balance&q=bv")
    page = html.get_data(as_text=True)

    assert re.search(r'<input type="checkbox" name="without_mandate" value="1" checked>', page)
    note = re.search(
        r'<p class="lead active-filter" data-filter="without_mandate">(.*?)</p>', page, re.S
    )
    assert note and "never collected" in note.group(1)
    clear = unescape(
        re.search(r'href="([^"]+)" data-clear="without_mandate"', note.group(1)).group(1)
    )
    assert clear.startswith("/customers/?") and "without_mandate" not in clear
    assert "sort=-balance" in clear and "q=bv" in clear  # the other filters stay
    assert len(listed(viewer_client.get(clear))) == len(KEYS)


def test_without_the_filter_nothing_says_it_is_on(viewer_client, debtors):
    page = viewer_client.get("/customers/").get_data(as_text=True)
    assert 'data-filter="without_mandate"' not in page
    assert re.search(r'name="without_mandate" value="1" >', page)  # the box, not ticked


def test_the_filter_combines_with_the_search(viewer_client, debtors):
    response = viewer_client.get("/customers/", query_string={"without_mandate": "1", "q": "un"})
    assert listed(response) == {debtors["customers"]["unsigned"].id}


def test_the_csv_of_the_filtered_list_is_the_mandates_file_to_fill_in(admin_client, debtors):
    response = admin_client.get("/customers.csv?without_mandate=1")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    names = {debtors["customers"][k].name for k in MISSING}
    assert {row["name"] for row in rows} == names
    assert all(row["mandateNumber"] == "" for row in rows)


def test_a_bad_value_is_explained(viewer_client, debtors):
    response = viewer_client.get("/customers/?without_mandate=maybe")
    assert response.status_code == 400
    assert 'data-field="without_mandate"' in response.get_data(as_text=True)
