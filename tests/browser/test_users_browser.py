"""An admin invites a colleague in a real browser; the colleague opens the mailed link
(through the SMTP test server), chooses a password and logs in.

With ``COLLECTOR_SHOTS`` set to a folder, the pages are saved there as PNGs in English,
Dutch and French, at 1366 and 390 px wide."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.accounts import password_links
from collector.accounts.models import LinkPurpose
from collector.core import clock
from collector.extensions import db
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

LINK = re.compile(r"http://\S+/password/new/[A-Za-z0-9_-]+")


@pytest.fixture
def mailing(app, smtp_server, live_server):
    saved = dict(app.config)
    app.config.update(
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="collector@example.com",
        PUBLIC_BASE_URL=live_server,
    )
    yield smtp_server
    app.config.clear()
    app.config.update(saved)


def test_invite_choose_a_password_and_log_in(app, admin, live_server, mailing, page, browser):
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/settings/users/")
    page.locator("#invite-user").click()
    page.get_by_label("Email").fill("colleague@example.com")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Language of the invitation").select_option("en")
    page.locator("#send-invitation").click()
    expect(page.locator(".flash-success")).to_contain_text("mailed to colleague@example.com")
    expect(page.locator('#users tr[data-user="colleague@example.com"]')).to_contain_text("invited")

    [message] = mailing.messages
    link = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert link.startswith(live_server)

    colleague = browser.new_context().new_page()
    colleague.goto(link)
    expect(colleague.locator("h1")).to_have_text("Choose your password")
    colleague.get_by_label("New password", exact=True).fill("short")
    colleague.get_by_label("New password, once more").fill("short")
    colleague.locator("#save-password").click()
    expect(colleague.locator(".error")).to_contain_text("At least 10 characters.")
    colleague.get_by_label("New password", exact=True).fill("a colleague's passphrase")
    colleague.get_by_label("New password, once more").fill("a colleague's passphrase")
    colleague.locator("#save-password").click()
    expect(colleague).to_have_url(f"{live_server}/login")
    colleague.get_by_label("Email").fill("colleague@example.com")
    colleague.get_by_label("Password").fill("a colleague's passphrase")
    colleague.get_by_role("button", name="Log in").click()
    expect(colleague.locator(".who")).to_contain_text("colleague@example.com")
    # The link worked once.
    colleague.goto(link)
    expect(colleague.locator("h1")).to_have_text("This link no longer works")
    colleague.context.close()


LANGUAGES = {"en": "en-GB", "nl": "nl-BE", "fr": "fr-BE"}
PAGES = (
    ("users", "/settings/users/"),
    ("invite", "/settings/users/new"),
    ("user", "/settings/users/{viewer}"),
    ("own-password", "/settings/password"),
)
PUBLIC = (
    ("login", "/login"),
    ("forgot", "/password/forgot"),
    ("choose", "/password/new/{token}"),
    ("expired", "/password/new/not-a-token"),
)


def test_the_new_pages_in_each_language_and_width(app, admin, viewer, live_server, browser):
    """Each page answers in English, Dutch and French; with COLLECTOR_SHOTS set, each is
    saved at 1366 and 390 px wide."""
    token = password_links.issue(
        viewer, LinkPurpose.RESET, now=clock.now(), lifetime=timedelta(hours=24)
    )
    db.session.commit()
    folder = os.environ.get("COLLECTOR_SHOTS")
    for short, language in LANGUAGES.items():
        context = browser.new_context(locale=language)
        page = context.new_page()
        for name, path in PUBLIC:
            _visit(page, live_server + path.format(token=token), folder, f"{name}-{short}")
        page.goto(f"{live_server}/login")
        page.locator("#email").fill(admin.email)
        page.locator("#password").fill("correct horse battery")
        page.locator("form button.primary").click()
        expect(page.locator(".who")).to_be_attached()  # folded in the menu on a phone
        for name, path in PAGES:
            _visit(page, live_server + path.format(viewer=viewer.id), folder, f"{name}-{short}")
        # No mail server here: the admin is handed the link, which wraps on a phone.
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(f"{live_server}/settings/users/new")
        page.locator("#email").fill(f"new-{short}@example.com")
        page.locator("#send-invitation").click()
        expect(page.locator(".flash-warning")).to_contain_text("/password/new/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if folder:
            page.screenshot(path=str(Path(folder) / f"handed-link-{short}-390.png"), full_page=True)
        context.close()


def _visit(page, url: str, folder: str | None, name: str) -> None:
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        response = page.goto(url)
        assert response.status in (200, 404), url
        # Nothing wider than the screen: the page never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (url, width)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
