"""The customer's side in a real browser: the invitation's link, the payment page, the
provider's hosted checkout, and the status reaching Teamleader — then a chargeback."""

import re
import time

import pytest
from playwright.sync_api import expect

from collector.documents.models import Invoice, InvoiceState
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.runtime.inline import InlineBackend

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+/pay/[A-Za-z0-9_-]{43}")


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 12, "RATE_LIMIT": 100_000}


@pytest.fixture
def inline_jobs(tl_app):
    """Jobs in threads of the live server, as `make run` does without Redis."""
    queue = tl_app.extensions["jobs"]
    saved, queue.backend = queue.backend, InlineBackend()
    yield
    queue.backend.pool.shutdown(wait=True)
    queue.backend = saved


def eventually(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.1)


def teamleader_payments(sandbox, invoice) -> list:
    return list(sandbox.data.invoices[invoice.teamleader_id]["payments"])


def state_of(invoice) -> InvoiceState:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id).state


def test_paying_from_the_invitation_and_a_chargeback(
    tl_app, open_invoice, sandbox, provider, live_server, smtp_server, page, inline_jobs
):
    tl_app.config.update(
        PUBLIC_BASE_URL=live_server,
        PAYMENT_PROVIDER_URL=f"{provider.url}/v2",
        PAYMENT_PROVIDER_API_KEY="test_sandbox",
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
    )
    invoice = open_invoice
    invoice.customer.email = invoice.customer.email or "debtor@example.com"
    db.session.commit()
    mail_jobs.send_invitations([invoice.id], "admin@example.com")
    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = LINK.search(text).group(0)
    assert link == f"{live_server}/pay/{invoice.payment_token}"

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(link)
    expect(page.locator("#amount-due")).to_be_visible()
    page.locator("#pay-online").click()
    expect(page).to_have_url(re.compile(re.escape(provider.url) + r"/checkout/tr_"))
    page.locator("#pay").click()

    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/pay/{invoice.payment_token}")))
    expect(page.locator("#paid-notice")).to_be_visible()
    eventually(lambda: len(teamleader_payments(sandbox, invoice)) == 1)
    assert state_of(invoice) == InvoiceState.PAID
    assert sandbox.data.invoices[invoice.teamleader_id]["status"] == "matched"

    [provider_id] = [p["id"] for p in provider.control("GET", "payments")["data"]]
    provider.control("POST", f"payments/{provider_id}/chargeback", json={"reason_code": "AM04"})
    eventually(lambda: teamleader_payments(sandbox, invoice) == [])
    eventually(lambda: state_of(invoice) in (InvoiceState.BOOKED, InvoiceState.EXPIRED))
    assert sandbox.data.invoices[invoice.teamleader_id]["status"] == "outstanding"
    page.goto(link)
    expect(page.locator("#amount-due")).to_be_visible()
    expect(page.locator("#paid-notice")).to_have_count(0)
    # One column on a phone: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
