"""The dashboard as a page: login, the figures and charts as text, the links into the
invoice list, the company entity filter, and the needs-attention list with one item
per thing that waits for a person."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from collector.core import clock as core_clock
from collector.core.oauth import ConnectionStatus
from collector.direct_debit.models import (
    BankFile,
    BankFileKind,
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
    CollectionStatus,
)
from collector.documents.models import (
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    InvoiceState,
    Overpayment,
)
from collector.exact.models import BookingStatus, ExactBooking, ExactConnection
from collector.extensions import db
from collector.payments.models import ProviderProblem, ProviderStatus
from collector.teamleader.models import SyncStatus, TeamleaderConnection, TeamleaderSync
from collector.web import needs_attention
from tests.support.factories import (
    make_collection,
    make_customer,
    make_invoice,
    make_mandate,
    make_profile,
)

D = Decimal
DEPARTMENTS = [
    {"id": "dep-be", "name": "Acme Belgium", "currency": "EUR"},
    {"id": "dep-nl", "name": "Acme Nederland", "currency": "EUR"},
]


def add(row):
    db.session.add(row)
    db.session.commit()
    return row


def connect_teamleader(**overrides) -> TeamleaderConnection:
    values = {"account_id": "acc", "webhook_token": "hook", "departments": DEPARTMENTS}
    return add(TeamleaderConnection(**{**values, **overrides}))


def overdue(days: int, amount: str = "121.00", **overrides):
    today = core_clock.local_today()
    values = {
        "due_date": today - timedelta(days=days),
        "state": InvoiceState.EXPIRED if days > 0 else InvoiceState.BOOKED,
        "amount_due": D(amount),
    }
    return make_invoice(**{**values, **overrides})


def page(client, query: str = "") -> str:
    response = client.get("/" + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_the_dashboard_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_figures_are_shown_as_numbers(viewer_client):
    connect_teamleader()
    overdue(-3, "100.00")  # due soon
    overdue(10, "40.50")
    overdue(45, "9.50")

    html = page(viewer_client)

    assert re.search(r'id="figure-outstanding".*?data-amount="150.00"', html, re.S)
    assert re.search(r'id="figure-overdue".*?data-amount="50.00"', html, re.S)
    assert re.search(r'id="figure-due-soon".*?data-amount="100.00"', html, re.S)
    rows = dict(re.findall(r'<tr data-bucket="([^"]+)">.*?data-amount="([^"]+)"', html, re.S))
    assert rows == {
        "current": "100.00",
        "1-30": "40.50",
        "31-60": "9.50",
        "61-90": "0.00",
        "90+": "0.00",
    }


def test_the_charts_are_svg_with_a_title_and_a_description(viewer_client):
    overdue(10)
    html = page(viewer_client)
    charts = re.findall(r'<svg class="chart"[^>]*role="img"[^>]*>.*?</svg>', html, re.S)
    assert len(charts) == 2
    for chart in charts:
        assert "<title" in chart and "<desc" in chart and "<rect" in chart
    assert "<script" not in html.split("</head>")[1]


def test_each_aging_bar_links_to_the_invoice_list_filtered_by_days_overdue(viewer_client):
    overdue(10)
    links = hrefs(page(viewer_client))
    for query in (
        "/invoices/?overdue_to=0",
        "/invoices/?overdue_from=1&overdue_to=30",
        "/invoices/?overdue_from=31&overdue_to=60",
        "/invoices/?overdue_from=61&overdue_to=90",
        "/invoices/?overdue_from=91",
    ):
        # Once from the chart's bar, once from the table's row.
        assert links.count(query) == 2, query
    assert "/invoices/?overdue_from=1" in links  # the overdue figure
    assert "/invoices/?overdue_to=0&sort=due_date" in links  # due soon, nearest first


def test_one_company_entity(viewer_client):
    connect_teamleader()
    overdue(10, "10.00", department_id="dep-be")
    overdue(10, "20.00", department_id="dep-nl")

    html = page(viewer_client, "?department_id=dep-nl")

    assert re.search(r'id="figure-overdue".*?data-amount="20.00"', html, re.S)
    assert "Acme Nederland only" in html
    assert "/invoices/?overdue_from=1&overdue_to=30&department_id=dep-nl" in hrefs(html)
    assert viewer_client.get("/?department_id=dep-xx").status_code == 400


def test_nothing_needs_attention(viewer_client):
    connect_teamleader()
    assert 'id="nothing-to-do"' in page(viewer_client)


def attention(html: str) -> dict[str, str]:
    """data-item → the item's HTML."""
    return dict(re.findall(r'<li data-item="([^"]+)">(.*?)</li>', html, re.S))


@pytest.fixture
def problems(app):
    """One of each thing that needs a person; returns the expected (count, amount)."""
    connect_teamleader(status=ConnectionStatus.RECONNECT_NEEDED, last_error="invalid_grant")
    add(
        ExactConnection(
            country="be",
            host="https://start.exactonline.be",
            exact_user_id="u",
            status=ConnectionStatus.RECONNECT_NEEDED,
        )
    )
    add(ProviderStatus(id=1, problem=ProviderProblem.KEY_REJECTED, detail="Invalid API key"))
    returned = make_collection(status=CollectionStatus.RETURNED)
    returned.invoice.state = InvoiceState.EXPIRED
    paid_anyway = make_collection(status=CollectionStatus.REJECTED)
    paid_anyway.invoice.state, paid_anyway.invoice.amount_due = InvoiceState.PAID, D("0")
    bank_file = add(
        BankFile(kind=BankFileKind.CAMT053, filename="a.xml", sha256="0" * 64, file_key="k")
    )
    for n, status in enumerate(
        [BankTransactionStatus.UNMATCHED] * 2 + [BankTransactionStatus.MATCHED]
    ):
        add(
            BankTransaction(
                bank_file_id=bank_file.id,
                key=f"transfer:{n}",
                kind=BankTransactionKind.TRANSFER,
                status=status,
                amount=D("10.25"),
            )
        )
    add(Overpayment(invoice_id=make_invoice().id, amount=D("5.00"), currency="EUR"))
    # Direct debit on the profile, no active mandate: two documents of one customer.
    direct = make_profile(allow_direct_debit=True)
    unsigned = make_customer()
    make_invoice(customer=unsigned, profile=direct, amount_due=D("30.00"))
    make_invoice(customer=unsigned, profile=direct, amount_due=D("12.00"))
    signed = make_mandate(profile=direct)
    make_invoice(customer=signed.customer, profile=direct)  # has a mandate
    add(TeamleaderSync(invoice=make_invoice(), wanted=1, held=D("0"), status=SyncStatus.FAILED))
    add(ExactBooking(invoice_id=make_invoice().id, division=1, status=BookingStatus.FAILED))
    for status in (
        DocumentMailStatus.FAILED,
        DocumentMailStatus.UNCERTAIN,
        DocumentMailStatus.SENT,
        DocumentMailStatus.HELD,  # an import held it: a person decides
    ):
        add(
            DocumentMail(
                invoice_id=make_invoice().id,
                kind=DocumentMailKind.INVITATION,
                key="invitation",
                status=status,
            )
        )
    make_invoice(pdf_failures=2)
    make_invoice(pdf_failures=0)
    db.session.commit()
    return {
        "came_back": (1, D("121.00")),
        "unmatched": (2, D("20.50")),
        "overpayments": (1, D("5.00")),
        "no_mandate": (1, D("42.00")),
        "teamleader_sync": (1, None),
        "exact_failing": (1, None),
        "mails": (2, None),
        "held_mail": (1, None),
    }


def test_needs_attention_gathers_one_item_per_kind(app, problems):
    items = {item.key: item for item in needs_attention.needs_attention()}

    for key, expected in problems.items():
        assert (items[key].count, items[key].amount) == expected, key
    # Every document here lacks its PDF; one was refused by Teamleader.
    assert items["pdf_refused"].count == 1
    assert items["teamleader_reconnect"].detail == "invalid_grant"
    assert {"exact_reconnect", "provider"} <= items.keys()
    assert "callbacks" not in items  # nothing there: no item


def test_each_item_says_what_to_do_and_links_there(viewer_client, problems):
    items = attention(page(viewer_client))

    expected_links = {
        "teamleader_reconnect": "/integrations/teamleader",
        "exact_reconnect": "/integrations/exact",
        "provider": "/settings/online-payments/",
        "came_back": "/collections/",
        "unmatched": "/bank-files/unmatched",
        "overpayments": "/sync-problems/#overpayments",
        "no_mandate": "/customers/?without_mandate=1",
        "teamleader_sync": "/sync-problems/#teamleader",
        "exact_failing": "/integrations/exact#exact-failing",
        "mails": "/sync-problems/#mails",
        "held_mail": "/mail/held",
        "pdf_refused": "/invoices/?pdf=no",
    }
    assert set(items) == set(expected_links)
    for key, link in expected_links.items():
        assert hrefs(items[key])[0] == link, key
        assert re.search(r"<p>\S.{20,}</p>", items[key]), f"{key}: no instruction"
    assert 'data-count="2"' in items["unmatched"]
    assert "Invalid API key" in items["provider"]
    # The order puts what stops everything first.
    assert list(items)[:3] == ["teamleader_reconnect", "exact_reconnect", "provider"]


def test_without_teamleader_the_first_thing_to_do_is_connect_it(viewer_client):
    items = attention(page(viewer_client))
    assert list(items) == ["teamleader_not_connected"]
    assert hrefs(items["teamleader_not_connected"]) == ["/integrations/teamleader"]


def test_the_next_direct_debits_are_listed(viewer_client):
    collection = make_collection()  # € 121 in three days, in a file sent to the bank
    html = page(viewer_client)
    row = re.search(
        rf'<tr data-day="{collection.collection_date.isoformat()}" data-in-file="yes">(.*?)</tr>',
        html,
        re.S,
    )
    assert row and 'data-count="1"' in row.group(1) and 'data-amount="121.00"' in row.group(1)
