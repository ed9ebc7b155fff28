"""A finance user puts a document on hold from its page, in a real browser, on a phone
as on a desktop: the hold, its reason and the "no reminders" notice show, and the page
does not scroll sideways."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from collector.dunning.models import Hold
from collector.extensions import db
from tests.support.browser import log_in
from tests.support.factories import make_customer, make_invoice

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_admin_puts_a_document_on_a_promise_to_pay(page, live_server, admin, clock, width):
    page.set_viewport_size({"width": width, "height": 900})
    invoice = make_invoice(customer=make_customer(name="Klaverblad Services BV"))
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/invoices/{invoice.id}")

    page.locator("#holds summary").click()
    page.locator("#hold-reason").select_option("promise")
    day = clock.today() + timedelta(days=10)
    page.get_by_label("Promised to pay by (a promise to pay only)").fill(day.isoformat())
    page.locator("#hold-note").fill("Pays after the year-end closing")
    page.locator("#holds").get_by_role("button", name="Put on hold").click()

    expect(page.locator("[data-not-chased]")).to_contain_text("the customer promised to pay by")
    expect(page.locator("#holds")).to_contain_text("Pays after the year-end closing")
    expect(page.locator(".timeline")).to_contain_text("Put on hold: the customer promised")
    hold = db.session.scalars(db.select(Hold)).one()
    assert hold.until == day
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways at {width} px ({scroll} px wide)"
