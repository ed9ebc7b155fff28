"""The customer's Exact account: matched and created with the compact VAT number only.

HTTP through ``responses`` against the real client: a call not registered fails the test.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from collector.exact import ExactClient, ExactError, StaticTokenSource, build_session
from collector.exact import accounts as exact_accounts
from collector.exact.models import ExactAccount, ExactConnection
from collector.extensions import db
from tests.exact.support import DIVISION, HOST, TOKEN, url
from tests.support.factories import make_customer

ACCOUNTS = url("crm/Accounts")
OURS = "11111111-1111-4111-8111-111111111111"
DUTCH = "22222222-2222-4222-8222-222222222222"
NEW = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client(rsps) -> ExactClient:
    return ExactClient(build_session(), HOST, StaticTokenSource(TOKEN), DIVISION, max_retries=0)


@pytest.fixture
def connection(app) -> ExactConnection:
    row = ExactConnection(
        country="be", host=HOST, exact_user_id="u", division=DIVISION, skip_email_match=True
    )
    db.session.add(row)
    db.session.commit()
    return row


def listed(*accounts: dict) -> dict:
    return {"d": {"results": list(accounts)}}


def account(ident: str, vat_number: str | None, country: str = "BE ", **extra) -> dict:
    return {
        "ID": ident,
        "Code": "                42",
        "Name": "Acme",
        "Status": "C",
        "VATNumber": vat_number,
        "Country": country,
        **extra,
    }


def vat_filter(call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["$filter"][0]


def test_the_look_up_asks_for_the_compact_number_and_its_spellings(rsps, client, connection):
    customer = make_customer(country="BE", vat_number="0477.472.701")
    # Exact compares text: a Dutch account holding the same digits comes back too, and an
    # account holding the printed form; only the one whose number reads as ours is taken.
    rsps.get(
        ACCOUNTS,
        json=listed(account(DUTCH, "0477472701", country="NL "), account(OURS, "be 0477.472.701")),
    )

    assert exact_accounts.account_for(customer, connection, client) == OURS

    assert vat_filter(rsps.calls[0]) == (
        "(VATNumber eq 'BE0477472701' or VATNumber eq '0477472701'"
        " or VATNumber eq '0477.472.701' or VATNumber eq 'BE 0477.472.701')"
    )
    link = db.session.scalars(db.select(ExactAccount).filter_by(customer_id=customer.id)).one()
    assert (link.account_id, link.matched_by) == (OURS, "vat")


def test_not_found_creates_the_account_with_the_compact_number(rsps, client, connection):
    customer = make_customer(name="Acme", country="BE", vat_number="BE 0477.472.701")
    rsps.get(ACCOUNTS, json=listed(account(DUTCH, "0477472701", country="NL ")))
    rsps.post(ACCOUNTS, json={"d": account(NEW, "BE0477472701")}, status=201)

    assert exact_accounts.account_for(customer, connection, client) == NEW

    body = json.loads(rsps.calls[1].request.body)
    assert body["VATNumber"] == "BE0477472701"
    assert body["Status"] == "C"
    link = db.session.scalars(db.select(ExactAccount).filter_by(customer_id=customer.id)).one()
    assert link.matched_by == "created"


def test_an_invalid_number_is_neither_looked_up_nor_sent(rsps, client, connection):
    customer = make_customer(name="Typo", country="BE", vat_number="BE 0477.472.702")
    assert customer.vat_warning  # the customer shows why
    rsps.post(ACCOUNTS, json={"d": account(NEW, None)}, status=201)

    assert exact_accounts.account_for(customer, connection, client) == NEW

    [call] = rsps.calls  # no GET by VAT number
    assert "VATNumber" not in json.loads(call.request.body)


def test_e_mail_first_then_the_vat_number(rsps, client, connection):
    connection.skip_email_match = False
    customer = make_customer(
        email="billing@acme.example", country="NL", vat_number="NL004495445B01"
    )
    rsps.get(ACCOUNTS, json=listed())
    rsps.get(ACCOUNTS, json=listed(account(OURS, "NL004495445B01", country="NL ")))

    assert exact_accounts.account_for(customer, connection, client) == OURS

    assert vat_filter(rsps.calls[0]) == "Email eq 'billing@acme.example'"
    assert vat_filter(rsps.calls[1]) == (
        "(VATNumber eq 'NL004495445B01' or VATNumber eq '004495445B01')"
    )


# -- one search per batch, kept for the run only (issue 22) ---------------------------------

OTHER = "44444444-4444-4444-8444-444444444444"


def test_a_batch_of_customers_is_searched_once_for_the_run(rsps, client, connection):
    connection.skip_email_match = False
    by_mail = make_customer(email="pay@mail.example", country="BE", vat_number=None)
    by_vat = make_customer(email=None, country="BE", vat_number="BE 0477.472.701")
    unknown = make_customer(email="new@nowhere.example", country="BE", vat_number=None)
    linked = make_customer(email="linked@acme.example")
    db.session.add(
        ExactAccount(customer_id=linked.id, division=DIVISION, account_id=OTHER, matched_by="x")
    )
    db.session.commit()
    rsps.get(
        ACCOUNTS,
        json=listed(
            account(OURS, None, Email="PAY@mail.example"),
            account(DUTCH, "BE0477472701"),
        ),
    )
    rsps.post(ACCOUNTS, json={"d": account(NEW, None)}, status=201)
    run = exact_accounts.RunAccounts(connection, client)

    run.expect([by_mail, by_vat, unknown, linked, by_mail])
    found = [
        exact_accounts.account_for(c, connection, client, run)
        for c in (by_mail, by_vat, unknown, linked, by_mail)
    ]

    assert found == [OURS, DUTCH, NEW, OTHER, OURS]
    assert [c.request.method for c in rsps.calls] == ["GET", "POST"]  # one search, one create
    terms = vat_filter(rsps.calls[0])
    assert "Email eq 'pay@mail.example'" in terms and "Email eq 'new@nowhere.example'" in terms
    assert "VATNumber eq 'BE0477472701'" in terms and "linked@acme.example" not in terms
    links = {a.customer_id: a.matched_by for a in db.session.scalars(db.select(ExactAccount))}
    assert links[by_mail.id] == "email" and links[by_vat.id] == "vat"
    assert links[unknown.id] == "created"


def test_the_next_run_searches_again(rsps, client, connection):
    customer = make_customer(country="BE", vat_number="BE 0477.472.701")
    rsps.get(ACCOUNTS, json=listed())  # nothing in Exact during the first run
    first = exact_accounts.RunAccounts(connection, client)
    first.expect([customer])
    assert first.found(customer) == (None, None)
    assert first.found(customer) == (None, None)  # asked once in the run

    rsps.get(ACCOUNTS, json=listed(account(OURS, "BE0477472701")))  # added in Exact since
    second = exact_accounts.RunAccounts(connection, client)
    second.expect([customer])

    assert exact_accounts.account_for(customer, connection, client, second) == OURS
    assert len(rsps.calls) == 2


def test_a_search_that_fails_is_not_kept_as_nothing_found(rsps, client, connection):
    customer = make_customer(country="BE", vat_number="BE 0477.472.701")
    rsps.get(ACCOUNTS, json={"error": {"message": {"value": "down"}}}, status=503)
    run = exact_accounts.RunAccounts(connection, client)
    run.expect([customer])

    with pytest.raises(ExactError):
        exact_accounts.account_for(customer, connection, client, run)

    rsps.get(ACCOUNTS, json=listed(account(OURS, "BE0477472701")))
    # Searched again, not taken as "no account": no second account is created for it.
    assert exact_accounts.account_for(customer, connection, client, run) == OURS
    assert [c.request.method for c in rsps.calls] == ["GET", "GET"]
