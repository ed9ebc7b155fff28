"""Open checkouts are read again from the provider on a schedule, less often as they age,
so a lost webhook costs minutes: the provider's API is ``responses`` (unknown calls fail)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses

from collector.core.columns import utcnow
from collector.documents.models import InvoiceState, Payment, PaymentSource
from collector.extensions import db
from collector.payments import jobs as payments_jobs
from collector.payments import open_payments
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment
from collector.payments.provider import READ_RETRIES
from collector.runtime.models import JobRun
from collector.schedule import SCHEDULE
from tests.support.factories import make_invoice, make_profile

API = "https://api.mollie.test/v2"


@pytest.fixture
def provider(app, monkeypatch):
    """A configured payment provider whose API is ``responses``; unknown calls fail."""
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    with responses.RequestsMock() as mock:
        yield mock


def started(
    provider_id: str, *, age: timedelta, read_ago: timedelta | None = None, status: str = "open"
) -> OnlinePayment:
    """An online payment started ``age`` ago, last read from the provider ``read_ago`` ago."""
    now = utcnow()
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    row = OnlinePayment(
        invoice_id=invoice.id,
        provider_id=provider_id,
        amount=invoice.amount_due,
        currency="EUR",
        status=status,
        checkout_url=f"https://checkout.test/{provider_id}",
        created_at=now - age,
        fetched_at=None if read_ago is None else now - read_ago,
    )
    db.session.add(row)
    db.session.commit()
    return row


def answer(provider, provider_id: str, status: str, **extra) -> None:
    body = {
        "resource": "payment",
        "id": provider_id,
        "mode": "test",
        "status": status,
        "amount": {"currency": "EUR", "value": "121.00"},
        "description": "Invoice",
        "createdAt": "2026-11-21T10:00:00+00:00",
    }
    provider.get(f"{API}/payments/{provider_id}", json=body | extra)


def reread(app):
    return open_payments.reread_open(payments_setup.provider(app), utcnow())


@pytest.mark.parametrize(
    ("age", "read_ago", "due"),
    [
        (timedelta(minutes=2), None, False),  # the webhook and the return usually come first
        (timedelta(minutes=3), None, True),
        (timedelta(minutes=10), timedelta(minutes=1), False),  # at least two minutes apart
        (timedelta(minutes=10), timedelta(minutes=2), True),
        (timedelta(hours=10), timedelta(minutes=59), False),  # never more than a tenth of its age
        (timedelta(hours=10), timedelta(hours=2), True),  # and not much less either
        (timedelta(days=29), timedelta(days=2, hours=23), False),
        (timedelta(days=29), timedelta(days=5, hours=19), True),
        (timedelta(days=31), None, False),  # older than any payment stays open
    ],
)
def test_an_open_payment_is_due_by_its_age_and_its_last_read(app, age, read_ago, due):
    row = started("tr_aged", age=age, read_ago=read_ago)
    assert [r[0] for r in open_payments.due(utcnow())] == ([row.id] if due else [])


@pytest.mark.parametrize("status", ["pending", "authorized"])
def test_pending_and_authorized_payments_are_read_again_too(app, status):
    row = started("tr_waiting", age=timedelta(minutes=5), status=status)
    assert [r[0] for r in open_payments.due(utcnow())] == [row.id]


@pytest.mark.parametrize("status", ["paid", "failed", "canceled", "expired"])
def test_a_final_payment_is_not_read_again(app, status):
    started("tr_final", age=timedelta(minutes=5), status=status)
    assert open_payments.due(utcnow()) == []


def test_a_payment_whose_webhook_was_lost_is_recorded_at_the_next_read(app, provider):
    paid = started("tr_paid", age=timedelta(minutes=10))
    still_open = started("tr_open", age=timedelta(minutes=4))
    started("tr_young", age=timedelta(minutes=1))  # not asked about: no call registered
    answer(provider, "tr_paid", "paid", paidAt="2026-11-21T10:05:00+00:00")
    answer(provider, "tr_open", "open")

    result = reread(app)

    assert (result.read, result.changed, result.failed) == (2, 1, 0)
    db.session.expire_all()
    paid = db.session.get(OnlinePayment, paid.id)
    assert paid.status == "paid" and paid.fetched_at == utcnow()
    assert paid.invoice.state == InvoiceState.PAID
    payment = db.session.scalars(db.select(Payment)).one()
    assert (payment.invoice_id, payment.source) == (paid.invoice_id, PaymentSource.PROVIDER)
    assert db.session.get(OnlinePayment, still_open.id).fetched_at == utcnow()
    assert open_payments.due(utcnow()) == []  # both were just read, the young one is young


def test_a_provider_error_on_one_payment_does_not_stop_the_others(app, provider):
    failing = started("tr_failing", age=timedelta(minutes=20))
    paid = started("tr_paid", age=timedelta(minutes=10))
    provider.get(f"{API}/payments/tr_failing", status=500, json={"status": 500, "title": "Oops"})
    answer(provider, "tr_paid", "paid", paidAt="2026-11-21T10:05:00+00:00")

    result = reread(app)

    assert (result.read, result.changed, result.failed) == (1, 1, 1)
    assert result.summary() == "1 open payment(s) read again, 1 changed, 1 could not be read"
    db.session.expire_all()
    assert db.session.get(OnlinePayment, paid.id).invoice.state == InvoiceState.PAID
    failing = db.session.get(OnlinePayment, failing.id)
    assert (failing.status, failing.fetched_at) == ("open", None)  # tried again next run
    assert [r[0] for r in open_payments.due(utcnow())] == [failing.id]


def test_a_rate_limit_ends_the_run_and_the_next_one_goes_on(app, provider):
    first = started("tr_first", age=timedelta(minutes=20))
    second = started("tr_second", age=timedelta(minutes=10))
    provider.get(
        f"{API}/payments/tr_first",
        status=429,
        json={"status": 429, "title": "Too Many Requests"},
        headers={"Retry-After": "30"},
    )

    result = reread(app)

    assert (result.read, result.failed) == (0, 1)
    assert len(provider.calls) == 1  # the second was not asked: it waits for the next run
    assert [r[0] for r in open_payments.due(utcnow())] == [first.id, second.id]


def test_a_provider_that_fails_on_every_payment_ends_the_run(app, provider):
    for n in range(open_payments.FAILURES_IN_A_ROW + 1):
        started(f"tr_down{n}", age=timedelta(minutes=20 - n))
        provider.get(f"{API}/payments/tr_down{n}", status=503, json={"status": 503})
    provider.assert_all_requests_are_fired = False

    result = reread(app)

    assert (result.read, result.failed) == (0, open_payments.FAILURES_IN_A_ROW)
    # Each read is tried again a few times at once by the client; the last payment waits.
    tries = 1 + READ_RETRIES
    assert len(provider.calls) == open_payments.FAILURES_IN_A_ROW * tries


def test_a_run_reads_a_bounded_batch_read_longest_ago_first(app, provider):
    started("tr_recent", age=timedelta(hours=1), read_ago=timedelta(minutes=30))
    oldest_read = started("tr_longago", age=timedelta(hours=2), read_ago=timedelta(hours=1))
    answer(provider, "tr_longago", "expired")

    result = open_payments.reread_open(payments_setup.provider(app), utcnow(), limit=1)

    assert (result.read, result.changed) == (1, 1)
    assert db.session.get(OnlinePayment, oldest_read.id).status == "expired"


def test_a_payment_the_provider_does_not_know_waits_like_the_others(app, provider):
    row = started("tr_gone", age=timedelta(minutes=10))
    provider.get(f"{API}/payments/tr_gone", status=404, json={"status": 404, "title": "Not Found"})

    assert reread(app).read == 1

    assert db.session.get(OnlinePayment, row.id).fetched_at == utcnow()
    assert open_payments.due(utcnow()) == []


def test_the_schedule_reads_open_payments_every_two_minutes(app, provider):
    [entry] = [p for p in SCHEDULE if p.func is payments_jobs.reread_open_payments]
    assert (entry.queue, entry.interval) == ("default", 120)
    started("tr_paid", age=timedelta(minutes=10))
    answer(provider, "tr_paid", "paid", paidAt="2026-11-21T10:05:00+00:00")

    assert payments_jobs.reread_open_payments() == "1 open payment(s) read again, 1 changed"
    assert db.session.scalars(db.select(JobRun.name)).all() == ["reread_open_payments"]


def test_without_a_provider_the_job_reads_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "")
    started("tr_open", age=timedelta(minutes=10))
    assert payments_jobs.reread_open_payments() == "No payment provider is configured."
