"""A reversed chargeback or a cancelled refund reaches the ledger whether or not the
provider's totals (``amountChargedBack``, ``amountRefunded``) drop when it happens: Mollie
does not say, so the sandbox is run both ways. Real HTTP to the provider emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collector.documents.models import InvoiceState, Payment, PaymentKind
from collector.extensions import db
from collector.payments import checkout
from tests.payments.sandbox_provider import closed_port_url
from tests.support.factories import make_invoice, make_profile


def paid_online(sandbox):
    """A document paid in full through the sandbox's checkout, as the ledger has it."""
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    checkout.start_checkout(
        sandbox.client,
        invoice,
        redirect_url="https://pay.example.com/back",
        webhook_url=closed_port_url(),
    )
    online = checkout.latest(invoice)
    sandbox.control(f"payments/{online.provider_id}/status", {"status": "paid"})
    checkout.refresh(sandbox.client, online.provider_id)
    assert state_of(invoice) == InvoiceState.PAID
    return invoice, online.provider_id


def state_of(invoice) -> InvoiceState:
    db.session.expire_all()
    return db.session.get(type(invoice), invoice.id).state


def reversal(kind: PaymentKind) -> Payment:
    db.session.expire_all()
    return db.session.scalars(db.select(Payment).where(Payment.kind == kind)).one()


@pytest.mark.parametrize("totals_keep_it", [True, False], ids=["totals-stay", "totals-drop"])
def test_a_reversed_chargeback_reopens_then_resettles_the_document(app, sandbox, totals_keep_it):
    sandbox.control("totals", {"reversed_chargebacks": totals_keep_it})
    invoice, provider_id = paid_online(sandbox)

    charged = sandbox.control(f"payments/{provider_id}/chargeback")["chargeback"]
    checkout.refresh(sandbox.client, provider_id)
    assert state_of(invoice) != InvoiceState.PAID
    assert reversal(PaymentKind.CHARGEBACK).cancelled_at is None

    sandbox.control(f"chargebacks/{charged['id']}/reverse")
    total = sandbox.client.get_payment(provider_id)["amount_charged_back"]
    assert total == (Decimal("121.00") if totals_keep_it else 0)  # the sandbox did as told
    checkout.refresh(sandbox.client, provider_id)

    assert state_of(invoice) == InvoiceState.PAID
    assert reversal(PaymentKind.CHARGEBACK).cancelled_at is not None


@pytest.mark.parametrize("totals_keep_it", [True, False], ids=["totals-stay", "totals-drop"])
def test_a_cancelled_refund_reopens_then_resettles_the_document(app, sandbox, totals_keep_it):
    sandbox.control("totals", {"canceled_refunds": totals_keep_it})
    invoice, provider_id = paid_online(sandbox)

    refund = sandbox.control(f"payments/{provider_id}/refund", {"status": "pending"})["refund"]
    checkout.refresh(sandbox.client, provider_id)
    assert state_of(invoice) != InvoiceState.PAID

    sandbox.control(f"refunds/{refund['id']}/cancel")
    total = sandbox.client.get_payment(provider_id)["amount_refunded"]
    assert total == (Decimal("121.00") if totals_keep_it else 0)
    checkout.refresh(sandbox.client, provider_id)

    assert state_of(invoice) == InvoiceState.PAID
    assert reversal(PaymentKind.REFUND).cancelled_at is not None


def test_without_reversals_in_the_ledger_no_list_is_read(app, sandbox):
    _invoice, provider_id = paid_online(sandbox)
    sandbox.client.calls.clear()

    checkout.refresh(sandbox.client, provider_id)

    assert sorted(sandbox.client.calls) == [f"GET payments/{provider_id}"]
