"""Issue 24's part 1 in a real browser: from the invitation's payment page the customer
follows "Sign a mandate", fills in the form, ticks the confirmation and signs; the next
collection run collects their invoice as FRST and the sandbox bank's camt.054 marks it
paid. Then the customer revokes the mandate from the same page. The signing page in
three languages, at a desktop's and a phone's width, without sideways scrolling.

With ``COLLECTOR_SHOTS`` set to a folder, each page is also saved there as a PNG."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from collector.accounts import creditor
from collector.core import clock as core_clock
from collector.direct_debit import bank_files, collection_runs, mandates, signing
from collector.direct_debit.models import Collection, MandateStatus
from collector.documents.models import CustomerKind, InvoiceState
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from sandbox import bank
from tests.support.browser import log_in
from tests.support.factories import make_customer, make_invoice, make_profile
from tests.support.sepa import sequence_types

pytestmark = pytest.mark.browser


def shoot(page, name: str) -> None:
    folder = os.environ.get("COLLECTOR_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def invoice(app, live_server):
    app.config["PUBLIC_BASE_URL"] = live_server
    creditor.update(
        "Klaverblad Services BV",
        "BE62 5100 0754 7061",
        "VAPEBE22",
        "BE69ZZZ050D000000008",
        address="Kerkstraat 1\n9000 Gent",
        contact_email="debiteuren@klaverblad.example",
    )
    profile = make_profile(allow_direct_debit=True, allow_bank_transfer=True)
    customer = make_customer(
        name="Bakkerij Peeters", language="nl", profile=profile, kind=CustomerKind.COMPANY
    )
    today = core_clock.local_today()
    return make_invoice(customer=customer, profile=profile, invoice_date=today, due_date=today)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_invitation_link_to_signed_mandate_to_paid_by_the_next_run(
    page, live_server, app, invoice, smtp_server, monkeypatch
):
    # Set for this test only: the app is the session's, and the tests after this one
    # would mail to an SMTP server that is gone.
    for key, value in {
        "MAIL_HOST": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "billing@collector.example",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    invitations.request_invitations([invoice.id], actor="test")
    mail_jobs.deliver_mail()
    (invitation,) = smtp_server.messages
    text = invitation.get_body(("plain",)).get_content()
    payment_link = f"{live_server}/pay/{invoice.payment_token}"
    assert payment_link in text and signing.link_for(invoice.customer) in text

    # The payment page the invitation links to offers the mandate.
    page.goto(payment_link)
    expect(page.locator("#sign-mandate")).to_be_visible()
    shoot(page, "pay-offers-mandate")
    page.locator("#sign-mandate-link").click()
    expect(page.locator("h1")).to_have_text("Domiciliëringsmandaat")
    expect(page.locator("#mandate-text")).to_contain_text("BE69ZZZ050D000000008")
    expect(page.locator("#mandate-text")).to_contain_text("8 weken")

    # A mistake first: the IBAN's check digits are wrong and the box is not ticked.
    page.get_by_label("IBAN").fill("BE71 0961 2345 6760")
    page.get_by_label("Uw naam").fill("Jan Peeters")
    page.locator("#sign-button").click()
    expect(page.locator('.error[data-field="iban"]')).to_be_visible()
    expect(page.locator('.error[data-field="consent"]')).to_be_visible()
    assert mandates.active_mandate(invoice.customer_id, invoice.profile_id) is None

    page.get_by_label("IBAN").fill("BE71 0961 2345 6769")
    page.get_by_label("Straat en nummer").fill("Markt 3")
    page.get_by_label("Postcode").fill("9000")
    page.get_by_label("Gemeente").fill("Gent")
    page.locator("#f-consent").check()
    page.locator("#sign-button").click()
    expect(page.locator("#signed-notice")).to_be_visible()
    expect(page.locator("#mandate-iban")).to_have_text("BE71 0961 2345 6769")
    mandate = mandates.active_mandate(invoice.customer_id, invoice.profile_id)
    assert mandate.sequence_type == "FRST"

    # The next run, as the schedule makes it: announced, collected, paid.
    invitations.request_invitations([invoice.id], actor="test", again=True)
    mail_jobs.deliver_mail()
    store = runtime_setup.document_store(app)
    today = core_clock.local_today()
    run = collection_runs.create_run(store, today, today + timedelta(days=60), "CORE", "test")
    content = collection_runs.file(run, store)
    collection = db.session.scalars(sa.select(Collection)).one()
    assert sequence_types(content) == {collection.end_to_end_id: "FRST"}
    collection_runs.mark_sent(run, "test")
    notice = bank.settle(content, collection.collection_date)
    bank_files.upload(store, "camt054.xml", notice, "test", collection.collection_date)
    db.session.expire_all()
    assert invoice.state == InvoiceState.PAID

    # The customer revokes it from the same page, after a confirmation.
    page.goto(signing.link_for(invoice.customer))
    page.locator("#revoke-link").click()
    expect(page.locator("#revoke-button")).to_be_visible()
    page.locator("#revoke-button").click()
    expect(page.locator("#revoked-notice")).to_be_visible()
    db.session.expire_all()
    assert mandate.status == MandateStatus.REVOKED


@pytest.mark.parametrize("width", (1366, 390))
@pytest.mark.parametrize("lang", ("nl", "fr", "en"))
def test_the_signing_page_in_three_languages_fits(page, live_server, invoice, width, lang):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{signing.link_for(invoice.customer)}?lang={lang}")
    expect(page.locator("html")).to_have_attribute(
        "lang", {"nl": "nl-BE", "fr": "fr-BE", "en": "en"}[lang]
    )
    expect(page.locator("#sign-form")).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"sign-{lang}-{width}")
    # Errors stay in the language.
    page.locator("#sign-button").click()
    expect(page.locator('.error[data-field="consent"]')).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"sign-errors-{lang}-{width}")
    page.locator("#f-iban").fill("BE71 0961 2345 6769")
    page.locator("#f-street").fill("Markt 3")
    page.locator("#f-postal_code").fill("9000")
    page.locator("#f-city").fill("Gent")
    page.locator("#f-signatory").fill("Jan Peeters")
    page.locator("#f-consent").check()
    page.locator("#sign-button").click()
    expect(page.locator("#signed-notice")).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"signed-{lang}-{width}")
    page.locator("#revoke-link").click()
    expect(page.locator("#revoke-button")).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"revoke-{lang}-{width}")


@pytest.mark.parametrize("width", (1366, 390))
def test_the_team_makes_the_link_and_reads_the_signature(page, live_server, admin, invoice, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/customers/{invoice.customer_id}")
    page.locator("#make-signing-link").click()
    expect(page.locator("#signing-url")).to_have_text(signing.link_for(invoice.customer))
    page.locator("#mandates").scroll_into_view_if_needed()
    shoot(page, f"customer-link-{width}")

    # The customer signs in English; the team reads the evidence on the mandate's page.
    page.goto(f"{signing.link_for(invoice.customer)}?lang=en")
    page.locator("#f-iban").fill("BE71 0961 2345 6769")
    page.locator("#f-street").fill("Markt 3")
    page.locator("#f-postal_code").fill("9000")
    page.locator("#f-city").fill("Gent")
    page.locator("#f-signatory").fill("Jan Peeters")
    page.locator("#f-consent").check()
    page.locator("#sign-button").click()
    expect(page.locator("#signed-notice")).to_be_visible()
    mandate = mandates.active_mandate(invoice.customer_id, invoice.profile_id)
    page.goto(f"{live_server}/mandates/{mandate.id}")
    expect(page.locator('[data-signature="signatory"]')).to_contain_text("Jan Peeters")
    expect(page.locator('[data-signature="ip"]')).to_have_text("127.0.0.1")
    no_sideways_scroll(page)
    shoot(page, f"mandate-signed-{width}")
