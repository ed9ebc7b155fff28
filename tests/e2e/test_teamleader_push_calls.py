"""A payment costs Teamleader one call (``registerPayment``), and is still registered
exactly once: a delivery whose predecessor may have written without recording it (a
crash, a lost answer, a rate limit mid-way) reads Teamleader first, and so does the
delivery after someone changed the payments in Teamleader by hand."""

from datetime import timedelta
from decimal import Decimal

import pytest
import requests

from collector.core.columns import utcnow
from collector.documents import changes, ledger, timeline
from collector.documents.models import PaymentSource
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import TeamleaderClient, build_session, payment_sync, reconciliation
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import DbTokenSource, current_connection
from collector.teamleader.models import SyncStatus, TeamleaderSync

REGISTER = "invoices.registerPayment"
INFO = "invoices.info"


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 12, "RATE_LIMIT": 100_000}


def pay(invoice, amount, key):
    ledger.record_payment(
        invoice,
        key=key,
        amount=amount,
        occurred_at=utcnow(),
        source=PaymentSource.PROVIDER,
        actor="provider",
    )
    db.session.commit()


def teamleader_amounts(sandbox, invoice) -> list[Decimal]:
    entries = sandbox.data.invoices[invoice.teamleader_id]["payments"]
    return sorted(e["payment"]["amount"] for e in entries)


def calls(sandbox) -> dict:
    """The sandbox's API calls, without the OAuth token endpoint."""
    return {k: v for k, v in sandbox.calls().items() if "." in k and not k.startswith("oauth")}


def broken_client(app, fail_after_register):
    """A client whose answer to ``registerPayment`` is lost after Teamleader acted on it:
    ``fail_after_register(response)`` raises in the response hook."""

    def hook(response, *args, **kwargs):
        if response.request.url.endswith(REGISTER):
            fail_after_register(response)

    session = build_session()
    session.hooks["response"].append(hook)
    source = DbTokenSource(
        current_connection().id, teamleader_setup.oauth(app), runtime_setup.cipher(app)
    )
    return TeamleaderClient(session, app.config["TEAMLEADER_API_URL"], source)


def sync_of(invoice) -> TeamleaderSync:
    return db.session.get(TeamleaderSync, invoice.teamleader_sync.id, populate_existing=True)


def test_a_payment_costs_one_call_and_the_document_shows_what_teamleader_shows(
    open_invoice, sandbox, tl_app
):
    sandbox.reset_calls()
    pay(open_invoice, open_invoice.amount_due, "provider:tr_one")
    teamleader_jobs.push_teamleader()

    assert calls(sandbox) == {REGISTER: 1}
    there = sandbox.data.invoices[open_invoice.teamleader_id]
    db.session.refresh(open_invoice)
    assert open_invoice.teamleader_status == there["status"] == "matched"
    assert open_invoice.teamleader_due == there["total"]["due"]["amount"] == 0
    assert open_invoice.teamleader_paid_at == there["paid_at"]
    assert open_invoice.amount_due == 0
    assert sync_of(open_invoice).status == SyncStatus.SYNCED

    # Reading Teamleader afterwards finds what was derived: nothing to note, the
    # outbox's record of it kept.
    shown_before = [e for e in open_invoice.events if e.kind == timeline.TEAMLEADER_PAYMENT]
    reconciliation.refresh(teamleader_setup.client(tl_app, current_connection()), open_invoice)
    shown_after = [e for e in open_invoice.events if e.kind == timeline.TEAMLEADER_PAYMENT]
    assert len(shown_after) == len(shown_before)
    assert sync_of(open_invoice).entries is not None


def test_partial_payments_cost_one_call_each(open_invoice, sandbox):
    due = open_invoice.amount_due
    sandbox.reset_calls()
    for n, amount in enumerate((Decimal("10.00"), Decimal("20.00"), Decimal("5.50"))):
        pay(open_invoice, amount, f"provider:tr_part{n}")
        teamleader_jobs.push_teamleader()

    assert calls(sandbox) == {REGISTER: 3}
    assert teamleader_amounts(sandbox, open_invoice) == [
        Decimal("5.50"),
        Decimal("10.00"),
        Decimal("20.00"),
    ]
    there = sandbox.data.invoices[open_invoice.teamleader_id]
    db.session.refresh(open_invoice)
    assert open_invoice.teamleader_due == there["total"]["due"]["amount"] == due - Decimal("35.50")
    assert open_invoice.teamleader_status == there["status"] == "outstanding"
    assert open_invoice.amount_due == due - Decimal("35.50")


def test_marking_paid_by_hand_costs_one_call_too(open_invoice, sandbox):
    """An admin's "mark as paid" is a payment like any other for the outbox: Teamleader
    is told with one ``registerPayment``, without reading the invoice first."""
    due = open_invoice.amount_due
    pay(open_invoice, Decimal("10.00"), "provider:tr_before")
    teamleader_jobs.push_teamleader()
    sandbox.reset_calls()

    changes.mark_paid(open_invoice.id, "Paid in cash at the desk", actor="user:admin@example.com")
    teamleader_jobs.push_teamleader()

    assert calls(sandbox) == {REGISTER: 1}
    assert teamleader_amounts(sandbox, open_invoice) == sorted(
        [Decimal("10.00"), due - Decimal("10.00")]
    )
    assert sandbox.data.invoices[open_invoice.teamleader_id]["status"] == "matched"


class Died(BaseException):
    """Stands for the process being killed: nothing after it runs."""


def die(response):
    raise Died


def lose_the_answer(response):
    raise requests.ReadTimeout("the answer never came")


@pytest.mark.parametrize("fault", [die, lose_the_answer], ids=["crash", "lost answer"])
def test_a_delivery_after_an_unrecorded_write_reads_first_and_registers_once(
    open_invoice, sandbox, tl_app, fault
):
    """Teamleader registered the first payment, our commit never came; a second payment
    is owed meanwhile (which restarts the row's attempts). The next delivery reads,
    finds the first there and registers only the second; the one after trusts again."""
    pay(open_invoice, Decimal("10.00"), "provider:tr_first")
    sync_id = open_invoice.teamleader_sync.id
    client = broken_client(tl_app, fault)
    try:
        payment_sync.deliver(client, current_connection(), sync_id, utcnow())
    except Died:
        db.session.rollback()
    assert teamleader_amounts(sandbox, open_invoice) == [Decimal("10.00")]
    pay(open_invoice, Decimal("20.00"), "provider:tr_second")

    sandbox.reset_calls()
    later = utcnow() + timedelta(seconds=payment_sync.LEASE_SECONDS + payment_sync.BACKOFF[0])
    fresh = teamleader_setup.client(tl_app, current_connection())
    assert payment_sync.deliver(fresh, current_connection(), sync_id, later).synced

    assert calls(sandbox) == {INFO: 1, REGISTER: 1}
    assert teamleader_amounts(sandbox, open_invoice) == [Decimal("10.00"), Decimal("20.00")]
    sync = sync_of(open_invoice)
    assert sync.unsettled == 0 and not sync.outstanding

    sandbox.reset_calls()
    pay(open_invoice, Decimal("5.00"), "provider:tr_third")
    teamleader_jobs.push_teamleader()
    assert calls(sandbox) == {REGISTER: 1}
    assert teamleader_amounts(sandbox, open_invoice) == [
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("20.00"),
    ]


def test_a_refusal_leaves_the_next_delivery_reading_first(open_invoice, sandbox, tl_app):
    """A 4xx on the second of two registrations: the first went through unrecorded."""
    pay(open_invoice, Decimal("10.00"), "provider:tr_a")
    pay(open_invoice, Decimal("20.00"), "provider:tr_b")
    sandbox.control(
        "POST", "faults", json={"kind": "error", "status": 503, "count": 1, "endpoint": REGISTER}
    )
    teamleader_jobs.push_teamleader()  # the first registration is refused (503): retry later
    assert sync_of(open_invoice).status == SyncStatus.RETRYING
    sync_id = open_invoice.teamleader_sync.id
    later = utcnow() + timedelta(seconds=payment_sync.BACKOFF[-1])
    sandbox.reset_calls()
    fresh = teamleader_setup.client(tl_app, current_connection())
    assert payment_sync.deliver(fresh, current_connection(), sync_id, later).synced
    assert calls(sandbox) == {INFO: 1, REGISTER: 2}
    assert teamleader_amounts(sandbox, open_invoice) == [Decimal("10.00"), Decimal("20.00")]


def test_a_payment_made_in_teamleader_by_hand_makes_the_next_delivery_read(
    open_invoice, sandbox, tl_app
):
    pay(open_invoice, Decimal("10.00"), "provider:tr_mine")
    teamleader_jobs.push_teamleader()
    sandbox.control("POST", f"invoices/{open_invoice.teamleader_id}/payments", json={"amount": 7})
    # Teamleader's webhook for it is handled: a read that finds the outbox's record short.
    reconciliation.refresh(teamleader_setup.client(tl_app, current_connection()), open_invoice)
    assert sync_of(open_invoice).entries is None

    sandbox.reset_calls()
    pay(open_invoice, Decimal("20.00"), "provider:tr_mine2")
    teamleader_jobs.push_teamleader()
    assert calls(sandbox) == {INFO: 1, REGISTER: 1}
    assert teamleader_amounts(sandbox, open_invoice) == [
        Decimal("7.00"),
        Decimal("10.00"),
        Decimal("20.00"),
    ]
    there = sandbox.data.invoices[open_invoice.teamleader_id]
    db.session.refresh(open_invoice)
    assert open_invoice.teamleader_due == there["total"]["due"]["amount"]
