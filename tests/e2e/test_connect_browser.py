"""Connecting Teamleader in a real browser, through the sandbox's OAuth pages."""

import pytest
from playwright.sync_api import expect

from collector.extensions import db
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def base(tl_app, live_server):
    tl_app.config["PUBLIC_BASE_URL"] = live_server  # the redirect URI and webhook URLs
    return live_server


def test_connect_grant_and_land_back_connected(page, base, sandbox, admin):
    log_in(page, base, admin.email)
    page.get_by_role("link", name="Teamleader").click()
    page.get_by_role("button", name="Connect Teamleader").click()

    expect(page.get_by_role("button", name="Grant access")).to_be_visible()  # the sandbox
    page.get_by_role("button", name="Grant access").click()

    expect(page).to_have_url(f"{base}/integrations/teamleader")
    expect(page.get_by_role("status")).to_contain_text("Connected to Teamleader account")
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "connected")
    connection = db.session.scalars(db.select(TeamleaderConnection)).one()
    assert connection.status == ConnectionStatus.CONNECTED
    [hook] = sandbox.control("GET", "webhooks")["data"]
    assert hook["url"] == f"{base}/webhooks/teamleader/{connection.webhook_token}"

    # The settings offer what Teamleader told us on connect.
    page.get_by_text("Advanced").click()
    page.get_by_label("Custom field (invoice context) with the profile").select_option(
        label="Payment profile"
    )
    page.get_by_label("Strict mode is on in Teamleader").check()
    method = connection.payment_methods[0]
    page.get_by_label("Payment method of the payments written to Teamleader").select_option(
        label=method["name"]
    )
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Teamleader settings saved.")
    db.session.refresh(connection)
    assert connection.invoice_profile_field_id and connection.strict_mode_confirmed
    assert connection.payment_method_id == method["id"]


def test_deny_lands_back_with_a_message_and_nothing_stored(page, base, sandbox, admin):
    log_in(page, base, admin.email)
    page.goto(f"{base}/integrations/teamleader")
    page.get_by_role("button", name="Connect Teamleader").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("alert")).to_contain_text("Access was denied in Teamleader")
    assert db.session.scalars(db.select(TeamleaderConnection)).all() == []
