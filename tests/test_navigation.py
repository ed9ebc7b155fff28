"""The main menu: grouped, the current page marked, every page reachable, nothing a
viewer cannot open, and usable on a phone (390 px) without scrolling sideways."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from playwright.sync_api import expect

from tests.support.browser import log_in
from tests.support.factories import make_customer, make_invoice

MENU = re.compile(r'<nav id="main-menu".*?</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')
HREF = re.compile(r'href="(/[^"?#]*)')

# The links of the flat menu before it was grouped: each must still be in it.
BEFORE = [
    "/",
    "/invoices/",
    "/customers/",
    "/profiles/",
    "/imports/",
    "/mandates/",
    "/collections/",
    "/bank-files/",
    "/integrations/teamleader",
    "/integrations/exact",
    "/integrations/callbacks/",
    "/sync-problems/",
    "/jobs/",
    "/settings/creditor",
    "/outbox/",
]
# Not pages a person opens: where an OAuth provider sends the browser back.
REDIRECT_TARGETS = {"integrations.teamleader_callback", "exact.callback"}
# Not the finance UI: the JSON API, login and its password pages (forgot, choose one), the
# customers' payment pages, webhooks, Prometheus's /metrics.
OTHER_BLUEPRINTS = {
    "api",
    "metrics",
    "auth",
    "health",
    "password",
    "pay",
    "static",
    "provider_webhooks",
    "teamleader_webhooks",
}
ADMIN_ONLY = {
    "Upload mandates": "/mandates/uploads/new",
    "New collection run": "/collections/new",
    "Users": "/settings/users/",
}


def menu_of(client, path: str) -> list[tuple[str, str, bool]]:
    """The main menu on ``path``: (url, label, current) in order."""
    response = client.get(path)
    assert response.status_code == 200, path
    found = MENU.search(response.get_data(as_text=True))
    assert found, f"no main menu on {path}"
    return [(url, label, bool(mark)) for url, mark, label in LINK.findall(found.group(0))]


def current_of(client, path: str) -> list[str]:
    return [label for _, label, current in menu_of(client, path) if current]


def test_the_menu_is_grouped_for_a_finance_team(admin_client):
    html = admin_client.get("/").get_data(as_text=True)
    groups = re.findall(r'<p class="menu-heading"[^>]*>([^<]+)</p>', html)
    assert groups == ["Receivables", "Collect", "Integrations", "Admin"]
    nav = MENU.search(html).group(0)
    # Operations pages sit under Admin, after every finance page.
    admin_part = nav[nav.index(">Admin<") :]
    for label in ("Jobs", "Callbacks", "Outbox", "Sync problems", "Settings"):
        assert f">{label}</a>" in admin_part
    assert ">Invoices</a>" not in admin_part


def test_receivables_list_what_is_owed_then_what_came_in(viewer_client):
    labels = [label for _, label, _ in menu_of(viewer_client, "/")]
    assert labels[:4] == ["Dashboard", "Invoices", "Customers", "Payments"]


def test_every_link_of_the_old_menu_is_still_there(admin_client):
    urls = [url for url, _, _ in menu_of(admin_client, "/")]
    assert [u for u in BEFORE if u not in urls] == []


def test_every_page_is_reachable_from_the_menu(app, admin_client):
    menu = [url for url, _, _ in menu_of(admin_client, "/")]
    linked = set(menu)
    for url in menu:  # one step further: what the menu's pages link to
        linked |= set(HREF.findall(admin_client.get(url).get_data(as_text=True)))
    with app.test_request_context():
        pages = {
            rule.endpoint: url_for(rule.endpoint)
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods
            and not rule.arguments
            and rule.endpoint.partition(".")[0] not in OTHER_BLUEPRINTS
            and rule.endpoint not in REDIRECT_TARGETS
        }
    unreachable = {name: url for name, url in pages.items() if url not in linked}
    assert unreachable == {}


def test_each_page_of_the_menu_marks_itself(admin_client):
    for url, label, _ in menu_of(admin_client, "/"):
        assert current_of(admin_client, url) == [label], url


def test_pages_below_an_item_mark_it(app, admin_client):
    invoice = make_invoice()
    customer = make_customer()
    assert current_of(admin_client, f"/invoices/{invoice.id}") == ["Invoices"]
    assert current_of(admin_client, f"/customers/{customer.id}") == ["Customers"]
    assert current_of(admin_client, "/bank-files/unmatched") == ["Bank files"]
    assert current_of(admin_client, "/settings/company") == ["Settings"]
    # A page with an item of its own is that item, not its blueprint's first.
    assert current_of(admin_client, "/collections/new") == ["New collection run"]
    html = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    # On a phone, the folded menu says where you are.
    assert '<span class="menu-here">Invoices</span>' in html


def test_a_viewer_gets_no_admin_links_and_can_open_every_link(app, viewer_client):
    menu = menu_of(viewer_client, "/")
    labels = [label for _, label, _ in menu]
    assert not set(ADMIN_ONLY) & set(labels)
    assert "Jobs" in labels and "Settings" in labels  # reading stays open to viewers
    for url, _, _ in menu:
        assert viewer_client.get(url).status_code == 200, url
    # The items left out are really closed to viewers.
    for url in ADMIN_ONLY.values():
        assert viewer_client.get(url).status_code == 403, url


def test_an_admin_gets_the_admin_links(admin_client):
    menu = {label: url for url, label, _ in menu_of(admin_client, "/")}
    assert {label: menu.get(label) for label in ADMIN_ONLY} == ADMIN_ONLY


def test_no_menu_before_logging_in(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'id="main-menu"' not in html and "menu-toggle" not in html


PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 768}
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.browser
def test_phone_pages_fit_390_px_and_the_menu_folds(page, live_server, admin):
    customer = make_customer(name="Brouwerij Sint-Bernardus en Zonen Internationaal BV")
    invoice = make_invoice(customer=customer, number="2026/000000000000042")
    make_invoice(customer=customer)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, admin.email)
    for path in ("/", f"/invoices/{invoice.id}", f"/customers/{customer.id}"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate(SIDEWAYS) == 0, f"{path} scrolls sideways at 390 px"
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu).to_be_hidden()
    page.locator(".menu-toggle summary").click()
    expect(menu.get_by_role("link", name="Invoices")).to_be_visible()
    expect(menu.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server}/invoices/{invoice.id}")
    # Wide, the menu is a sidebar, open without a click.
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()
    expect(page.locator(".menu-toggle")).to_be_hidden()
