"""A finance user logs in and creates a profile, in a real browser."""

import pytest
from playwright.sync_api import expect

from collector.documents.models import Profile
from collector.extensions import db
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_admin_logs_in_and_creates_a_profile(page, live_server, admin):
    log_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Payment profiles")).to_be_visible()

    page.get_by_role("link", name="New profile").click()
    page.get_by_label("Name").fill("Direct debit")
    page.get_by_label("SEPA direct debit (signed mandate)").check()
    page.get_by_label("Send the invitation when the document is imported").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Profile “Direct debit” created.")
    row = page.get_by_role("row", name="Direct debit")
    expect(row).to_contain_text("direct debit")
    profile = db.session.scalars(db.select(Profile)).one()
    assert profile.allow_direct_debit and profile.send_invitation_on_import


def test_invalid_profile_shows_errors_in_the_browser(page, live_server, admin):
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/profiles/new")
    page.get_by_label("Bank transfer with structured reference").uncheck()
    page.get_by_label("Name").fill("Nothing allowed")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error")).to_contain_text("Allow at least one way to pay.")
    assert db.session.scalars(db.select(Profile)).all() == []


def test_viewer_sees_no_change_buttons(page, live_server, viewer):
    log_in(page, live_server, viewer.email)
    expect(page.get_by_role("heading", name="Payment profiles")).to_be_visible()
    expect(page.get_by_role("link", name="New profile")).to_have_count(0)
