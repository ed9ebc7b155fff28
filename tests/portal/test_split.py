"""How one provider payment of several documents is split (``payments.split``): oldest
due date first, then number; each document up to its open amount; what is left on the
first; a repeated fetch writes nothing; a chargeback is taken back the last document
first. The records are the provider's, as the client loads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collector.documents import ledger
from collector.documents.models import InvoiceState, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.payments import checkout, split
from collector.payments.models import OnlinePayment, OnlinePaymentDocument
from tests.support.factories import make_customer, make_invoice, make_profile

PAID_AT = datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_the_order_is_oldest_due_date_then_number(app, clock):
    customer = make_customer()
    today = clock.today()
    late = make_invoice(customer=customer, number="B", due_date=today - timedelta(days=9))
    same_b = make_invoice(customer=customer, number="D", due_date=today)
    same_a = make_invoice(customer=customer, number="C", due_date=today)
    undated = make_invoice(customer=customer, number="A", due_date=None)
    assert split.in_order([undated, same_b, same_a, late]) == [late, same_a, same_b, undated]


def test_shares_fill_each_document_and_leave_the_rest_on_the_first():
    d = Decimal
    assert split.shares(d("300.00"), [d("100.00"), d("200.00")]) == [d("100.00"), d("200.00")]
    assert split.shares(d("150.00"), [d("100.00"), d("200.00")]) == [d("100.00"), d("50.00")]
    # The second was paid another way meanwhile: what it would have had goes to the first.
    assert split.shares(d("300.00"), [d("100.00"), d("0.00")]) == [d("300.00"), d("0.00")]


def owing(amount: str) -> dict:
    return {"total_incl_vat": Decimal(amount), "amount_due": Decimal(amount)}


def paid_several(customer, invoices, amount: Decimal) -> OnlinePayment:
    online = OnlinePayment(
        invoice=invoices[0], provider_id="tr_several1", amount=amount, currency="EUR"
    )
    for position, invoice in enumerate(invoices):
        online.documents.append(
            OnlinePaymentDocument(position=position, invoice=invoice, amount=invoice.amount_due)
        )
    db.session.add(online)
    db.session.commit()
    return online


def record(amount: Decimal, **more) -> dict:
    return {
        "id": "tr_several1",
        "status": "paid",
        "amount": amount,
        "currency": "EUR",
        "paid_at": PAID_AT,
        "amount_refunded": Decimal("0.00"),
        "amount_charged_back": Decimal("0.00"),
        "refunds": [],
        "chargebacks": [],
        **more,
    }


def rows(invoice) -> list[tuple]:
    found = db.session.scalars(
        sa.select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)
    )
    return [(p.kind, p.amount, p.key) for p in found]


def test_a_paid_payment_of_two_is_two_payments_and_a_repeat_writes_nothing(app, clock):
    customer = make_customer()
    profile = make_profile(allow_payment_link=True)
    first = make_invoice(customer=customer, profile=profile, amount_due=Decimal("121.00"))
    second = make_invoice(customer=customer, profile=profile, **owing("60.50"))
    online = paid_several(customer, [first, second], Decimal("181.50"))

    checkout.apply(online.id, record(Decimal("181.50")))
    checkout.apply(online.id, record(Decimal("181.50")))  # the webhook, again

    assert rows(first) == [(PaymentKind.PAYMENT, Decimal("121.00"), "provider:tr_several1")]
    assert rows(second) == [(PaymentKind.PAYMENT, Decimal("60.50"), "provider:tr_several1/1")]
    for invoice in (first, second):
        db.session.refresh(invoice)
        assert invoice.state == InvoiceState.PAID and invoice.amount_due == 0


def test_a_document_settled_meanwhile_leaves_its_share_on_the_first(app, clock):
    customer = make_customer()
    profile = make_profile(allow_payment_link=True)
    first = make_invoice(customer=customer, profile=profile)
    second = make_invoice(customer=customer, profile=profile)
    online = paid_several(customer, [first, second], Decimal("242.00"))
    ledger.record_payment(
        second,
        key="manual:meanwhile",
        amount=Decimal("121.00"),
        occurred_at=PAID_AT,
        source=PaymentSource.MANUAL,
        actor="user:ann@example.com",
    )
    db.session.commit()

    checkout.apply(online.id, record(Decimal("242.00")))

    assert rows(first) == [(PaymentKind.PAYMENT, Decimal("242.00"), "provider:tr_several1")]
    assert [r[2] for r in rows(second)] == ["manual:meanwhile"]


def test_a_chargeback_is_taken_back_from_the_last_document_first(app, clock):
    customer = make_customer()
    profile = make_profile(allow_payment_link=True)
    first = make_invoice(customer=customer, profile=profile, **owing("100.00"))
    second = make_invoice(customer=customer, profile=profile, **owing("50.00"))
    online = paid_several(customer, [first, second], Decimal("150.00"))
    checkout.apply(online.id, record(Decimal("150.00")))

    chargeback = {
        "id": "chb_one",
        "amount": Decimal("70.00"),
        "created_at": PAID_AT + timedelta(days=3),
        "reversed_at": None,
        "reason_code": "MD06",
        "reason_description": None,
    }
    charged = record(Decimal("150.00"), chargebacks=[chargeback])
    checkout.apply(online.id, charged)
    checkout.apply(online.id, charged)  # again: nothing more

    assert [r[:2] for r in rows(second)] == [
        (PaymentKind.PAYMENT, Decimal("50.00")),
        (PaymentKind.CHARGEBACK, Decimal("-50.00")),
    ]
    assert [r[:2] for r in rows(first)] == [
        (PaymentKind.PAYMENT, Decimal("100.00")),
        (PaymentKind.CHARGEBACK, Decimal("-20.00")),
    ]
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.amount_due, second.amount_due) == (Decimal("20.00"), Decimal("50.00"))

    reversed_back = {**chargeback, "reversed_at": PAID_AT + timedelta(days=9)}
    checkout.apply(online.id, record(Decimal("150.00"), chargebacks=[reversed_back]))
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.state == InvoiceState.PAID and second.state == InvoiceState.PAID
