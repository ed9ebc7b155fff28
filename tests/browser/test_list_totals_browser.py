"""The invoice list shows its rows first and its totals a moment later: the script fetches
/invoices/totals for the same filter and puts the totals and the page count where the
placeholder stood. Without the script, or when that request fails, the placeholder's
link leads to the totals page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from collector.documents.models import DocumentKind, InvoiceState
from tests.support.browser import log_in
from tests.support.factories import make_invoice

pytestmark = pytest.mark.browser

D = Decimal


@pytest.fixture
def books(app):
    """Four EUR documents (a credit note among them) and one in USD."""
    for amount in ("100.00", "250.00", "40.00"):
        make_invoice(total_incl_vat=D(amount), amount_due=D(amount))
    make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        total_incl_vat=D("30.00"),
        amount_due=D("0.00"),
        state=InvoiceState.ARCHIVED,
        due_date=None,
    )
    make_invoice(currency="USD", total_incl_vat=D("12.50"), amount_due=D("12.50"))


def figure(page, currency: str, name: str) -> Decimal:
    found = page.locator(f'section.totals [data-currency="{currency}"] [data-total="{name}"]')
    return D(found.get_attribute("data-value"))


@pytest.mark.parametrize("width", [1366, 390])
def test_the_totals_arrive_in_the_list(page, live_server, admin, books, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/invoices/?per_page=2")
    expect(page.locator("table.documents tbody tr")).to_have_count(2)
    totals = page.locator("section.totals[data-totals]")
    expect(totals).to_have_attribute("data-totals", "5")
    assert figure(page, "EUR", "amount") == D("360.00")  # 100 + 250 + 40 - 30
    assert figure(page, "EUR", "amount_due") == D("390.00")
    assert figure(page, "USD", "amount") == D("12.50")
    # The placeholder's link went with it; the pager has its count now.
    expect(page.locator("[data-totals-from] > p.totals")).to_have_count(0)
    expect(page.locator('.pager [data-pager="position"]')).to_have_text("Page 1 of 3")
    expect(page.locator('.pager [data-pager="count"]')).to_have_text("· 5 in all")
    # Next page: its own totals request, the same figures, its own page number.
    page.locator('.pager a[rel="next"]').click()
    expect(page.locator('.pager [data-pager="position"]')).to_have_text("Page 2 of 3")
    expect(page.locator("section.totals[data-totals]")).to_have_attribute("data-totals", "5")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the list scrolls sideways at {width} px ({scroll} px wide)"


def test_without_the_script_the_link_leads_to_the_totals(browser, live_server, admin, books):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server, admin.email)
        page.goto(f"{live_server}/invoices/?kind=invoice")
        expect(page.locator('.pager [data-pager="position"]')).to_have_text("Page 1")
        expect(page.locator("section.totals")).to_have_count(0)
        page.locator("[data-totals-from] a").click()
        expect(page).to_have_url(re.compile(r"/invoices/totals\?kind=invoice$"))
        expect(page.locator("section.totals")).to_have_attribute("data-totals", "4")
        expect(page.locator('[data-pager="position"]')).to_have_text("Page 1 of 1")
        page.get_by_role("link", name="Back to the list").click()
        expect(page).to_have_url(re.compile(r"/invoices/\?kind=invoice$"))
    finally:
        context.close()


def test_a_failed_totals_request_leaves_the_link(page, live_server, admin, books):
    log_in(page, live_server, admin.email)
    page.route(re.compile(r".*/invoices/totals.*"), lambda route: route.fulfill(status=500))
    with page.expect_response(re.compile(r".*/invoices/totals.*")):
        page.goto(f"{live_server}/invoices/")
    expect(page.locator("[data-totals-from] a")).to_be_visible()
    expect(page.locator("section.totals")).to_have_count(0)
    expect(page.locator('.pager [data-pager="position"]')).to_have_text("Page 1")
