"""A provider webhook that never reaches us costs minutes, not money: the schedule reads
open checkouts again from the provider emulator and records what was paid there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from collector.documents.models import InvoiceState, Payment, PaymentSource
from collector.extensions import db
from collector.payments import checkout
from collector.payments import jobs as payments_jobs
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment
from tests.support.factories import make_invoice, make_profile
from tests.support.smtp import free_port

FETCH = "GET /v2/payments/<payment_id>"  # the emulator counts calls by route


@pytest.fixture
def unreachable_app(app, provider, monkeypatch):
    """Paying through the provider emulator, with our webhook at an address nobody answers
    (the app was down, or the call was lost on the way)."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", f"{provider.url}/v2")
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_sandbox")
    return app


def started_checkout(app) -> OnlinePayment:
    """A customer's checkout of a € 121.00 invoice, open at the provider."""
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    checkout.start_checkout(
        payments_setup.provider(app),
        invoice,
        redirect_url=f"{app.config['PUBLIC_BASE_URL']}/back",
        webhook_url=payments_setup.webhook_url(app),
    )
    return db.session.scalars(db.select(OnlinePayment)).one()


def test_a_payment_whose_webhook_never_arrived_is_recorded_a_few_minutes_later(
    unreachable_app, provider, clock
):
    online = started_checkout(unreachable_app)
    paid = provider.control(
        "POST", f"payments/{online.provider_id}/status", json={"status": "paid"}
    )
    assert paid["data"]["webhook"]["error"]  # the provider called; nobody answered

    assert payments_jobs.reread_open_payments().startswith("0 open payment(s)")  # too soon
    clock.advance(minutes=3)
    assert payments_jobs.reread_open_payments() == "1 open payment(s) read again, 1 changed"

    db.session.expire_all()
    online = db.session.get(OnlinePayment, online.id)
    assert online.status == "paid" and online.invoice.state == InvoiceState.PAID
    payment = db.session.scalars(db.select(Payment)).one()
    assert (payment.source, payment.amount) == (PaymentSource.PROVIDER, Decimal("121.00"))
    clock.advance(minutes=30)
    assert payments_jobs.reread_open_payments().startswith("0 open payment(s)")  # final now
    assert provider.calls()[FETCH] == 1


def test_an_abandoned_checkout_is_read_less_often_as_it_ages(unreachable_app, provider, clock):
    online = started_checkout(unreachable_app)

    reads = 0
    for _ in range(6 * 30):  # six hours, the schedule every two minutes
        clock.advance(minutes=2)
        reads += payments_jobs.reread_open_payments().startswith("1 open payment(s)")

    assert provider.calls()[FETCH] == reads
    # Every two minutes at first, then about a tenth of its age: some 24, not 180.
    assert 15 <= reads <= 30
    last_read = db.session.get(OnlinePayment, online.id).fetched_at
    assert last_read > online.created_at + timedelta(hours=5)
