"""Paying several invoices at once from the customer portal, end to end: the portal's
form, one checkout at the provider's emulator, its webhook into the running app, real rq
jobs, and Teamleader's sandbox at the other end (issue 24's "done when")."""

import re
from decimal import Decimal

import pytest
from rq import SimpleWorker

from collector.documents.models import Invoice, InvoiceState, Payment
from collector.extensions import db
from collector.payments.models import OnlinePayment
from collector.payments.split import in_order
from collector.runtime.queue import QUEUES, bind_job_class

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def sandbox_config():
    # Enough that three open, unpaid invoices fall in the import on any day (30 left two
    # on the moved clock of 2027-12-31).
    return {"SEED": 11, "INVOICE_COUNT": 60, "RATE_LIMIT": 100_000}


@pytest.fixture
def paying_app(tl_app, provider, live_server):
    tl_app.config.update(
        PUBLIC_BASE_URL=live_server,
        PAYMENT_PROVIDER_URL=f"{provider.url}/v2",
        PAYMENT_PROVIDER_API_KEY="test_sandbox",
    )
    return tl_app


def run_jobs(app, redis_conn):
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def refreshed(invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def test_two_of_three_invoices_paid_in_one_checkout(
    paying_app, three_open, client, provider, sandbox, redis_conn
):
    customer = three_open[0].customer
    first, second, third = in_order(three_open)
    page = client.get(f"/portal/{customer.portal_token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for invoice in three_open:
        assert f'data-invoice="{invoice.id}"' in html
    token = CSRF.search(html).group(1)

    # The customer ticks the third and the first (in the order the page does not matter).
    response = client.post(
        f"/portal/{customer.portal_token}/pay",
        data={"csrf_token": token, "invoice": [str(third.id), str(first.id)]},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    checkout = response.headers["Location"]
    assert checkout.startswith(f"{provider.url}/checkout/tr_")

    online = db.session.scalars(db.select(OnlinePayment)).one()
    expected = first.amount_due + third.amount_due
    assert online.amount == expected
    assert [p.invoice_id for p in online.documents] == [first.id, third.id]
    at_provider = provider.http.get(
        f"{provider.url}/v2/payments/{online.provider_id}",
        headers={"Authorization": "Bearer test_sandbox"},
        timeout=10,
    ).json()
    assert at_provider["amount"]["value"] == f"{expected:.2f}"
    assert at_provider["metadata"] == {"invoice_ids": [first.id, third.id]}

    amounts = {i.id: i.amount_due for i in (first, second, third)}
    answer = provider.http.post(checkout, data={"action": "paid"}, allow_redirects=False)
    assert answer.status_code == 303
    assert f"/portal/{customer.portal_token}/return" in answer.headers["Location"]
    run_jobs(paying_app, redis_conn)
    # The provider calls the webhook again: nothing more is recorded or sent.
    provider.control("POST", f"payments/{online.provider_id}/webhook", json={"times": 2})
    run_jobs(paying_app, redis_conn)

    for paid in (first, third):
        invoice = refreshed(paid)
        assert invoice.state == InvoiceState.PAID and invoice.amount_due == 0
        rows = db.session.scalars(db.select(Payment).where(Payment.invoice_id == paid.id)).all()
        assert [r.amount for r in rows] == [amounts[paid.id]]
        entries = sandbox.data.invoices[invoice.teamleader_id]["payments"]
        assert [Decimal(str(e["payment"]["amount"])) for e in entries] == [amounts[paid.id]]
    untouched = refreshed(second)
    assert untouched.state != InvoiceState.PAID and untouched.amount_due == amounts[second.id]
    assert sandbox.data.invoices[untouched.teamleader_id]["payments"] == []

    back = client.get(f"/portal/{customer.portal_token}")
    html = back.get_data(as_text=True)
    assert 'data-state="paid"' in html


def test_a_failed_checkout_says_so_and_pays_nothing(
    paying_app, three_open, client, provider, sandbox, redis_conn
):
    customer = three_open[0].customer
    page = client.get(f"/portal/{customer.portal_token}?lang=en")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        f"/portal/{customer.portal_token}/pay?lang=en",
        data={"csrf_token": token, "invoice": [str(i.id) for i in three_open]},
    )
    answer = provider.http.post(
        response.headers["Location"], data={"action": "failed"}, allow_redirects=False
    )
    back = client.get(answer.headers["Location"].replace(paying_app.config["PUBLIC_BASE_URL"], ""))
    assert back.status_code == 303
    shown = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "The payment did not go through. You can try again." in shown
    run_jobs(paying_app, redis_conn)
    assert db.session.scalars(db.select(Payment)).all() == []
    for invoice in three_open:
        invoice = refreshed(invoice)
        assert invoice.state != InvoiceState.PAID
        told = [e.message for e in invoice.events if e.kind == "online_payment"]
        assert any("failed" in text for text in told), told
