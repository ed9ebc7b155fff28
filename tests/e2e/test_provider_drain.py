"""A burst of provider webhooks is drained by a few jobs, each taking a batch of the
stored calls and writing its payments to Teamleader at once, one call each; a drain
that dies mid-batch leaves its rows to be taken again, and none is handled twice."""

import pytest
from rq import Queue

from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Payment
from collector.extensions import db
from collector.payments import checkout
from collector.payments import jobs as payments_jobs
from collector.payments.models import NotificationStatus, OnlinePayment, ProviderNotification
from collector.runtime import inbox
from collector.runtime.models import JobRun
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import SyncStatus, TeamleaderSync
from tests.e2e.test_online_payments import refreshed, run_jobs, start_checkout


@pytest.fixture
def sandbox_config():
    # The sandbox spreads its invoices over 90 days and the import takes the last 30: 60 of
    # them leave a dozen open and untouched whatever the day (12 left one on some days).
    return {"SEED": 11, "INVOICE_COUNT": 60, "RATE_LIMIT": 100_000}


@pytest.fixture
def paying_app(tl_app, provider, live_server):
    """The app served on a real port (the provider calls its webhook there)."""
    tl_app.config.update(
        PUBLIC_BASE_URL=live_server,
        PAYMENT_PROVIDER_URL=f"{provider.url}/v2",
        PAYMENT_PROVIDER_API_KEY="test_sandbox",
    )
    return tl_app


@pytest.fixture
def open_invoices(open_invoice, sandbox):
    """Every imported invoice that is open here and untouched in Teamleader."""
    invoices = db.session.scalars(
        db.select(Invoice)
        .where(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(ledger.OPEN),
            Invoice.amount_due > 0,
            Invoice.profile_id == open_invoice.profile_id,
        )
        .order_by(Invoice.id)
    ).all()
    untouched = [i for i in invoices if not sandbox.data.invoices[i.teamleader_id]["payments"]]
    assert len(untouched) >= 3, "the sandbox seed should give three open invoices"
    return untouched[:3]


def pay_all(client, provider, invoices) -> list[str]:
    """Check out each invoice and have the provider mark it paid (its webhook is stored)."""
    ids = []
    for invoice in invoices:
        start_checkout(client, invoice)
        online = db.session.scalars(
            db.select(OnlinePayment).where(OnlinePayment.invoice_id == invoice.id)
        ).one()
        provider.control("POST", f"payments/{online.provider_id}/status", json={"status": "paid"})
        ids.append(online.provider_id)
    return ids


def test_one_job_drains_a_burst_and_writes_each_payment_with_one_call(
    paying_app, open_invoices, provider, sandbox, client, redis_conn
):
    before = db.session.scalar(db.select(db.func.max(JobRun.id))) or 0
    pay_all(client, provider, open_invoices)
    assert Queue("high", connection=redis_conn).count == 1  # three calls, one drain
    sandbox.reset_calls()

    run_jobs(paying_app, redis_conn)

    for invoice in open_invoices:
        invoice = refreshed(invoice)
        assert invoice.state == InvoiceState.PAID
        assert invoice.teamleader_status == "matched"
        assert len(sandbox.data.invoices[invoice.teamleader_id]["payments"]) == 1
    calls = {k: v for k, v in sandbox.calls().items() if k.startswith("invoices.")}
    assert calls == {"invoices.registerPayment": 3}
    runs = db.session.scalars(db.select(JobRun).where(JobRun.id > before)).all()
    assert [r.name for r in runs] == ["handle_provider_webhook"]
    assert runs[0].message == "3 processed"
    statuses = db.session.scalars(db.select(ProviderNotification.status)).all()
    assert statuses == [NotificationStatus.PROCESSED] * 3
    syncs = db.session.scalars(db.select(TeamleaderSync.status)).all()
    assert syncs == [SyncStatus.SYNCED] * 3


class Died(BaseException):
    """Stands for the worker being killed: nothing after it runs."""


def test_a_drain_that_dies_mid_batch_leaves_the_rest_to_the_next_one(
    paying_app, open_invoices, provider, sandbox, client, redis_conn, monkeypatch, clock
):
    pay_all(client, provider, open_invoices)
    real = checkout.refresh
    fetched = []

    def dies_at_the_second(provider_client, provider_id, **options):
        fetched.append(provider_id)
        if len(fetched) == 2:
            raise Died
        return real(provider_client, provider_id, **options)

    monkeypatch.setattr(checkout, "refresh", dies_at_the_second)
    with paying_app.app_context(), pytest.raises(Died):
        payments_jobs.handle_provider_webhook()
    db.session.rollback()
    redis_conn.flushdb()  # a killed worker starts no delivery job on its way out
    monkeypatch.setattr(checkout, "refresh", real)

    rows = db.session.scalars(db.select(ProviderNotification).order_by("id")).all()
    assert [r.status for r in rows] == ["processed", "received", "received"]
    # Taken by the dead drain: a drain now leaves them alone, one after the lease takes them.
    assert inbox.take(payments_jobs.PROVIDER, 10) == []
    clock.advance(seconds=inbox.TAKE_LEASE.total_seconds() + 1)
    with paying_app.app_context():
        assert payments_jobs.handle_provider_webhook() == "2 processed"
        # The first payment was recorded, its delivery died with the drain: the outbox's
        # periodic push brings it to Teamleader (a killed worker starts nothing).
        assert teamleader_jobs.push_teamleader() == "1 synced, 0 waiting, 0 refused"

    for invoice in open_invoices:
        assert refreshed(invoice).state == InvoiceState.PAID
        assert len(sandbox.data.invoices[invoice.teamleader_id]["payments"]) == 1
    payments = db.session.scalars(db.select(Payment.invoice_id)).all()
    assert sorted(payments) == sorted(i.id for i in open_invoices)  # one each, none twice
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(db.select(ProviderNotification))} == {"processed"}
    assert [r.dispatches for r in rows] == [1, 2, 2]
