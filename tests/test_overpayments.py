"""Money paid beyond what a document asked for: found from the ledger after every change,
shown on the document and the problems page, refunded through the provider or kept with
a reason by an admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses

from collector.documents import amounts, ledger
from collector.documents.models import (
    DocumentKind,
    Invoice,
    InvoiceState,
    Overpayment,
    OverpaymentStatus,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.payments.models import OnlinePayment
from collector.teamleader import crediting
from tests.conftest import csrf_token
from tests.support.factories import make_invoice

API = "https://api.mollie.test/v2"
PAID_AT = datetime(2026, 11, 5, 10, 30, tzinfo=UTC)


def pay(invoice: Invoice, key: str, amount: str = "121.00", source=PaymentSource.PROVIDER):
    payment = ledger.record_payment(
        invoice,
        key=key,
        amount=Decimal(amount),
        occurred_at=PAID_AT,
        source=source,
        actor="provider",
        reference=key.split(":")[1],
    )
    db.session.commit()
    return payment


def paid_online(invoice: Invoice, provider_id: str, amount: str = "121.00") -> Payment:
    """A checkout the customer paid: its row, as the provider's fetch left it, and the ledger."""
    db.session.add(
        OnlinePayment(
            invoice=invoice,
            provider_id=provider_id,
            amount=Decimal(amount),
            currency="EUR",
            status="paid",
            paid_at=PAID_AT,
        )
    )
    return pay(invoice, f"provider:{provider_id}", amount)


def credit(invoice: Invoice, excl: str, vat: str) -> Invoice:
    """A credit note held here on ``invoice``."""
    return make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        credited_invoice_id=invoice.id,
        total_excl_vat=Decimal(excl),
        total_vat=Decimal(vat),
        total_incl_vat=Decimal(excl) + Decimal(vat),
        amount_due=Decimal("0.00"),
    )


def rows(invoice: Invoice) -> list[tuple[OverpaymentStatus, Decimal]]:
    db.session.expire_all()
    found = db.session.scalars(
        db.select(Overpayment).where(Overpayment.invoice_id == invoice.id).order_by(Overpayment.id)
    )
    return [(r.status, r.amount) for r in found]


def messages(invoice: Invoice, kind: str) -> list[str]:
    db.session.expire_all()
    return [e.message for e in db.session.get(Invoice, invoice.id).events if e.kind == kind]


# Every test runs on a document made here (its ledger is read) and on one as an import
# makes it (``ledger_empty``: its first payment reads no payment nor overpayment rows).
@pytest.fixture(params=[False, True], ids=["ledger read", "ledger empty"])
def invoice(app, request):
    return make_invoice(number="2026/0042", ledger_empty=request.param)


def test_a_first_payment_beyond_the_due_is_an_overpayment_on_an_empty_ledger(invoice):
    pay(invoice, "provider:tr_1", "150.00")
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("29.00"))]
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.ledger_empty is False  # the next one reads them
    pay(invoice, "provider:tr_2", "10.00")
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("39.00"))]
    invoice = db.session.get(Invoice, invoice.id)
    assert [p.key for p in invoice.payments] == ["provider:tr_1", "provider:tr_2"]
    assert pay(invoice, "provider:tr_1", "150.00") is None  # a repeated webhook


# -- found from the ledger ----------------------------------------------------------------------


def test_two_payments_of_the_whole_are_an_open_overpayment(invoice):
    pay(invoice, "provider:tr_1")
    assert rows(invoice) == []

    pay(invoice, "provider:tr_2")

    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == Decimal("0.00")
    assert amounts.overpaid(invoice) == Decimal("121.00")
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("121.00"))]
    assert messages(invoice, "overpaid") == [
        "Overpaid by €121.00: the payments exceed what was payable. Refund it or keep it."
    ]


def test_the_open_overpayment_follows_the_amount_and_clears_on_its_own(invoice):
    pay(invoice, "provider:tr_1")
    second = pay(invoice, "provider:tr_2")
    pay(invoice, "bank:transfer-1", "10.00", PaymentSource.BANK)
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("131.00"))]
    assert messages(invoice, "overpaid")[-1] == "Overpaid by €131.00 now (was €121.00)."

    ledger.record_reversal(
        second,
        key="provider:chb_1",
        kind=PaymentKind.CHARGEBACK,
        amount=Decimal("121.00"),
        occurred_at=PAID_AT,
        actor="provider",
        reason_code="MD06",
    )
    db.session.commit()
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("10.00"))]
    bank = amounts.by_key("bank:transfer-1")
    ledger.cancel_entry(bank, "Removed in Teamleader", actor="teamleader")
    db.session.commit()

    assert rows(invoice) == [(OverpaymentStatus.CLEARED, Decimal("10.00"))]
    assert messages(invoice, "overpayment_resolved") == [
        "No longer overpaid (€10.00): the payments no longer exceed what was payable."
    ]


def test_credit_notes_and_teamleaders_own_payments_count(invoice):
    credit(invoice, "17.36", "3.64")
    pay(invoice, "teamleader:p-1", "50.00", PaymentSource.TEAMLEADER)

    pay(invoice, "provider:tr_1")

    # Payable 121 less the credit note's 21: 100 was owed, 171 paid.
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("71.00"))]


def test_a_credit_note_on_a_paid_invoice_opens_an_overpayment(invoice):
    pay(invoice, "provider:tr_1")
    assert invoice.state == InvoiceState.PAID and rows(invoice) == []
    credit(invoice, "25.00", "5.25")

    crediting.apply_credit(invoice, None, "teamleader", None)
    db.session.commit()

    # Paid in full, then credited 30.25: that much is now the customer's.
    assert invoice.state == InvoiceState.PAID
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("30.25"))]


def test_what_was_kept_is_not_asked_again_but_more_is(invoice, admin_client):
    pay(invoice, "provider:tr_1")
    pay(invoice, "provider:tr_2")
    keep(admin_client, invoice, "Credit for the next invoice")

    pay(invoice, "provider:tr_3", "5.00")

    assert rows(invoice) == [
        (OverpaymentStatus.KEPT, Decimal("121.00")),
        (OverpaymentStatus.OPEN, Decimal("5.00")),
    ]


def test_a_credit_note_is_never_overpaid(app):
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE, amount_due=Decimal("0.00"))
    assert amounts.overpaid(note) == Decimal("0.00")


# -- on the document's page, and what an admin does ----------------------------------------------


def keep(client, invoice: Invoice, reason: str):
    path = f"/invoices/{invoice.id}"
    return client.post(
        f"{path}/overpayment/keep",
        data={"keep-reason": reason, "csrf_token": csrf_token(client, path)},
    )


def refund(client, invoice: Invoice):
    path = f"/invoices/{invoice.id}"
    return client.post(f"{path}/overpayment/refund", data={"csrf_token": csrf_token(client, path)})


@pytest.fixture
def provider(app, monkeypatch):
    """A configured payment provider whose API is ``responses``; unknown calls fail."""
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    with responses.RequestsMock() as mock:
        yield mock


def refund_body(status: str = "pending") -> dict:
    return {
        "resource": "refund",
        "id": "re_abc",
        "amount": {"currency": "EUR", "value": "121.00"},
        "status": status,
        "createdAt": "2026-11-21T10:00:00+00:00",
        "paymentId": "tr_2",
    }


def test_an_admin_refunds_it_through_the_provider_with_an_idempotency_key(
    invoice, admin_client, provider
):
    paid_online(invoice, "tr_1")
    paid_online(invoice, "tr_2")
    (row,) = db.session.scalars(db.select(Overpayment)).all()
    provider.post(f"{API}/payments/tr_2/refunds", status=201, json=refund_body())

    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Refund €121.00</button>" in page and 'name="keep-reason"' in page
    response = refund(admin_client, invoice)

    assert response.status_code == 302
    sent = provider.calls[0].request
    key = f"refund-{invoice.teamleader_id}-overpayment-{row.id}-121.00EUR"
    assert sent.headers["Idempotency-Key"] == key
    assert json.loads(sent.body) == {
        "amount": {"currency": "EUR", "value": "121.00"},
        "description": "Overpayment of invoice 2026/0042",
    }
    assert rows(invoice) == [(OverpaymentStatus.REFUNDED, Decimal("121.00"))]
    reversal = amounts.by_key("provider:re_abc")
    assert reversal.kind == PaymentKind.REFUND and reversal.amount == Decimal("-121.00")
    assert reversal.reverses.key == "provider:tr_2"
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == Decimal("0.00")
    assert invoice.teamleader_sync.outstanding
    assert any(
        "refunded through the payment provider (refund re_abc" in m
        for m in messages(invoice, "overpayment_resolved")
    )
    assert "The overpayment is refunded." in admin_client.get(f"/invoices/{invoice.id}").get_data(
        as_text=True
    )


def test_a_refund_the_provider_refuses_changes_nothing(invoice, admin_client, provider):
    paid_online(invoice, "tr_1")
    paid_online(invoice, "tr_2")
    provider.post(f"{API}/payments/tr_2/refunds", status=503, json={"status": 503})

    response = refund(admin_client, invoice)

    assert response.status_code == 409
    assert "nothing was refunded" in response.get_data(as_text=True)
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("121.00"))]
    assert amounts.by_key("provider:re_abc") is None


def test_without_an_online_payment_to_carry_it_only_keep_is_offered(
    invoice, admin_client, provider
):
    pay(invoice, "bank:transfer-1", source=PaymentSource.BANK)
    pay(invoice, "bank:transfer-2", source=PaymentSource.BANK)

    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "No online payment of this invoice can carry it back" in page
    assert "Refund €121.00</button>" not in page
    response = refund(admin_client, invoice)

    assert response.status_code == 409
    assert "Give it back by other means" in response.get_data(as_text=True)
    assert len(provider.calls) == 0
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("121.00"))]


def test_keeping_it_needs_a_reason(invoice, admin_client):
    pay(invoice, "provider:tr_1")
    pay(invoice, "provider:tr_2")

    refused = keep(admin_client, invoice, "  ")
    kept = keep(admin_client, invoice, "Refunded at the bank by hand")

    assert refused.status_code == 400 and "Give a reason" in refused.get_data(as_text=True)
    assert kept.status_code == 302
    assert rows(invoice) == [(OverpaymentStatus.KEPT, Decimal("121.00"))]
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Refunded at the bank by hand" in page and "badge-kept" in page
    assert 'name="keep-reason"' not in page


def test_nothing_waiting_is_a_409(invoice, admin_client):
    assert keep(admin_client, invoice, "why not").status_code == 409
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="overpayment"' not in page


def test_a_viewer_sees_it_but_cannot_act(invoice, viewer_client):
    pay(invoice, "provider:tr_1")
    pay(invoice, "provider:tr_2")

    page = viewer_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'data-status="open"' in page and "€121.00" in page
    assert 'name="keep-reason"' not in page and "Refund €" not in page
    assert keep(viewer_client, invoice, "mine now").status_code == 403
    assert refund(viewer_client, invoice).status_code == 403
    assert rows(invoice) == [(OverpaymentStatus.OPEN, Decimal("121.00"))]
