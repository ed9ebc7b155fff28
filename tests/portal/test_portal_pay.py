"""The portal's "pay the ticked invoices": what it refuses before anything reaches the
provider (another customer's invoice, a credit note, nothing ticked, two currencies, a
form without its token), and the provider's answer for an accepted one (through
``responses``: one payment for the sum, the ids in its metadata, an idempotency key)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import responses
import sqlalchemy as sa

from collector.documents.models import DocumentKind
from collector.extensions import db
from collector.payments.models import OnlinePayment
from tests.support.factories import make_customer, make_invoice, make_profile

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
API = "https://api.mollie.example/v2"


@pytest.fixture
def online(app):
    saved = dict(app.config)
    app.config.update(
        PAYMENT_PROVIDER_API_KEY="test_portal",
        PAYMENT_PROVIDER_URL=API,
        PUBLIC_BASE_URL="https://collector.example",
    )
    yield make_profile(allow_payment_link=True)
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def customer(app):
    return make_customer(language="en")


def pay(client, customer, ids):
    page = client.get(f"/portal/{customer.portal_token}")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(
        f"/portal/{customer.portal_token}/pay",
        data={"csrf_token": token, "invoice": [str(i) for i in ids]},
    )


def no_payment() -> bool:
    return db.session.scalars(sa.select(OnlinePayment)).all() == []


@responses.activate
def test_another_customers_invoice_is_refused(client, customer, online):
    mine = make_invoice(customer=customer, profile=online)
    theirs = make_invoice(profile=online)
    answer = pay(client, customer, [mine.id, theirs.id])
    assert answer.status_code == 404
    assert no_payment() and len(responses.calls) == 0


@responses.activate
def test_a_credit_note_or_nothing_ticked_is_refused(client, customer, online):
    make_invoice(customer=customer, profile=online)
    note = make_invoice(
        customer=customer,
        profile=online,
        kind=DocumentKind.CREDIT_NOTE,
        total_incl_vat=Decimal("-10.00"),
        amount_due=Decimal("0.00"),
    )
    assert pay(client, customer, [note.id]).status_code == 409
    assert pay(client, customer, []).status_code == 400
    assert pay(client, customer, [2**40]).status_code == 400
    assert no_payment() and len(responses.calls) == 0


@responses.activate
def test_two_currencies_are_refused(client, customer, online):
    euro = make_invoice(customer=customer, profile=online)
    dollar = make_invoice(customer=customer, profile=online, currency="USD")
    assert pay(client, customer, [euro.id, dollar.id]).status_code == 400
    assert no_payment() and len(responses.calls) == 0


@responses.activate
def test_a_form_without_its_token_starts_nothing(client, customer, online):
    invoice = make_invoice(customer=customer, profile=online)
    answer = client.post(f"/portal/{customer.portal_token}/pay", data={"invoice": invoice.id})
    assert answer.status_code == 400
    assert no_payment() and len(responses.calls) == 0


@responses.activate
def test_one_payment_for_the_sum_with_the_ids_in_its_metadata(client, customer, online, clock):
    first = make_invoice(customer=customer, profile=online, number="2026/1")
    second = make_invoice(customer=customer, profile=online, number="2026/2")
    responses.post(
        f"{API}/payments",
        status=201,
        json={
            "resource": "payment",
            "id": "tr_portal1",
            "status": "open",
            "amount": {"value": "242.00", "currency": "EUR"},
            "description": "Invoices 2026/1, 2026/2",
            "createdAt": "2026-12-04T10:00:00+00:00",
            "metadata": {"invoice_ids": [first.id, second.id]},
            "_links": {
                "checkout": {"href": "https://www.mollie.com/checkout/x", "type": "text/html"}
            },
        },
    )
    answer = pay(client, customer, [second.id, first.id])
    assert answer.status_code == 303
    assert answer.headers["Location"] == "https://www.mollie.com/checkout/x"
    [call] = responses.calls
    body = json.loads(call.request.body)
    assert body["amount"] == {"currency": "EUR", "value": "242.00"}
    assert body["metadata"] == {"invoice_ids": [first.id, second.id]}
    assert body["redirectUrl"] == f"https://collector.example/portal/{customer.portal_token}/return"
    assert call.request.headers["Idempotency-Key"].startswith("checkout-several-")
    online_payment = db.session.scalars(sa.select(OnlinePayment)).one()
    assert [p.invoice_id for p in online_payment.documents] == [first.id, second.id]

    # A second click a moment later is offered the same checkout: no second payment.
    again = pay(client, customer, [first.id, second.id])
    assert again.headers["Location"] == "https://www.mollie.com/checkout/x"
    assert len(responses.calls) == 1
