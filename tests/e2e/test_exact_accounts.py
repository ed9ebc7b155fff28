"""The customer's Exact account found by its compact VAT number, against the Exact sandbox.

The sandbox filters ``VATNumber`` on the stored text as Exact does (case aside): its
accounts 1–3 hold compact numbers, account 4 one printed the Belgian way
(``BE 0xxx.xxx.xxx``) and account 5 one without the country prefix.
"""

from __future__ import annotations

import pytest

from collector.exact import accounts as exact_accounts
from collector.exact import setup as exact_setup
from collector.exact.models import ExactAccount
from collector.extensions import db
from sandbox.exact.emulator import EXTENSION
from tests.e2e.conftest import Sandbox, serve
from tests.support import exact as support
from tests.support.factories import make_customer

SEED = 3


@pytest.fixture
def exact_sandbox():
    from sandbox import exact

    app = exact.create_app({"SEED": SEED, "MINUTE_WINDOW": support.MINUTE_WINDOW})
    server, thread = serve(app)
    yield Sandbox(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def exact(app, admin, exact_sandbox):
    """A connection to the sandbox's first administration, e-mail matching switched off
    (the seeded accounts' addresses are not our customers')."""
    saved = dict(app.config)
    app.config.update(support.exact_config(exact_sandbox.url))
    connection = support.connect(app, admin)
    support.choose(app, connection, None)
    connection.skip_email_match = True
    db.session.commit()
    yield connection, exact_setup.client(app, connection)
    app.config.clear()
    app.config.update(saved)


def seeded_accounts(exact_sandbox, division: int) -> dict[int, dict]:
    """The sandbox's accounts of ``division`` by their number (Code)."""
    store = exact_sandbox.app.extensions[EXTENSION].store
    with store.lock:
        rows = store.divisions[division].table("crm/Accounts").values()
        return {int(r["Code"]): dict(r) for r in rows}


def account_calls(exact_sandbox) -> list[dict]:
    return [c for c in exact_sandbox.control("GET", "calls") if "crm/Accounts" in c["path"]]


def bare(vat_number: str) -> str:
    return "".join(ch for ch in vat_number if ch.isdigit())


def printed(vat_number: str) -> str:
    """The Belgian way: BE 0477.472.701."""
    d = bare(vat_number)
    return f"BE {d[:4]}.{d[4:7]}.{d[7:]}"


@pytest.mark.parametrize(
    ("number", "typed_here"),
    [
        (1, printed),  # Exact holds BE…, Teamleader the printed form
        (2, bare),  # Teamleader without prefix, read with the customer's country
        (4, lambda v: "be" + bare(v)),  # Exact holds "BE 0xxx.xxx.xxx", typed otherwise here
        (5, lambda v: "BE" + bare(v)),  # Exact holds it without prefix
    ],
)
def test_the_account_is_found_by_the_compact_vat_number(exact, exact_sandbox, number, typed_here):
    connection, client = exact
    account = seeded_accounts(exact_sandbox, connection.division)[number]
    customer = make_customer(country="BE", vat_number=typed_here(account["VATNumber"]))
    exact_sandbox.control("DELETE", "calls")

    found = exact_accounts.account_for(customer, connection, client)

    assert found == str(account["ID"])
    link = db.session.scalars(db.select(ExactAccount).filter_by(customer_id=customer.id)).one()
    assert link.matched_by == "vat"
    [call] = account_calls(exact_sandbox)  # one look-up, nothing created
    assert call["method"] == "GET" and call["status"] == 200


def test_a_look_up_with_the_typed_number_alone_would_have_missed(exact, exact_sandbox):
    # What the code did before: the raw Teamleader text finds nothing in Exact.
    connection, client = exact
    account = seeded_accounts(exact_sandbox, connection.division)[1]
    assert client.find_accounts(vat_numbers=[printed(account["VATNumber"])]) == []
    assert [a["ID"] for a in client.find_accounts(vat_numbers=[account["VATNumber"]])] == [
        str(account["ID"])
    ]


def test_a_new_account_gets_the_compact_number_and_an_invalid_one_none(exact, exact_sandbox):
    connection, client = exact
    valid = make_customer(name="Nieuw BV", country="BE", vat_number="0477.472.701")
    typo = make_customer(name="Typo BV", country="BE", vat_number="BE 0477.472.702")

    created_valid = exact_accounts.account_for(valid, connection, client)
    exact_sandbox.control("DELETE", "calls")
    created_typo = exact_accounts.account_for(typo, connection, client)

    accounts = {
        str(a["ID"]): a for a in seeded_accounts(exact_sandbox, connection.division).values()
    }
    assert accounts[created_valid]["VATNumber"] == "BE0477472701"
    assert accounts[created_valid]["Status"] == "C"
    assert accounts[created_typo]["VATNumber"] is None
    # No look-up by a number that is not valid: straight to creating the account.
    assert [c["method"] for c in account_calls(exact_sandbox)] == ["POST"]
    # The second customer with the same (now compact) number finds the first one's account.
    again = make_customer(name="Nieuw BV (2)", country="BE", vat_number="BE0477472701")
    assert exact_accounts.account_for(again, connection, client) == created_valid
