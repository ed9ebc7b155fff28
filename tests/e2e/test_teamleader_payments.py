"""Payments written back to the Teamleader sandbox through the outbox, and payments made
in Teamleader by hand read back: outages, a worker dying mid-delivery, no echo."""

from datetime import timedelta
from decimal import Decimal

import pytest

from collector.core.columns import utcnow
from collector.documents import ledger, timeline
from collector.documents.models import InvoiceState, PaymentKind, PaymentSource
from collector.extensions import db
from collector.runtime import operator_alerts
from collector.runtime import setup as runtime_setup
from collector.teamleader import TeamleaderClient, build_session, payment_sync, reconciliation
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import DbTokenSource
from collector.teamleader.models import SyncStatus


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 12, "RATE_LIMIT": 100_000}


def sandbox_payments(sandbox, invoice) -> list[dict]:
    return list(sandbox.data.invoices[invoice.teamleader_id]["payments"])


def pay(invoice, amount=None, key="provider:tr_test1"):
    payment = ledger.record_payment(
        invoice,
        key=key,
        amount=amount or invoice.amount_due,
        occurred_at=utcnow(),
        source=PaymentSource.PROVIDER,
        actor="provider",
    )
    db.session.commit()
    return payment


def push():
    return teamleader_jobs.push_teamleader()


def test_a_payment_reaches_teamleader_once(open_invoice, sandbox):
    amount = open_invoice.amount_due
    pay(open_invoice)
    assert open_invoice.state == InvoiceState.PAID
    assert open_invoice.teamleader_sync.outstanding

    push()
    push()  # a second run finds nothing to do

    entries = sandbox_payments(sandbox, open_invoice)
    assert [e["payment"]["amount"] for e in entries] == [amount]
    assert entries[0]["payment"]["currency"] == open_invoice.currency
    sync = open_invoice.teamleader_sync
    db.session.refresh(sync)
    assert sync.status == SyncStatus.SYNCED and not sync.outstanding
    assert sandbox.calls().get("invoices.registerPayment") == 1
    [registered] = sandbox.control("GET", "registrations")["data"]
    assert registered["invoice_id"] == open_invoice.teamleader_id
    assert Decimal(str(registered["amount"])) == amount and registered["received_at"] > 0
    assert open_invoice.teamleader_status == "matched"
    assert open_invoice.amount_due == 0  # Teamleader's due and ours are not counted twice


def test_the_delivery_is_repeated_safely_after_a_crash(open_invoice, sandbox, tl_app):
    """The worker dies after Teamleader registered the payment, before our commit."""
    pay(open_invoice)
    sync_id = open_invoice.teamleader_sync.id

    class Died(BaseException):
        """Stands for the process being killed: nothing after it runs."""

    def die_after_register(response, *args, **kwargs):
        if response.request.url.endswith("invoices.registerPayment"):
            raise Died

    session = build_session()
    session.hooks["response"].append(die_after_register)
    connection = _connection()
    source = DbTokenSource(
        connection.id, teamleader_setup.oauth(tl_app), runtime_setup.cipher(tl_app)
    )
    client = TeamleaderClient(session, tl_app.config["TEAMLEADER_API_URL"], source)
    with pytest.raises(Died):
        payment_sync.deliver(client, _connection(), sync_id, utcnow())
    db.session.rollback()
    assert len(sandbox_payments(sandbox, open_invoice)) == 1

    # Within the lease nobody takes the row again; after it, the sweep does.
    assert payment_sync.deliver(None, _connection(), sync_id, utcnow()) is None
    later = utcnow() + timedelta(seconds=payment_sync.LEASE_SECONDS + 1)
    fresh = teamleader_setup.client(tl_app, _connection())
    delivery = payment_sync.deliver(fresh, _connection(), sync_id, later)

    assert delivery.synced
    assert len(sandbox_payments(sandbox, open_invoice)) == 1
    assert sandbox.calls().get("invoices.registerPayment") == 1


def _connection():
    from collector.teamleader.connection import current_connection

    return current_connection()


def test_outages_delay_the_status_until_teamleader_recovers(open_invoice, sandbox, tl_app):
    pay(open_invoice)
    sandbox.control("POST", "faults", json={"kind": "error", "status": 503, "count": 8})
    sandbox.control("POST", "faults", json={"kind": "rate_limit", "count": 8})
    # The shared rate budget honours the 429's reset; a one-second window keeps it short.
    tl_app.config["TEAMLEADER_RATE_WINDOW"] = 1.0
    waits = []  # the client's own pauses, recorded instead of slept
    client = teamleader_setup.client(tl_app, _connection(), max_retries=1, sleep=waits.append)
    sync_id = open_invoice.teamleader_sync.id
    now = utcnow()
    attempts = 0
    while True:
        delivery = payment_sync.deliver(client, _connection(), sync_id, now)
        attempts += 1
        sync = db.session.get(type(open_invoice.teamleader_sync), sync_id)
        if delivery.synced:
            break
        assert sync.status == SyncStatus.RETRYING and sync.last_error
        assert sync.next_attempt_at > now  # backing off, not hammering
        now = sync.next_attempt_at
        assert attempts < 100
    assert attempts > 1 and waits
    assert len(sandbox_payments(sandbox, open_invoice)) == 1


def test_strict_mode_off_sends_nothing_and_says_why(open_invoice, sandbox):
    _connection().strict_mode_confirmed = False
    db.session.commit()
    pay(open_invoice)
    push()
    sync = open_invoice.teamleader_sync
    db.session.refresh(sync)
    assert sync.status == SyncStatus.SKIPPED and "Strict mode" in sync.last_error
    assert sandbox_payments(sandbox, open_invoice) == []
    kinds = [e.kind for e in open_invoice.events]
    assert timeline.TEAMLEADER_SYNC_SKIPPED in kinds


def test_a_refusal_is_a_visible_problem_and_told_in_the_admins_digest(open_invoice, sandbox, admin):
    # Teamleader refuses the payment method (a 400): no retry helps, a person must look.
    _connection().payment_method_id = "0f0f0f0f-dead-beef-0000-000000000000"
    db.session.commit()
    pay(open_invoice)
    push()
    sync = open_invoice.teamleader_sync
    db.session.refresh(sync)
    assert sync.status == SyncStatus.FAILED and "payment_method_id" in sync.last_error
    assert sync in payment_sync.problems()
    [alert] = operator_alerts.waiting()  # for the admins' next digest
    assert (alert.kind, alert.subject) == (operator_alerts.SYNC_REFUSED, open_invoice.number)
    assert "payment_method_id" in alert.fact
    push()  # not retried on its own, and not told again
    assert [(a.id, a.count) for a in operator_alerts.waiting()] == [(alert.id, 1)]


def test_a_chargeback_removes_it_and_keeps_the_rest(open_invoice, sandbox, tl_app):
    """Two partial payments here and one made in Teamleader by hand; the first is
    charged back: Teamleader keeps the other two."""
    due = open_invoice.amount_due
    first = pay(open_invoice, Decimal("10.00"), key="provider:tr_a")
    push()
    sandbox.control(
        "POST",
        f"invoices/{open_invoice.teamleader_id}/payments",
        json={"amount": 5},
    )
    reconciliation.refresh(teamleader_setup.client(tl_app, _connection()), open_invoice)
    mirrored = [p for p in open_invoice.payments if p.source == PaymentSource.TEAMLEADER]
    assert [p.amount for p in mirrored] == [Decimal("5.00")]
    assert not open_invoice.teamleader_sync.outstanding  # not echoed back
    pay(open_invoice, Decimal("20.00"), key="provider:tr_b")
    push()
    assert sorted(e["payment"]["amount"] for e in sandbox_payments(sandbox, open_invoice)) == [
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("20.00"),
    ]
    assert open_invoice.amount_due == due - Decimal("35.00")

    ledger.record_reversal(
        first,
        key="provider:chb_1",
        kind=PaymentKind.CHARGEBACK,
        amount=Decimal("10.00"),
        occurred_at=utcnow(),
        actor="provider",
        reason_code="MD06",
        reason="Refund requested by the customer",
    )
    db.session.commit()
    push()

    assert sorted(e["payment"]["amount"] for e in sandbox_payments(sandbox, open_invoice)) == [
        Decimal("5.00"),
        Decimal("20.00"),
    ]
    assert open_invoice.amount_due == due - Decimal("25.00")
    mirrored = [p for p in open_invoice.payments if p.source == PaymentSource.TEAMLEADER]
    assert [p.counts for p in mirrored] == [True]  # our remove-all did not cancel it


def test_a_full_payment_in_teamleader_makes_it_paid_here_without_echo(
    open_invoice, sandbox, tl_app
):
    sandbox.control("POST", f"invoices/{open_invoice.teamleader_id}/payments", json={})
    reconciliation.refresh(teamleader_setup.client(tl_app, _connection()), open_invoice)
    db.session.refresh(open_invoice)
    assert open_invoice.state == InvoiceState.PAID
    assert [p.source for p in open_invoice.payments] == [PaymentSource.TEAMLEADER]
    assert open_invoice.teamleader_sync is None or not open_invoice.teamleader_sync.outstanding
    calls_before = sandbox.calls().get("invoices.registerPayment", 0)
    push()
    assert sandbox.calls().get("invoices.registerPayment", 0) == calls_before

    sandbox.control("DELETE", f"invoices/{open_invoice.teamleader_id}/payments")
    reconciliation.refresh(teamleader_setup.client(tl_app, _connection()), open_invoice)
    db.session.refresh(open_invoice)
    assert open_invoice.state in ledger.OPEN
    assert open_invoice.amount_due > 0
