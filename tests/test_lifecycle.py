"""The state machine and the payment ledger, on real rows."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from collector.core.errors import Conflict, Invalid
from collector.documents import callback_endpoints, ledger, timeline
from collector.documents.models import (
    CallbackDelivery,
    DocumentKind,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.teamleader import outbox
from collector.teamleader.models import SyncStatus
from tests.support.factories import make_invoice

PAID_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def pay(invoice, amount, key="provider:tr_1", source=PaymentSource.PROVIDER):
    payment = ledger.record_payment(
        invoice, key=key, amount=Decimal(amount), occurred_at=PAID_AT, source=source, actor="t"
    )
    db.session.commit()
    return payment


def states(invoice) -> list[tuple[str, str]]:
    return [
        (e.details["previous"], e.details["state"])
        for e in invoice.events
        if e.kind == timeline.STATE_CHANGED
    ]


def test_a_partial_payment_lowers_what_is_due_and_the_rest_makes_it_paid(app):
    invoice = make_invoice()
    pay(invoice, "21.00")
    assert invoice.amount_due == Decimal("100.00") and invoice.state == InvoiceState.BOOKED
    pay(invoice, "100.00", key="provider:tr_2")
    assert invoice.amount_due == 0 and invoice.state == InvoiceState.PAID
    assert states(invoice) == [("BOOKED", "PAID")]
    assert invoice.teamleader_sync.wanted == 2
    assert invoice.teamleader_sync.status == SyncStatus.PENDING


def test_the_same_key_twice_is_one_payment(app):
    invoice = make_invoice()
    assert pay(invoice, "121.00") is not None
    assert pay(invoice, "121.00") is None
    assert len(invoice.payments) == 1
    assert [e.kind for e in invoice.events].count(timeline.PAYMENT_RECEIVED) == 1


def test_a_chargeback_after_paid_reopens_with_the_reason(app):
    invoice = make_invoice(due_date=date(2020, 1, 1))  # long past due
    payment = pay(invoice, "121.00")
    assert invoice.state == InvoiceState.PAID
    ledger.record_reversal(
        payment,
        key="provider:chb_1",
        kind=PaymentKind.CHARGEBACK,
        amount=Decimal("121.00"),
        occurred_at=PAID_AT,
        actor="provider",
        reason_code="AM04",
        reason="Insufficient funds",
    )
    db.session.commit()
    assert invoice.state == InvoiceState.EXPIRED and invoice.amount_due == Decimal("121.00")
    last = [e for e in invoice.events if e.kind == timeline.STATE_CHANGED][-1]
    assert last.message == "Charged back (AM04): Insufficient funds."


def test_a_reversed_chargeback_makes_it_paid_again(app):
    invoice = make_invoice()
    payment = pay(invoice, "121.00")
    chargeback = ledger.record_reversal(
        payment,
        key="provider:chb_1",
        kind=PaymentKind.CHARGEBACK,
        amount=Decimal("500.00"),  # never more than the payment
        occurred_at=PAID_AT,
        actor="provider",
    )
    assert chargeback.amount == Decimal("-121.00")
    assert invoice.state == InvoiceState.BOOKED
    assert ledger.cancel_entry(chargeback, "Chargeback reversed", actor="provider")
    assert not ledger.cancel_entry(chargeback, "Chargeback reversed", actor="provider")
    db.session.commit()
    assert invoice.state == InvoiceState.PAID
    assert states(invoice) == [("BOOKED", "PAID"), ("PAID", "BOOKED"), ("BOOKED", "PAID")]


def test_teamleader_payments_are_not_owed_back(app):
    # Teamleader's own due already counts a payment made there.
    invoice = make_invoice(teamleader_due=Decimal("0.00"))
    pay(invoice, "121.00", key="teamleader:x:121.00:2026-11-20:1", source=PaymentSource.TEAMLEADER)
    assert invoice.state == InvoiceState.PAID
    assert invoice.teamleader_sync is None


def test_credit_notes_are_never_owed_to_teamleader_nor_paid(app):
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE, number="CN2026 / 1")
    with pytest.raises(Conflict, match="A credit note is not paid"):
        ledger.mark_paid(note, "cash", actor="admin")
    outbox.owe_teamleader(note)
    assert note.teamleader_sync is None


def test_due_dates_passing_expire_booked_documents_once(app):
    today = date(2026, 12, 15)
    late = make_invoice(due_date=today - timedelta(days=1))
    on_time = make_invoice(due_date=today)
    paid = make_invoice(due_date=today - timedelta(days=3), state=InvoiceState.PAID)
    assert ledger.expire_overdue(today, batch=1) == 1
    assert ledger.expire_overdue(today) == 0
    assert (late.state, on_time.state, paid.state) == (
        InvoiceState.EXPIRED,
        InvoiceState.BOOKED,
        InvoiceState.PAID,
    )
    assert states(late) == [("BOOKED", "EXPIRED")]


def test_mark_paid_and_archive_need_a_reason_and_a_state_that_allows_them(app):
    invoice = make_invoice()
    with pytest.raises(Invalid) as error:
        ledger.mark_paid(invoice, "  ", actor="admin")
    assert "reason" in error.value.errors
    payment = ledger.mark_paid(invoice, "Paid in cash at the desk", actor="admin")
    db.session.commit()
    assert payment.source == PaymentSource.MANUAL and payment.amount == Decimal("121.00")
    assert invoice.state == InvoiceState.PAID and invoice.teamleader_sync.outstanding
    with pytest.raises(Conflict, match="is PAID: nothing to mark as paid"):
        ledger.mark_paid(invoice, "again", actor="admin")
    ledger.archive(invoice, "Written off", actor="admin")
    db.session.commit()
    assert invoice.state == InvoiceState.ARCHIVED
    with pytest.raises(Conflict, match="is archived already"):
        ledger.archive(invoice, "again", actor="admin")


def test_collections_go_pending_and_back_when_they_fail(app):
    invoice = make_invoice(due_date=date(2020, 1, 1), state=InvoiceState.EXPIRED)
    ledger.start_collection(invoice, "Collection run #1", actor="system")
    assert invoice.state == InvoiceState.PENDING
    with pytest.raises(Conflict, match="is PENDING: it cannot be collected"):
        ledger.start_collection(invoice, "again", actor="system")
    ledger.collection_failed(invoice, "Rejected (AC04)", actor="bank", today=date(2026, 12, 1))
    assert invoice.state == InvoiceState.EXPIRED


def test_every_state_change_owes_each_callback_url_one_delivery(app, admin):
    from collector.runtime import setup as runtime_setup

    callback_endpoints.add_endpoint(
        "https://erp.example/hooks", "ERP", admin, runtime_setup.cipher(app)
    )
    invoice = make_invoice()
    pay(invoice, "121.00")
    [delivery] = db.session.scalars(db.select(CallbackDelivery)).all()
    data = delivery.payload["data"]
    assert (data["invoice"]["previous_state"], data["invoice"]["state"]) == ("BOOKED", "PAID")
    assert data["invoice"]["amount_due"] == "0.00"
