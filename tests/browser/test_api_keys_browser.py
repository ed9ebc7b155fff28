"""An admin creates an API key in a real browser, copies it from the one page that shows
it, uses it, then revokes it; the audit log shows both."""

import re

import pytest
from playwright.sync_api import expect

from collector.accounts.models import ApiKey
from collector.extensions import db
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_admin_creates_a_key_sees_it_once_and_revokes_it(page, live_server, admin, client):
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/settings/creditor")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()

    page.get_by_label("Name (who or what uses it)").fill("Bank robot")
    page.get_by_label("Mark documents paid and archive them").check()
    page.get_by_role("button", name="Create key").click()

    shown = page.locator("[data-key]")
    expect(shown).to_be_visible()
    plain = shown.inner_text().strip()
    assert re.fullmatch(r"ck_[A-Za-z0-9_-]{43}", plain)
    key = db.session.scalars(db.select(ApiKey)).one()
    assert key.scopes == ["read", "write:payments"]
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/invoices", headers=headers).status_code == 200

    page.goto(f"{live_server}/settings/api-keys")
    expect(page.locator("[data-key]")).to_have_count(0)
    row = page.get_by_role("row", name=re.compile("Bank robot"))
    expect(row).to_contain_text(key.prefix)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("row", name=re.compile("Bank robot"))).to_contain_text("revoked")
    assert client.get("/api/v1/invoices", headers=headers).status_code == 401

    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("tr[data-action='api_key.revoked']")).to_contain_text("Bank robot")
    expect(page.locator("tr[data-action='api_key.created']")).to_contain_text("admin@example.com")
