"""An admin sets what a failed debit leads to on a profile, and decides a possible double
payment reached from the dashboard, in a real browser."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from collector.core.columns import utcnow
from collector.core.storage import FolderStore
from collector.direct_debit import bank_files, return_rules
from collector.direct_debit.models import BankTransactionStatus, ReturnAction
from collector.documents import ledger, references
from collector.documents.models import PaymentSource
from collector.extensions import db
from sandbox import bank
from tests.support.bank import CREDITOR_IBAN, make_creditor
from tests.support.browser import log_in
from tests.support.factories import make_invoice, make_profile

pytestmark = pytest.mark.browser


def test_admin_turns_ms03_into_a_retry(page, live_server, admin):
    profile = make_profile(name="Domiciliëring", allow_direct_debit=True)
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/profiles/{profile.id}")
    page.get_by_role("link", name="What each reason code leads to").click()
    expect(
        page.get_by_role("heading", name="Failed direct debits of “Domiciliëring”")
    ).to_be_visible()
    page.get_by_label("What follows MS03").select_option("retry")
    page.get_by_label("Days before a retry").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("is saved")
    expect(page.get_by_label("What follows MS03")).to_have_value("retry")
    assert return_rules.action_for(profile.id, "MS03") == ReturnAction.RETRY


def test_admin_keeps_a_double_payment_reached_from_the_dashboard(
    page, live_server, admin, tmp_path
):
    make_creditor()
    invoice = make_invoice(number="2026 / 42")
    ledger.record_payment(
        invoice,
        key="manual:desk",
        amount=invoice.amount_due,
        occurred_at=utcnow(),  # the one clock (the clock fixture sets it)
        source=PaymentSource.MANUAL,
        actor="test",
        reason="Paid at the desk.",
    )
    db.session.commit()
    transfer = bank.Transfer(Decimal("121.00"), reference=references.structured_reference(invoice))
    content = bank.notification(CREDITOR_IBAN, date(2026, 12, 3), [transfer])
    upload = bank_files.upload(
        FolderStore(tmp_path), "camt.xml", content, "test", date(2026, 12, 3)
    )
    (row,) = upload.transactions

    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Possible double payments").click()
    double = page.locator(f'[data-double="{row.id}"]')
    expect(double).to_contain_text("2026 / 42")
    double.get_by_label("Reason").fill("Credit for the next invoice")
    double.get_by_role("button", name="Keep as credit").click()
    expect(page.get_by_role("status")).to_contain_text("kept as a credit for the customer")
    db.session.refresh(row)
    assert row.status == BankTransactionStatus.KEPT
