"""A provider answering 429 or 5xx: a fetch (an idempotent GET) is tried again a few times
at once, honouring a short ``Retry-After``, then left to the job's "try later"; a create is
not repeated by the client — the customer is asked to try again, and the next click sends
the same Idempotency-Key, so it makes one payment. ``responses`` (unknown calls fail) and
the provider emulator's faults."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
import responses

from collector.extensions import db
from collector.payments import (
    PaymentRequest,
    ProviderClient,
    RateLimited,
    Unavailable,
    checkout,
    notifications,
)
from collector.payments import jobs as payments_jobs
from collector.payments.models import NotificationStatus, OnlinePayment
from collector.payments.provider import MAX_RETRY_AFTER, READ_RETRIES
from tests.conftest import csrf_token
from tests.payments.sandbox_provider import closed_port_url
from tests.support.factories import make_customer, make_invoice, make_profile

API = "https://api.mollie.test/v2"
PAYMENT_ID = "tr_7UhSN1zuXS"
PAYMENT_URL = f"{API}/payments/{PAYMENT_ID}"
CHECKOUT = "https://checkout.test/tr_7UhSN1zuXS"
PAYMENT = {
    "resource": "payment",
    "id": PAYMENT_ID,
    "status": "open",
    "amount": {"currency": "EUR", "value": "121.00"},
    "createdAt": "2026-11-21T10:00:00+00:00",
    "_links": {"checkout": {"href": CHECKOUT, "type": "text/html"}},
}
BUSY = {"status": 429, "title": "Too Many Requests", "detail": "Slow down."}
DOWN = {"status": 503, "title": "Service Unavailable", "detail": "Back soon."}


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(sleeps) -> ProviderClient:
    return ProviderClient(requests.Session(), API, "test_x", sleep=sleeps.append)


def test_a_fetch_that_meets_a_5xx_is_sent_again_after_a_short_backoff(rsps, api, sleeps):
    rsps.get(PAYMENT_URL, status=503, json=DOWN)
    rsps.get(PAYMENT_URL, status=502, json={"status": 502})
    rsps.get(PAYMENT_URL, json=PAYMENT)

    assert api.get_payment(PAYMENT_ID)["id"] == PAYMENT_ID

    assert len(rsps.calls) == 3
    assert len(sleeps) == 2 and all(0 < wait <= 1.0 for wait in sleeps)


def test_a_fetch_that_meets_a_429_waits_as_long_as_retry_after_says(rsps, api, sleeps):
    rsps.get(PAYMENT_URL, status=429, json=BUSY, headers={"Retry-After": "2"})
    rsps.get(PAYMENT_URL, json=PAYMENT)

    assert api.get_payment(PAYMENT_ID)["status"] == "open"

    assert sleeps == [2.0] and len(rsps.calls) == 2


def test_a_long_retry_after_is_left_to_the_job(rsps, api, sleeps):
    wait = int(MAX_RETRY_AFTER) + 55
    rsps.get(PAYMENT_URL, status=429, json=BUSY, headers={"Retry-After": str(wait)})

    with pytest.raises(RateLimited) as caught:
        api.get_payment(PAYMENT_ID)

    assert caught.value.retry_after == wait
    assert sleeps == [] and len(rsps.calls) == 1


@pytest.mark.parametrize(("status", "error"), [(503, Unavailable), (429, RateLimited)])
def test_a_fetch_gives_up_after_a_few_tries(rsps, api, sleeps, status, error):
    rsps.get(PAYMENT_URL, status=status, json=DOWN | {"status": status})

    with pytest.raises(error):
        api.get_payment(PAYMENT_ID)

    assert len(rsps.calls) == 1 + READ_RETRIES


@pytest.mark.parametrize(("status", "error"), [(503, Unavailable), (429, RateLimited)])
def test_a_create_is_never_sent_twice_by_the_client(rsps, api, sleeps, status, error):
    rsps.post(f"{API}/payments", status=status, json=DOWN | {"status": status})
    request = PaymentRequest(Decimal("121.00"), "EUR", "Invoice 1", CHECKOUT, CHECKOUT)

    with pytest.raises(error):
        api.create_payment(request, idempotency_key="checkout-1")

    # The customer's next click sends it again, with the same key.
    assert len(rsps.calls) == 1 and sleeps == []


# -- through the payment page and the webhook's job ----------------------------------------


@pytest.fixture
def provider(app, monkeypatch, rsps):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://pay.example.com")
    return rsps


def pay_online(client, invoice):
    token = csrf_token(client, f"/pay/{invoice.payment_token}")
    return client.post(f"/pay/{invoice.payment_token}/online", data={"csrf_token": token})


@pytest.mark.parametrize(("status", "body"), [(429, BUSY), (503, DOWN), (502, {"status": 502})])
def test_pay_online_after_a_busy_provider_asks_to_try_again_and_makes_one_payment(
    app, client, provider, status, body
):
    # An English-speaking customer: the page speaks the customer's language.
    english = make_customer(language="en")
    invoice = make_invoice(profile=make_profile(allow_payment_link=True), customer=english)
    provider.post(f"{API}/payments", status=status, json=body, headers={"Retry-After": "1"})
    provider.post(f"{API}/payments", status=201, json=PAYMENT)

    first = pay_online(client, invoice)
    assert first.status_code == 503
    assert "Please try again in a few minutes." in first.get_data(as_text=True)
    second = pay_online(client, invoice)

    assert second.status_code == 303 and second.headers["Location"] == CHECKOUT
    keys = {call.request.headers["Idempotency-Key"] for call in provider.calls}
    assert len(provider.calls) == 2 and len(keys) == 1
    assert db.session.scalars(db.select(OnlinePayment.provider_id)).all() == [PAYMENT_ID]


def test_the_webhooks_job_gets_the_payment_despite_a_passing_5xx(app, provider):
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    db.session.add(
        OnlinePayment(
            invoice_id=invoice.id, provider_id=PAYMENT_ID, amount=invoice.amount_due, currency="EUR"
        )
    )
    db.session.commit()
    notification = notifications.receive(PAYMENT_ID)
    provider.get(PAYMENT_URL, status=503, json=DOWN)
    provider.get(PAYMENT_URL, json=PAYMENT)

    payments_jobs.handle_provider_webhook(notification.id)

    db.session.expire_all()
    assert notification.status == NotificationStatus.PROCESSED


def test_an_answer_lost_on_create_makes_one_payment_at_the_provider(app, sandbox):
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    sandbox.control("faults", {"kind": "lost", "count": 1, "status": 502})
    start = {"redirect_url": "https://pay.example.com/back", "webhook_url": closed_port_url()}

    with pytest.raises(checkout.CheckoutRefused, match="try again in a few minutes"):
        checkout.start_checkout(sandbox.client, invoice, **start)
    url = checkout.start_checkout(sandbox.client, invoice, **start)

    at_provider = requests.get(f"{sandbox.root}/_control/payments", timeout=10).json()["data"]
    assert [p["id"] for p in at_provider] == [checkout.latest(invoice).provider_id]
    assert url.endswith(at_provider[0]["id"])
