"""Reconciliation a finance user trusts, through the sandbox bank's camt files: a
transfer for a paid invoice waits for a person (refund, or keep as credit); a reused
reference pays the oldest open invoice; a partial transfer leaves the rest to collect;
unmatched money is assigned by hand, reached from the dashboard."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.accounts.models import AuditEvent
from collector.core.columns import utcnow
from collector.core.storage import FolderStore
from collector.direct_debit import bank_files
from collector.direct_debit.models import BankTransaction, BankTransactionStatus
from collector.documents import ledger, overpayments, references, timeline
from collector.documents.models import InvoiceState, OverpaymentStatus, PaymentSource
from collector.extensions import db
from collector.web.needs_attention import needs_attention
from sandbox import bank
from tests.conftest import csrf_token
from tests.support.bank import CREDITOR_IBAN, make_creditor
from tests.support.factories import make_customer, make_invoice

BOOKED_ON = date(2026, 12, 3)

# A person's decisions on bank money (the login and the bank file's import are rows too).
DECISIONS = AuditEvent.action.startswith("bank_transaction.")


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "bank-files")


@pytest.fixture(autouse=True)
def _day(clock):
    clock.set("2026-12-03T10:00:00Z")


def upload(store, *transfers):
    content = bank.notification(CREDITOR_IBAN, BOOKED_ON, list(transfers))
    return bank_files.upload(store, "camt054.xml", content, "admin@example.com", BOOKED_ON)


def paid_invoice():
    invoice = make_invoice()
    ledger.record_payment(
        invoice,
        key="manual:first",
        amount=invoice.amount_due,
        occurred_at=utcnow(),  # the one clock (the clock fixture sets it)
        source=PaymentSource.MANUAL,
        actor="test",
        reason="Paid by card at the desk.",
    )
    db.session.commit()
    assert invoice.state == InvoiceState.PAID
    return invoice


@pytest.fixture
def double(app, store):
    make_creditor()
    invoice = paid_invoice()
    reference = references.structured_reference(invoice)
    done = upload(
        store, bank.Transfer(Decimal("121.00"), reference=reference, debtor_name="Janssens")
    )
    (row,) = done.transactions
    return invoice, row


def test_a_transfer_for_a_paid_invoice_is_a_possible_double_payment(double):
    invoice, row = double
    assert row.status == BankTransactionStatus.DOUBLE_PAYMENT and row.invoice_id == invoice.id
    assert [p.key for p in invoice.payments] == ["manual:first"]  # not recorded as a payment
    assert invoice.amount_due == 0
    [flagged] = [e for e in invoice.events if e.kind == timeline.DOUBLE_PAYMENT]
    assert "possible double payment" in flagged.message and "Janssens" in flagged.message
    items = {item.key: item for item in needs_attention()}
    assert items["double_payments"].count == 1
    assert items["double_payments"].amount == Decimal("121.00")
    assert "unmatched" not in items  # it waits as a double payment, not as unmatched money


def test_a_person_refunds_a_double_payment(double, admin_client):
    invoice, row = double
    token = csrf_token(admin_client, "/bank-files/unmatched")
    page = admin_client.get("/bank-files/unmatched").get_data(as_text=True)
    assert f'data-double="{row.id}"' in page and invoice.number in page

    refused = admin_client.post(
        f"/bank-files/transactions/{row.id}/refund", data={"csrf_token": token, "reason": " "}
    )
    assert refused.status_code == 400 and "Say how it is refunded" in refused.get_data(True)
    reason = "Sent back to BE71 0961 2345 6769 on 4 December"
    done = admin_client.post(
        f"/bank-files/transactions/{row.id}/refund", data={"csrf_token": token, "reason": reason}
    )
    assert done.status_code == 302
    db.session.refresh(row)
    assert (row.status, row.note) == (BankTransactionStatus.REFUNDED, reason)
    assert row.resolved_by == "user:admin@example.com"
    assert [p.key for p in invoice.payments] == ["manual:first"]
    decided = [e for e in invoice.events if e.kind == timeline.DOUBLE_PAYMENT][-1]
    assert "to be refunded to the payer" in decided.message and reason in decided.message
    [audit] = db.session.scalars(sa.select(AuditEvent).where(DECISIONS)).all()
    assert audit.action == "bank_transaction.double_payment_refunded"
    assert audit.target == f"bank_transaction:{row.id}" and audit.details["reason"] == reason
    # Decided once: a second decision is refused.
    again = admin_client.post(
        f"/bank-files/transactions/{row.id}/keep", data={"csrf_token": token, "reason": "x"}
    )
    assert again.status_code == 409
    assert "double_payments" not in {item.key for item in needs_attention()}


def test_a_person_keeps_a_double_payment_as_a_credit(double, admin_client):
    invoice, row = double
    token = csrf_token(admin_client, "/bank-files/unmatched")
    reason = "Credit for the next invoice, agreed by phone"
    done = admin_client.post(
        f"/bank-files/transactions/{row.id}/keep", data={"csrf_token": token, "reason": reason}
    )
    assert done.status_code == 302
    db.session.refresh(row)
    db.session.refresh(invoice)
    assert row.status == BankTransactionStatus.KEPT and row.payment_id is not None
    assert sorted(p.amount for p in invoice.payments) == [Decimal("121.00"), Decimal("121.00")]
    [overpaid] = overpayments.of(invoice)
    assert (overpaid.status, overpaid.amount) == (OverpaymentStatus.KEPT, Decimal("121.00"))
    assert overpaid.reason == reason
    assert invoice.state == InvoiceState.PAID
    [audit] = db.session.scalars(sa.select(AuditEvent).where(DECISIONS)).all()
    assert audit.action == "bank_transaction.double_payment_kept"
    # Nothing waits for a person any more: not as double payment, not as overpayment.
    keys = {item.key for item in needs_attention()}
    assert not keys & {"double_payments", "overpayments", "unmatched"}


def test_a_viewer_cannot_decide(double, viewer_client):
    _invoice, row = double
    token = csrf_token(viewer_client, "/bank-files/unmatched")
    response = viewer_client.post(
        f"/bank-files/transactions/{row.id}/keep", data={"csrf_token": token, "reason": "mine"}
    )
    assert response.status_code == 403
    db.session.refresh(row)
    assert row.status == BankTransactionStatus.DOUBLE_PAYMENT


def test_a_reused_reference_pays_the_oldest_open_invoice(app, store):
    make_creditor()
    customer = make_customer()
    shared = "+++084/2613/66074+++"
    paid = paid_invoice()
    paid.payment_reference = shared
    newer = make_invoice(
        customer=customer, payment_reference=shared, invoice_date=date(2026, 11, 20)
    )
    older = make_invoice(
        customer=customer, payment_reference=shared, invoice_date=date(2026, 11, 2)
    )
    db.session.commit()
    done = upload(store, bank.Transfer(Decimal("121.00"), reference="084261366074"))
    (row,) = done.transactions
    assert row.status == BankTransactionStatus.MATCHED and row.invoice_id == older.id
    assert older.state == InvoiceState.PAID and newer.state == InvoiceState.BOOKED
    # The next transfer with it pays the next oldest still open; only once all are paid
    # is one a possible double payment.
    done = upload(
        store, bank.Transfer(Decimal("121.00"), reference="084261366074", end_to_end_id="E2E-B")
    )
    assert done.transactions[0].invoice_id == newer.id
    done = upload(
        store, bank.Transfer(Decimal("121.00"), reference="084261366074", end_to_end_id="E2E-C")
    )
    assert done.transactions[0].status == BankTransactionStatus.DOUBLE_PAYMENT


def test_a_partial_transfer_is_recorded_as_partial_and_the_rest_stays_to_collect(
    app, store, admin_client
):
    make_creditor()
    invoice = make_invoice(number="2026 / 500")
    reference = references.structured_reference(invoice)
    done = upload(store, bank.Transfer(Decimal("21.00"), reference=reference))
    (row,) = done.transactions
    assert row.status == BankTransactionStatus.MATCHED
    db.session.refresh(invoice)
    assert (invoice.state, invoice.amount_due) == (InvoiceState.BOOKED, Decimal("100.00"))
    listing = admin_client.get("/invoices/?q=2026+%2F+500").get_data(as_text=True)
    assert f'data-invoice="{invoice.id}"' in listing and "data-partly-paid" in listing


def test_unmatched_money_is_assigned_by_hand_from_the_dashboard(app, store, admin_client):
    make_creditor()
    invoice = make_invoice(number="2026 / 900")
    upload(store, bank.Transfer(Decimal("121.00"), remittance="for 2026/900"))
    home = admin_client.get("/").get_data(as_text=True)
    assert 'data-item="unmatched"' in home
    assert 'href="/bank-files/unmatched"' in home  # one click to the money to assign
    token = csrf_token(admin_client, "/bank-files/unmatched")
    [row] = db.session.scalars(
        sa.select(BankTransaction).where(BankTransaction.status == BankTransactionStatus.UNMATCHED)
    ).all()
    response = admin_client.post(
        f"/bank-files/transactions/{row.id}/match",
        data={"csrf_token": token, "document": "2026 / 900"},
    )
    assert response.status_code == 302
    db.session.refresh(invoice)
    assert invoice.state == InvoiceState.PAID
    matched = [e for e in invoice.events if e.kind == timeline.PAYMENT_RECEIVED][-1]
    assert "matched by hand" in matched.message
    [audit] = db.session.scalars(sa.select(AuditEvent).where(DECISIONS)).all()
    assert (audit.action, audit.actor) == ("bank_transaction.matched", "user:admin@example.com")
    assert audit.details["invoice"] == "2026 / 900"
    assert 'data-item="unmatched"' not in admin_client.get("/").get_data(as_text=True)
