"""Paying online, once: simultaneous "Pay online" clicks make one checkout at the provider
emulator (the document's row lock and the Idempotency-Key), and money paid beyond what was
due becomes an overpayment that an admin refunds through the emulator or keeps."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
import requests

from collector.core.columns import utcnow
from collector.documents import amounts, ledger
from collector.documents.models import (
    Invoice,
    InvoiceState,
    Overpayment,
    OverpaymentStatus,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.payments import checkout
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment
from tests.conftest import csrf_token
from tests.support.factories import make_invoice, make_profile

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CLICKS = 8


@pytest.fixture
def paying_app(app, provider, live_server, monkeypatch):
    """The app on a real port (the emulator calls its webhook there), paying through the
    provider emulator."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", f"{provider.url}/v2")
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_sandbox")
    return app


@pytest.fixture
def invoice(paying_app):
    return make_invoice(number="2026/0042", profile=make_profile(allow_payment_link=True))


def reload(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def provider_payments(provider) -> list[dict]:
    return provider.control("GET", "payments")["data"]


def click_pay_online(live_server: str, invoice: Invoice, clicks: int) -> list[requests.Response]:
    """``clicks`` browser tabs with the payment page open press "Pay online" at once."""
    page = f"{live_server}/pay/{invoice.payment_token}"
    tabs = []
    for _ in range(clicks):
        http = requests.Session()
        tabs.append((http, CSRF.search(http.get(page, timeout=10).text).group(1)))
    barrier = threading.Barrier(clicks)
    answers: list[requests.Response | None] = [None] * clicks

    def click(index: int) -> None:
        http, token = tabs[index]
        barrier.wait(timeout=10)
        answers[index] = http.post(
            f"{page}/online", data={"csrf_token": token}, allow_redirects=False, timeout=30
        )

    threads = [threading.Thread(target=click, args=(i,)) for i in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def pay_at_the_checkout(provider, checkout_url: str) -> None:
    answer = provider.http.post(checkout_url, data={"action": "paid"}, allow_redirects=False)
    assert answer.status_code == 303


def apply_from_the_provider(app, provider_id: str) -> None:
    """What the webhook's job does: fetch the payment and apply it."""
    checkout.refresh(payments_setup.provider(app), provider_id)


@pytest.mark.postgres
def test_simultaneous_clicks_make_one_checkout(paying_app, invoice, provider, live_server):
    answers = click_pay_online(live_server, invoice, CLICKS)

    assert [a.status_code for a in answers] == [303] * CLICKS
    (made,) = provider_payments(provider)
    assert {a.headers["Location"] for a in answers} == {made["_links"]["checkout"]["href"]}
    assert provider.calls() == {"POST /v2/payments": 1}
    rows = db.session.scalars(
        db.select(OnlinePayment).where(OnlinePayment.invoice_id == invoice.id)
    ).all()
    assert [r.provider_id for r in rows] == [made["id"]]
    assert rows[0].idempotency_key == f"checkout-{invoice.teamleader_id}-121.00EUR-after-0"
    started = [e for e in reload(invoice).events if e.kind == "online_payment"]
    assert len(started) == 1


@pytest.mark.postgres
def test_a_lost_answer_then_a_second_click_make_one_checkout(
    paying_app, invoice, provider, live_server
):
    provider.control("POST", "faults", json={"kind": "lost", "status": 502})

    (lost,) = click_pay_online(live_server, invoice, 1)
    (again,) = click_pay_online(live_server, invoice, 1)

    assert lost.status_code == 503 and again.status_code == 303
    (made,) = provider_payments(provider)
    assert again.headers["Location"] == made["_links"]["checkout"]["href"]
    assert provider.calls() == {"POST /v2/payments": 2}
    assert db.session.scalars(db.select(OnlinePayment.provider_id)).all() == [made["id"]]


def test_two_paid_checkouts_are_an_overpayment_refunded_through_the_provider(
    paying_app, invoice, provider, live_server, admin_client, clock
):
    # The first checkout is still open at the provider when, later, a second is started.
    (first,) = click_pay_online(live_server, invoice, 1)
    clock.advance(minutes=11)
    (second,) = click_pay_online(live_server, invoice, 1)
    assert first.headers["Location"] != second.headers["Location"]
    for answer in (first, second):
        pay_at_the_checkout(provider, answer.headers["Location"])
    for made in provider_payments(provider):
        apply_from_the_provider(paying_app, made["id"])

    invoice = reload(invoice)
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == Decimal("0.00")
    assert amounts.overpaid(invoice) == Decimal("121.00")
    (row,) = db.session.scalars(db.select(Overpayment)).all()
    assert (row.status, row.amount) == (OverpaymentStatus.OPEN, Decimal("121.00"))
    assert any(e.kind == "overpaid" for e in invoice.events)

    path = f"/invoices/{invoice.id}"
    page = admin_client.get(path).get_data(as_text=True)
    assert 'id="overpayment"' in page and "Refund €121.00</button>" in page
    response = admin_client.post(
        f"{path}/overpayment/refund", data={"csrf_token": csrf_token(admin_client, path)}
    )

    assert response.status_code == 302 and response.location.endswith(path)
    invoice = reload(invoice)
    row = db.session.get(Overpayment, row.id)
    assert row.status == OverpaymentStatus.REFUNDED and row.refund_id.startswith("re_")
    assert row.resolved_by == "user:admin@example.com"
    at_provider = provider.control("GET", f"payments/{row.online_payment.provider_id}")["data"]
    assert [r["id"] for r in at_provider["refunds"]] == [row.refund_id]
    assert at_provider["refunds"][0]["amount"] == {"value": "121.00", "currency": "EUR"}
    refunds = [p for p in invoice.payments if p.kind == PaymentKind.REFUND]
    assert [(r.amount, r.reference) for r in refunds] == [(Decimal("-121.00"), row.refund_id)]
    assert invoice.state == InvoiceState.PAID and amounts.overpaid(invoice) == Decimal("0.00")
    assert "Overpaid documents" in admin_client.get("/sync-problems/").get_data(as_text=True)
    assert f'data-overpayment="{row.id}" data-status="refunded"' in admin_client.get(path).get_data(
        as_text=True
    )

    # The provider's later word on the same payment changes nothing.
    apply_from_the_provider(paying_app, row.online_payment.provider_id)
    invoice = reload(invoice)
    assert len([p for p in invoice.payments if p.kind == PaymentKind.REFUND]) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Overpayment)) == 1


def test_paid_online_after_a_bank_transfer_is_kept_with_a_reason(
    paying_app, invoice, provider, live_server, admin_client
):
    (opened,) = click_pay_online(live_server, invoice, 1)
    ledger.record_payment(
        invoice,
        key="bank:transfer-1",
        amount=Decimal("121.00"),
        occurred_at=utcnow(),
        source=PaymentSource.BANK,
        actor="bank",
    )
    db.session.commit()
    # The customer still had the checkout open, and pays it.
    pay_at_the_checkout(provider, opened.headers["Location"])
    (made,) = provider_payments(provider)
    apply_from_the_provider(paying_app, made["id"])
    (row,) = db.session.scalars(db.select(Overpayment)).all()
    assert row.status == OverpaymentStatus.OPEN and row.amount == Decimal("121.00")
    problems = admin_client.get("/sync-problems/").get_data(as_text=True)
    assert f'<tr data-overpayment="{row.id}">' in problems

    path = f"/invoices/{invoice.id}"
    response = admin_client.post(
        f"{path}/overpayment/keep",
        data={
            "keep-reason": "Credit for the next invoice",
            "csrf_token": csrf_token(admin_client, path),
        },
    )

    assert response.status_code == 302
    row = db.session.get(Overpayment, row.id)
    db.session.refresh(row)
    assert row.status == OverpaymentStatus.KEPT and row.reason == "Credit for the next invoice"
    messages = [e.message for e in reload(invoice).events]
    assert "Overpayment of €121.00 kept: Credit for the next invoice" in messages
    assert f'data-overpayment="{row.id}"' not in admin_client.get("/sync-problems/").get_data(
        as_text=True
    )
    assert provider_payments(provider)[0]["amountRemaining"] == {
        "value": "121.00",
        "currency": "EUR",
    }
