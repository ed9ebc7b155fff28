"""Paying online end to end: the payment page, the provider emulator's checkout and its
webhooks into the running app, real rq jobs, and Teamleader's sandbox at the other end."""

import logging
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Payment, PaymentKind
from collector.extensions import db
from collector.payments import checkout as online_payments
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment, ProviderNotification
from collector.runtime import recovery
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, RQBackend, bind_job_class
from collector.teamleader.models import DeliveryStatus, WebhookDelivery

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 12, "RATE_LIMIT": 100_000}


@pytest.fixture
def paying_app(tl_app, provider, live_server):
    """The app served on a real port (the provider calls its webhook there)."""
    tl_app.config.update(
        PUBLIC_BASE_URL=live_server,
        PAYMENT_PROVIDER_URL=f"{provider.url}/v2",
        PAYMENT_PROVIDER_API_KEY="test_sandbox",
    )
    return tl_app


def run_jobs(app, redis_conn):
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def start_checkout(client, invoice) -> str:
    page = client.get(f"/pay/{invoice.payment_token}")
    assert page.status_code == 200
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    response = client.post(f"/pay/{invoice.payment_token}/online", data={"csrf_token": token})
    assert response.status_code == 303
    return response.headers["Location"]


def provider_id_of(invoice) -> str:
    return db.session.scalars(
        db.select(OnlinePayment.provider_id).where(OnlinePayment.invoice_id == invoice.id)
    ).one()


def teamleader_payments_of(sandbox, invoice) -> list:
    return list(sandbox.data.invoices[invoice.teamleader_id]["payments"])


def refreshed(invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def test_paid_at_the_provider_then_charged_back(
    paying_app, open_invoice, provider, sandbox, client, redis_conn
):
    amount = open_invoice.amount_due
    checkout = start_checkout(client, open_invoice)
    assert checkout.startswith(f"{provider.url}/checkout/tr_")

    # The customer presses "Pay" on the hosted checkout; the provider calls our webhook.
    answer = provider.http.post(checkout, data={"action": "paid"}, allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/pay/{open_invoice.payment_token}/return")
    run_jobs(paying_app, redis_conn)  # the webhook's job, then the doorbell's push

    invoice = refreshed(open_invoice)
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == 0
    entries = teamleader_payments_of(sandbox, invoice)
    assert [e["payment"]["amount"] for e in entries] == [amount]
    assert invoice.teamleader_status == "matched"

    provider_id = provider_id_of(invoice)
    provider.control("POST", f"payments/{provider_id}/chargeback", json={"reason_code": "MD06"})
    run_jobs(paying_app, redis_conn)

    invoice = refreshed(open_invoice)
    assert invoice.state in (InvoiceState.BOOKED, InvoiceState.EXPIRED)
    assert invoice.amount_due == amount
    chargeback = [p for p in invoice.payments if p.kind == PaymentKind.CHARGEBACK]
    assert [(c.amount, c.reason_code) for c in chargeback] == [(-amount, "MD06")]
    assert teamleader_payments_of(sandbox, invoice) == []
    assert invoice.teamleader_status == "outstanding"
    reasons = [e.message for e in invoice.events if e.kind == "state_changed"]
    assert "Charged back (MD06)" in reasons[-1]


def test_one_job_records_a_payment_and_writes_it_to_teamleader(
    paying_app, open_invoice, provider, sandbox, client, redis_conn
):
    """The webhook's job delivers the status it owed itself, and Teamleader's echo of
    that payment costs no job: a payment is one job on the payment path."""
    amount = open_invoice.amount_due
    before = db.session.scalar(db.select(db.func.max(JobRun.id))) or 0
    checkout = start_checkout(client, open_invoice)
    provider.http.post(checkout, data={"action": "paid"}, allow_redirects=False)
    high = Queue("high", connection=redis_conn)
    assert len(high.job_ids) == 1

    worker = SimpleWorker(["high"], connection=redis_conn, job_class=bind_job_class(paying_app))
    worker.work(burst=True, max_jobs=1)

    invoice = refreshed(open_invoice)
    assert invoice.state == InvoiceState.PAID
    assert [e["payment"]["amount"] for e in teamleader_payments_of(sandbox, invoice)] == [amount]
    assert invoice.teamleader_status == "matched"
    assert all(q.count == 0 for q in (Queue(name, connection=redis_conn) for name in QUEUES))
    runs = db.session.scalars(db.select(JobRun.name).where(JobRun.id > before)).all()
    assert runs == ["handle_provider_webhook"]
    # Teamleader sends its echo a moment after answering registerPayment: wait for it.
    sandbox.control("GET", "webhooks/deliveries", params={"wait": 1})
    echo = db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.event_type == "invoice.paymentRegistered")
    ).one()
    assert echo.status == DeliveryStatus.PROCESSED
    assert "echoing a payment we wrote" in echo.outcome


def test_fifty_concurrent_webhooks_make_one_payment(
    paying_app, open_invoice, provider, client, redis_conn
):
    amount = open_invoice.amount_due
    start_checkout(client, open_invoice)
    provider_id = provider_id_of(open_invoice)
    # Paid without a webhook first, then the same webhook 50 times at once.
    provider.control("POST", f"payments/{provider_id}/status", json={"status": "paid"})
    db.session.query(JobRun).delete()
    db.session.commit()
    redis_conn.flushdb()
    stored = db.session.query(ProviderNotification).count()
    provider.control(
        "POST", f"payments/{provider_id}/webhook", json={"times": 50, "concurrent": True}
    )
    # Each call is stored; they wait for one job, which drains them all.
    assert db.session.query(ProviderNotification).count() == stored + 50
    assert db.session.query(JobRun).filter_by(name="handle_provider_webhook").count() == 1

    # Their jobs run concurrently too: eight threads fetch and apply at once.
    errors = []

    def apply():
        with paying_app.app_context():
            try:
                online_payments.refresh(payments_setup.provider(paying_app), provider_id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    run_jobs(paying_app, redis_conn)

    assert errors == []
    payments = db.session.scalars(
        db.select(Payment).where(Payment.invoice_id == open_invoice.id)
    ).all()
    assert [(p.kind, p.amount) for p in payments] == [(PaymentKind.PAYMENT, amount)]
    assert refreshed(open_invoice).state == InvoiceState.PAID
    received = [e for e in refreshed(open_invoice).events if e.kind == "payment_received"]
    assert len(received) == 1


def test_a_webhook_answered_while_redis_is_away_is_handled_when_it_returns(
    paying_app, open_invoice, provider, client, redis_conn
):
    start_checkout(client, open_invoice)
    provider_id = provider_id_of(open_invoice)
    jobs = paying_app.extensions["jobs"]
    real = jobs.backend
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    jobs.backend = RQBackend(dead)
    try:
        # Paid at the provider, which calls our webhook.
        provider.control("POST", f"payments/{provider_id}/status", json={"status": "paid"})
    finally:
        jobs.backend = real
    # Answered (the provider would retry a 5xx, not a 2xx): the call is a row, its run waits.
    notification = db.session.scalars(db.select(ProviderNotification)).one()
    assert (notification.provider_id, notification.status) == (provider_id, "received")
    run = db.session.scalars(db.select(JobRun).filter_by(name="handle_provider_webhook")).one()
    assert run.status == JobStatus.QUEUED and "Redis did not answer" in run.message
    assert refreshed(open_invoice).state != InvoiceState.PAID

    run.created_at -= timedelta(minutes=2)
    db.session.commit()
    with paying_app.app_context():
        assert recovery.recover(jobs)["requeued"] == 1
    run_jobs(paying_app, redis_conn)
    assert refreshed(open_invoice).state == InvoiceState.PAID
    db.session.expire_all()
    assert db.session.get(ProviderNotification, notification.id).status == "processed"


def test_a_webhook_whose_payment_cannot_be_fetched_yet_is_fetched_again_soon(
    paying_app, open_invoice, provider, client, redis_conn
):
    start_checkout(client, open_invoice)
    provider_id = provider_id_of(open_invoice)
    provider.control("POST", "faults", json={"kind": "error", "count": 50, "status": 503})
    provider.control("POST", f"payments/{provider_id}/status", json={"status": "paid"})
    run_jobs(paying_app, redis_conn)  # its fetches answer 503

    run = db.session.scalars(db.select(JobRun).filter_by(name="handle_provider_webhook")).one()
    assert run.status == JobStatus.QUEUED
    assert run.message.startswith("Waiting for the payment provider until ")
    scheduled = ScheduledJobRegistry("high", connection=redis_conn)
    assert scheduled.get_job_ids() == [run.job_id]  # no worker waits for it

    provider.control("DELETE", "faults")  # the provider is back; the moment comes
    job = Job.fetch(run.job_id, connection=redis_conn)
    scheduled.remove(job)
    Queue("high", connection=redis_conn).enqueue_job(job)
    run_jobs(paying_app, redis_conn)
    assert refreshed(open_invoice).state == InvoiceState.PAID


def test_a_webhook_for_an_unknown_payment_is_ignored_and_logged(
    paying_app, client, redis_conn, caplog
):
    token = payments_setup.webhook_token(paying_app)
    with caplog.at_level(logging.WARNING, logger="collector.payments.webhooks"):
        response = client.post(f"/webhooks/provider/{token}", data={"id": "tr_unknown123"})
    assert response.status_code == 200
    assert "unknown payment id ignored" in caplog.text
    assert db.session.query(JobRun).count() == 0 and redis_conn.dbsize() == 0


def test_a_webhook_with_a_wrong_token_is_refused(paying_app, client):
    response = client.post("/webhooks/provider/not-the-token", data={"id": "tr_x"})
    assert response.status_code == 404


def test_a_partial_refund_leaves_it_open_for_the_rest(
    paying_app, open_invoice, provider, sandbox, client, redis_conn
):
    amount = open_invoice.amount_due
    start_checkout(client, open_invoice)
    provider_id = provider_id_of(open_invoice)
    provider.control("POST", f"payments/{provider_id}/status", json={"status": "paid"})
    run_jobs(paying_app, redis_conn)
    provider.control("POST", f"payments/{provider_id}/refund", json={"amount": "10.00"})
    run_jobs(paying_app, redis_conn)

    invoice = refreshed(open_invoice)
    assert invoice.amount_due == Decimal("10.00")
    assert invoice.state in (InvoiceState.BOOKED, InvoiceState.EXPIRED)
    entries = teamleader_payments_of(sandbox, invoice)
    assert [e["payment"]["amount"] for e in entries] == [amount - Decimal("10.00")]


# PostgreSQL's round trips are the budget (production runs on it); SQLite, with no row
# locks and other SQL, counts a few more.
@pytest.mark.postgres
# More invoices than the module's twelve: three must be open and unpaid on any day (on
# the moved clock, the twelve left two).
@pytest.mark.parametrize(
    "sandbox_config", [{"SEED": 11, "INVOICE_COUNT": 60, "RATE_LIMIT": 100_000}]
)
def test_a_burst_of_payments_costs_a_bounded_number_of_statements(
    paying_app, open_invoice, provider, sandbox, client, redis_conn
):
    """The database round trips of the payment path are its cost under a burst (each a
    wait on PostgreSQL, which shares the machine): recording a payment, delivering it to
    Teamleader and storing Teamleader's echo stay within a counted budget. A change that
    adds a query per payment fails here, not in a benchmark weeks later."""
    invoices = db.session.scalars(
        db.select(Invoice)
        .where(Invoice.state.in_(ledger.OPEN), Invoice.amount_due > 0)
        .where(Invoice.kind == DocumentKind.INVOICE)
        .order_by(Invoice.id)
    ).all()
    invoices = [i for i in invoices if not sandbox.data.invoices[i.teamleader_id]["payments"]][:3]
    assert len(invoices) == 3
    checkouts = [start_checkout(client, invoice) for invoice in invoices]
    for checkout in checkouts:
        provider.http.post(checkout, data={"action": "paid"}, allow_redirects=False)

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(threading.current_thread() is threading.main_thread())

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        SimpleWorker(["high"], connection=redis_conn, job_class=bind_job_class(paying_app)).work(
            burst=True
        )
        sandbox.control("GET", "webhooks/deliveries", params={"wait": 1})
        db.session.remove()  # the echoes are stored by the live server's threads
        deadline = time.monotonic() + 10
        echoes = 0
        while echoes < 3 and time.monotonic() < deadline:
            echoes = db.session.scalar(
                db.select(db.func.count(WebhookDelivery.id)).where(
                    WebhookDelivery.event_type == "invoice.paymentRegistered"
                )
            )
            time.sleep(0.05)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert echoes == 3
    assert all(refreshed(i).state == InvoiceState.PAID for i in invoices)
    in_job = statements.count(True)
    # The job, for three payments: measured 57 (77 before the ledger's INSERT … ON
    # CONFLICT, the endpoints read once a batch, a first payment reading no ledger rows,
    # its two events in one INSERT and the delivery reading the payments with its row; 97
    # before the path was first trimmed): about 12 to run, take and claim, then per
    # payment 11 to record it (read the notification and the checkout, lock the document,
    # read the checkout again under the lock and the credit notes' total, write the
    # checkout, the payment, the document, its events, the sync row and the notification)
    # and 4 to deliver it. A statement more per payment fails here.
    assert in_job <= 58, in_job
    # Teamleader's echoes, stored by the web server without a job: the connection, "is it
    # ours?", the row — three statements each (four before: the row was read back).
    assert statements.count(False) <= 3 * 3, statements.count(False)
