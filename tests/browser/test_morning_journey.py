"""A finance user's morning in a real browser: the dashboard, a needs-attention item
followed to the invoice it is about, another to the customers it counts, a customer found
by name, the overdue list exported, and each bar of the aging chart checked against the
list it links to.

Every figure is checked against what ``tests/support/morning.py`` seeded, not only
against another page: two pages wrong the same way would agree with each other. Today
is the test clock's, so the journey holds on any day (``make test-moved-clock``).
Selectors are ids, hrefs and data attributes, so the journey reads the same when the UI
speaks Dutch or French: the journey is walked once in each, the browser asking for
Belgian Dutch, Belgian French and British English.

``JOURNEY_SHOTS=<dir>`` saves each page at 1366 and 390 px wide, to be looked at.
"""

from __future__ import annotations

import csv
import io
import os
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.support.morning import BUCKETS, Morning, bucket_of, seed

pytestmark = pytest.mark.browser

DESKTOP, PHONE = 1366, 390
# The export's columns, in order, as an English reader sees their names.
CSV_COLUMNS = (
    "Number",
    "Kind",
    "Customer",
    "Customer number",
    "Invoice date",
    "Due date",
    "Days overdue",
    "Currency",
    "Amount",
    "Amount due",
    "State",
    "Partly paid",
    "Profile",
    "PDF",
    "Teamleader id",
)
HEIGHT = 900
PASSWORD = "correct horse battery"


@pytest.fixture
def morning(app, admin) -> Morning:
    return seed()


@pytest.fixture(params=["nl-BE", "fr-BE", "en-GB"])
def user_page(request, browser, live_server, admin, morning):
    """A browser at laptop width asking for the language, logged in from the home page."""
    context = browser.new_context(
        locale=request.param, viewport={"width": DESKTOP, "height": HEIGHT}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    page.locator("input[name=email]").fill(admin.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(f"{live_server}/")
    yield page
    context.close()


class Camera:
    """Checks a page reads without sideways scrolling at laptop and phone width, and
    saves screenshots of both when JOURNEY_SHOTS names a folder."""

    def __init__(self, page: Page, language: str):
        self.page = page
        folder = os.environ.get("JOURNEY_SHOTS")
        self.folder = Path(folder) / language if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.taken = 0

    def look(self, name: str) -> None:
        self.taken += 1
        for width in (DESKTOP, PHONE):
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            wide = self.page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} scrolls sideways at {width} px ({wide} px wide)"
            if self.folder:
                path = self.folder / f"{self.taken:02d}-{name}-{width}.png"
                self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})


def amount(locator) -> Decimal:
    return Decimal(locator.get_attribute("data-amount"))


def list_totals(page: Page) -> tuple[int, Decimal]:
    """The invoice list's totals of its whole filtered set: documents, amount due (EUR);
    they come in their own request after the rows (static/app.js), so they are waited for."""
    totals = page.locator("section.totals[data-totals]")
    totals.wait_for()
    count = int(totals.get_attribute("data-totals"))
    due = totals.locator('[data-currency="EUR"] [data-total="amount_due"]')
    return count, Decimal(due.get_attribute("data-value")) if count else Decimal("0.00")


def listed_numbers(page: Page) -> list[str]:
    return page.locator("table.documents tbody td.number a").all_inner_texts()


def back_to_the_dashboard(page: Page, base: str) -> None:
    page.locator('#main-menu a[href="/"]').click()
    expect(page).to_have_url(f"{base}/")


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_finance_users_morning(user_page, live_server, morning):
    page = user_page
    asked = page.evaluate("navigator.language")  # the context's locale, as the browser says it
    # The UI answers in the language the browser asks for, not only in English.
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{asked[:2]}\b"))
    camera = Camera(page, asked)
    aging = dashboard_shows_the_seeded_figures(page, morning)
    camera.look("dashboard")
    follow_the_returned_debit(page, camera, morning)
    list_the_customers_without_a_mandate(page, camera, live_server, morning)
    find_a_customer_by_name(page, camera, morning)
    export_the_overdue_list(page, camera, live_server, morning)
    check_each_aging_bar(page, camera, live_server, aging, morning)


def dashboard_shows_the_seeded_figures(page: Page, morning: Morning) -> dict:
    aging = {}
    for key in BUCKETS:
        row = page.locator(f'#aging-table tr[data-bucket="{key}"]')
        count = int(row.locator("[data-count]").get_attribute("data-count"))
        aging[key] = (count, amount(row.locator("[data-amount]")))
    assert aging == morning.buckets()
    overdue = morning.overdue()
    owed = sum(i.amount_due for i in morning.owed)
    assert amount(page.locator("#figure-overdue [data-amount]").first) == sum(
        i.amount_due for i in overdue
    )
    outstanding = amount(page.locator("#figure-outstanding [data-amount]").first)
    assert outstanding == owed - morning.unapplied_credit
    # What needs a person: the returned debit, and the customer without a mandate.
    items = page.locator("#needs-attention li[data-item]")
    assert [li.get_attribute("data-item") for li in items.all()] == ["came_back", "no_mandate"]
    came_back = page.locator('#needs-attention li[data-item="came_back"]')
    expect(came_back.locator("[data-count]")).to_have_attribute("data-count", "1")
    no_mandate = page.locator('#needs-attention li[data-item="no_mandate"]')
    expect(no_mandate.locator("[data-count]")).to_have_attribute("data-count", "1")
    return aging


def follow_the_returned_debit(page: Page, camera: Camera, morning: Morning) -> None:
    """The item leads to the collections, its run holds the return, and the return leads
    to the invoice with the button to announce a new debit (what the item says to do)."""
    returned = morning.returned
    page.locator('#needs-attention li[data-item="came_back"] a').first.click()
    expect(page).to_have_url(re.compile(r"/collections/$"))
    run = page.locator(f'tr[data-run="{morning.returned_run_id}"]')
    expect(run).to_be_visible()
    camera.look("collections")
    run.locator(f'a[href$="/collections/{morning.returned_run_id}"]').click()
    row = page.locator(f'tr[data-collection="{morning.returned_e2e}"]')
    expect(row.locator(".badge-returned")).to_be_visible()
    expect(row).to_contain_text("MS02")
    camera.look("collection-run")

    row.locator(f'a[href$="/invoices/{returned.id}"]').click()
    expect(page.locator("h1")).to_contain_text(returned.number)
    expect(page.locator("[data-amount-due]")).to_have_attribute(
        "data-amount-due", str(returned.amount_due)
    )
    expect(page.locator(".heading .badge-expired")).to_be_visible()
    # The payment the debit brought and the return that took it back, both listed.
    expect(page.locator("#payments tr[data-payment]")).to_have_count(2)
    expect(page.locator('button[name=action][value="send_invitations"]')).to_be_visible()
    camera.look("invoice")


def list_the_customers_without_a_mandate(
    page: Page, camera: Camera, base: str, morning: Morning
) -> None:
    """The item leads to the customers it counts, on the customers list as a filter that
    is shown and can be cleared; each row owes what the seed put on it."""
    back_to_the_dashboard(page, base)
    item = page.locator('#needs-attention li[data-item="no_mandate"]')
    count = int(item.locator("[data-count]").get_attribute("data-count"))
    item.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/customers/\?without_mandate=1$"))
    rows = page.locator("tr[data-customer]")
    expect(rows).to_have_count(len(morning.without_mandate))
    assert count == rows.count()
    for key in morning.without_mandate:
        row = page.locator(f'tr[data-customer="{morning.customers[key].id}"]')
        owed = sum(i.amount_due for i in morning.owed_by(key))
        expect(row.locator("[data-open]")).to_have_attribute("data-open", str(owed))
    expect(page.locator('input[name="without_mandate"]')).to_be_checked()
    camera.look("customers-without-mandate")

    page.locator('[data-filter="without_mandate"] a[data-clear="without_mandate"]').click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator('[data-filter="without_mandate"]')).to_have_count(0)
    expect(rows).to_have_count(len(morning.customers))


def find_a_customer_by_name(page: Page, camera: Camera, morning: Morning) -> None:
    """Part of a name, typed in lower case, finds the customer, not its namesake."""
    hoecke = morning.customers["hoecke"]
    owed = morning.owed_by("hoecke")
    page.locator('#main-menu a[href="/customers/"]').click()
    search = page.locator('form.filters input[name="q"]')
    search.fill("bakkerij van hoecke")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=bakkerij\+van\+hoecke"))
    rows = page.locator("tr[data-customer]")
    expect(rows).to_have_count(1)
    row = page.locator(f'tr[data-customer="{hoecke.id}"]')
    expect(row.locator("[data-open]")).to_have_attribute(
        "data-open", str(sum(i.amount_due for i in owed))
    )
    camera.look("customers-search")
    row.locator(f'a[href$="/customers/{hoecke.id}"]').first.click()
    expect(page.locator("h1")).to_have_text(hoecke.name)
    camera.look("customer")

    # The invoice list's search box finds the same customer's documents by name.
    page.locator('#main-menu a[href="/invoices/"]').click()
    search = page.locator('form.invoice-filters input[name="q"]')
    search.fill("Bakkerij Van Hoecke")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/invoices/\?(.*&)?q=Bakkerij\+Van\+Hoecke"))
    expect(page.locator("section.totals")).to_have_attribute("data-totals", str(len(owed)))
    assert sorted(listed_numbers(page)) == sorted(i.number for i in owed)
    assert list_totals(page) == (len(owed), sum(i.amount_due for i in owed))
    expect(page.locator("[data-partly-paid]")).to_have_count(1)
    camera.look("invoices-search")


def export_the_overdue_list(page: Page, camera: Camera, base: str, morning: Morning) -> None:
    """The dashboard's overdue figure leads to the list of exactly the overdue invoices,
    and the CSV of that list holds the same rows."""
    overdue = {i.number: i for i in morning.overdue()}
    back_to_the_dashboard(page, base)
    page.locator("a#figure-overdue").click()
    expect(page).to_have_url(re.compile(r"/invoices/\?(.*&)?overdue_from=1(&|$)"))
    assert "overdue_to" not in query_of(page)
    assert list_totals(page) == (len(overdue), sum(i.amount_due for i in overdue.values()))
    assert sorted(listed_numbers(page)) == sorted(overdue)
    for cell in page.locator("table.documents td[data-overdue]").all():
        assert int(cell.get_attribute("data-overdue")) >= 1
    camera.look("invoices-overdue")

    with page.expect_download() as waiting:
        page.locator('a[href*="/invoices/export.csv"]').click()
    download = waiting.value
    assert download.suggested_filename == f"documents-{morning.today.isoformat()}.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    # The header speaks the reader's language; the values stay machine-readable.
    assert len(header) == len(CSV_COLUMNS)
    assert (header == list(CSV_COLUMNS)) == page.evaluate("navigator.language").startswith("en")
    rows = [dict(zip(CSV_COLUMNS, values, strict=True)) for values in reader]
    assert sorted(row["Number"] for row in rows) == sorted(overdue)
    for row in rows:
        seeded = overdue[row["Number"]]
        assert row["Kind"] == "invoice"
        assert int(row["Days overdue"]) == seeded.days
        assert Decimal(row["Amount due"]) == seeded.amount_due
        assert row["Customer"] == morning.customers[seeded.customer].name


def check_each_aging_bar(
    page: Page, camera: Camera, base: str, aging: dict, morning: Morning
) -> None:
    """Each bar's link lists the invoices the bar counts: count and amount due agree."""
    for key in BUCKETS:
        back_to_the_dashboard(page, base)
        bar = page.locator(f'#aging svg a[data-bucket="{key}"]')
        row = page.locator(f'#aging-table tr[data-bucket="{key}"] a')
        assert bar.get_attribute("href") == row.get_attribute("href"), key
        bar.click()
        expect(page).to_have_url(re.compile(r"/invoices/\?"))
        assert list_totals(page) == aging[key], f"the {key} bar and its list disagree"
        expected = sorted(i.number for i in morning.owed if bucket_of(i.days) == key)
        assert sorted(listed_numbers(page)) == expected, f"the {key} list"
        if key == "current":
            camera.look("invoices-not-yet-due")
