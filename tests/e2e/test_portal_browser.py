"""The portal in a real browser: a customer with three open invoices ticks two, pays
them in one checkout at the provider's emulator, comes back, and both reach Teamleader
once each; the third stays open. On a phone's width, nothing is wider than the screen.

With ``PORTAL_SHOTS=<folder>`` it also saves the portal in nl, fr and en at 1366 and
390 px wide there, for a person to look at."""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.core import clock
from collector.documents.models import Invoice, InvoiceState
from collector.extensions import db
from collector.payments.split import in_order
from collector.runtime.inline import InlineBackend

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox_config():
    # Three open, unpaid invoices of one currency and entity, on today and on the moved
    # clock (30 left two there; 50 and 60 gave a second entity a pay button of its own).
    # Chosen by trying: a seed-independent setup is owed.
    return {"SEED": 11, "INVOICE_COUNT": 45, "RATE_LIMIT": 100_000}


@pytest.fixture
def paying_app(tl_app, provider, live_server):
    tl_app.config.update(
        PUBLIC_BASE_URL=live_server,
        PAYMENT_PROVIDER_URL=f"{provider.url}/v2",
        PAYMENT_PROVIDER_API_KEY="test_sandbox",
    )
    return tl_app


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


def state_of(invoice) -> InvoiceState:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id).state


def shoot(page, address: str, name: str) -> None:
    folder = os.environ.get("PORTAL_SHOTS")
    if not folder:
        return
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for language in ("nl", "fr", "en"):
            page.goto(f"{address}?lang={language}")
            path = Path(folder) / f"{name}-{language}-{width}.png"
            page.screenshot(path=str(path), full_page=True)


def test_paying_two_of_three_invoices_from_the_portal(
    paying_app,
    three_open,
    sandbox,
    provider,
    live_server,
    page,
    inline_jobs,  # noqa: F811
):
    customer = three_open[0].customer
    first, second, third = in_order(three_open)
    address = f"{live_server}/portal/{customer.portal_token}"
    shoot(page, address, "portal-open")

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{address}?lang=en")
    expect(page.locator(f'[data-invoice="{second.id}"]')).to_be_visible()
    page.locator(f"#pick-{first.id}").check()
    page.locator(f"#pick-{third.id}").check()
    page.get_by_role("button", name="Pay the ticked invoices online").click()
    expect(page).to_have_url(re.compile(re.escape(provider.url) + r"/checkout/tr_"))
    expected = first.amount_due + third.amount_due
    expect(page.locator("#amount")).to_have_text(f"EUR {expected:.2f}")
    page.locator("#pay").click()

    expect(page).to_have_url(re.compile(re.escape(address)))
    expect(page.locator("#portal-notice")).to_be_visible()
    for paid in (first, third):
        eventually(
            lambda paid=paid: len(sandbox.data.invoices[paid.teamleader_id]["payments"]) == 1
        )
        assert state_of(paid) == InvoiceState.PAID
    assert state_of(second) != InvoiceState.PAID
    assert sandbox.data.invoices[second.teamleader_id]["payments"] == []

    page.goto(f"{address}?lang=en")
    expect(page.locator(f'[data-invoice="{first.id}"][data-state="paid"]')).to_be_visible()
    expect(page.locator(f'[data-invoice="{third.id}"][data-state="paid"]')).to_be_visible()
    expect(page.locator(f"#pick-{second.id}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The customer says they paid the third one by transfer: chasing pauses.
    page.locator(f"#said-{second.id} summary").click()
    page.locator(f'#said-{second.id} input[name="paid_on"]').fill(clock.local_today().isoformat())
    page.locator(f"#said-{second.id}").get_by_role("button", name="I have paid").click()
    expect(page.locator("#portal-notice")).to_contain_text(second.number)
    expect(page.locator(f'[data-invoice="{second.id}"] [data-hold="promise"]')).to_be_visible()
    shoot(page, address, "portal-after")
