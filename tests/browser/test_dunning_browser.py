"""A profile's dunning in a real browser, in Dutch, French and English: the steps, a mail
text previewed against a real document, the document's next step and the list's column
and filter; none scrolls sideways at laptop or phone width.

``DUNNING_SHOTS=<dir>`` saves each page at 1366 and 390 px wide, to be looked at.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from collector.dunning.models import StepKind
from tests.support.factories import make_customer, make_invoice, make_profile

pytestmark = pytest.mark.browser

DESKTOP, PHONE, HEIGHT = 1366, 390, 900
SCHEDULE = [
    (StepKind.REMINDER, 3),
    (StepKind.REMINDER, 14),
    (StepKind.FINAL_NOTICE, 30),
    (StepKind.HAND_OFF, 45),
]


@pytest.fixture(params=["nl-BE", "fr-BE", "en-GB"])
def user_page(request, browser, live_server, admin):
    context = browser.new_context(
        locale=request.param, viewport={"width": DESKTOP, "height": HEIGHT}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill(admin.email)
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("input[name=password]").press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))
    yield page, request.param[:2]
    context.close()


def look(page: Page, language: str, name: str) -> None:
    folder = os.environ.get("DUNNING_SHOTS")
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": HEIGHT})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} scrolls sideways at {width} px ({wide} px wide)"
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/{language}-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})


def test_the_dunning_of_a_profile(user_page, live_server, clock):
    page, language = user_page
    profile = make_profile(name="Payment link", steps=SCHEDULE)
    customer = make_customer(name="Brasserie De Klok BV", language=language)
    today = clock.today()
    due_now = make_invoice(profile=profile, customer=customer, due_date=today - timedelta(days=4))
    make_invoice(profile=profile, customer=customer, due_date=today - timedelta(days=50))
    make_invoice(profile=profile, customer=customer, due_date=today + timedelta(days=6))

    page.goto(f"{live_server}/profiles/{profile.id}/dunning/")
    expect(page.locator("[data-step-row]")).to_have_count(6)  # 4 steps and 2 blank rows
    look(page, language, "1-steps")

    page.locator(f'[data-slot^="step-"] a[data-text="{language}"]').first.click()
    page.locator("textarea[name=body]").fill(
        "{{ customer_name }}: {{ amount_due }}\n\n{{ payment_link }}\n\n{{ structured_reference }}"
    )
    page.locator('button[value="preview"]').click()
    expect(page.locator("[data-preview-text]")).to_contain_text("Brasserie De Klok BV")
    mail = page.frame_locator("iframe.mail-html").locator("body")
    expect(mail).to_contain_text("Brasserie De Klok BV")
    look(page, language, "2-text-preview")

    page.locator("textarea[name=body]").fill("{{ payment_link }} {{ number")
    page.locator('button[value="save"]').click()
    expect(page.locator('p.error[data-field="body"]')).to_be_visible()
    look(page, language, "3-text-refused")

    page.goto(f"{live_server}/invoices/{due_now.id}")
    expect(page.locator('[data-dunning] [data-next-step="due"]')).to_be_visible()
    look(page, language, "4-document")

    page.goto(f"{live_server}/invoices/")
    expect(page.locator('[data-next-step="hand_off"]')).to_have_count(1)
    look(page, language, "5-list")
    page.goto(f"{live_server}/invoices/?dunning=due")
    expect(page.locator("table.documents tbody tr")).to_have_count(1)
