"""Direct-debit facts: the TARGET2 calendar, and the SEPA pre-notification — which
documents are to be debited, the day an invitation or reminder announces (in Dutch,
French and English), what the mail records, and what the payment page then shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from collector.accounts import creditor
from collector.core.storage import FolderStore
from collector.direct_debit import debits
from collector.direct_debit.models import MandateScheme, MandateStatus
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    InvoiceState,
)
from collector.dunning import policy
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail.smtp import SmtpMailer
from collector.payments import page as payment_page
from tests.support.factories import make_invoice, make_mandate, make_profile

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
IDENTIFIER = "BE69ZZZ050D000000008"


@pytest.fixture
def payee(app):
    return creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", IDENTIFIER)


@pytest.fixture
def postman(smtp_server, tmp_path):
    return invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=FolderStore(tmp_path / "documents"),
        payment_base_url="https://collector.example/pay/",
        creditors={"dept-1": "Acme NV"},
    )


def debited(mandate=None, **overrides):
    """An invoice of € 121.00 dated 2026-11-01, due 2026-12-01, on a direct-debit
    profile whose customer signed ``mandate`` there."""
    mandate = mandate or make_mandate()
    overrides.setdefault("invoice_date", date(2026, 11, 1))
    return make_invoice(
        customer=mandate.customer, profile=mandate.profile, department_id="dept-1", **overrides
    )


@pytest.fixture(autouse=True)
def _fixed_day(clock):
    """This module's dates are written for NOW, Monday 2 November 2026."""
    clock.set(NOW)


def invite(invoice, postman, now=NOW) -> DocumentMail:
    row = invitations.queue_invitation(invoice, actor="test")
    return invitations.deliver(row.id, postman, now)


# -- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 11, 2), True),  # Monday
        (date(2026, 11, 7), False),  # Saturday
        (date(2026, 12, 25), False),
        (date(2026, 12, 26), False),
        (date(2026, 4, 3), False),  # Good Friday 2026
        (date(2026, 4, 6), False),  # Easter Monday 2026
        (date(2026, 5, 1), False),
        (date(2026, 7, 21), True),  # a Belgian holiday, not a TARGET2 one
    ],
)
def test_target2_business_days(day, business):
    assert debits.is_business_day(day) is business


def test_the_earliest_collection_is_the_next_business_day():
    assert debits.earliest_collection(date(2026, 11, 2)) == date(2026, 11, 3)
    assert debits.earliest_collection(date(2026, 11, 6)) == date(2026, 11, 9)  # Fri → Mon
    assert debits.earliest_collection(date(2026, 12, 24)) == date(2026, 12, 28)


def test_a_masked_iban_keeps_the_country_and_the_last_four():
    assert debits.masked_iban("BE68539007547034") == "BE** **** **** 7034"
    assert debits.masked_iban("NL91 ABNA 0417 1643 00") == "NL** **** **** **43 00"


# -- which documents are to be debited, and when ----------------------------------------------


def test_the_debit_is_announced_for_the_due_date_when_that_is_far_enough(app, payee):
    invoice = debited()
    plan = debits.planned_debit(invoice, NOW.date())
    assert plan.on == date(2026, 12, 1)
    assert plan.mandate.customer_id == invoice.customer_id
    assert plan.amount == Decimal("121.00")


def test_the_debit_waits_the_creditors_notice_days_and_lands_on_a_business_day(app, payee):
    invoice = debited(due_date=date(2026, 11, 3))
    # 2026-11-07 (Saturday) + 14 days is Saturday 21 November: the Monday after.
    assert debits.planned_debit(invoice, date(2026, 11, 7)).on == date(2026, 11, 23)
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", IDENTIFIER, 5)
    assert debits.planned_debit(invoice, NOW.date()).on == date(2026, 11, 9)  # Sat → Mon


def test_the_latest_signed_active_mandate_on_the_profile_collects(app, payee):
    older = make_mandate(signed_on=date(2024, 3, 1))
    newer = make_mandate(customer=older.customer, profile=older.profile, signed_on=date(2025, 6, 1))
    make_mandate(customer=older.customer, profile=make_profile(allow_direct_debit=True))
    invoice = debited(older)
    assert debits.planned_debit(invoice, NOW.date()).mandate.id == newer.id


@pytest.mark.parametrize(
    "why",
    ["profile", "revoked", "other_profile", "credit_note", "paid", "dollars", "creditor"],
)
def test_what_is_not_to_be_debited(app, payee, why):
    mandate = make_mandate()
    invoice = debited(mandate)
    if why == "profile":
        invoice.profile.allow_direct_debit = False
    elif why == "revoked":
        mandate.status = MandateStatus.REVOKED
    elif why == "other_profile":
        invoice.profile = make_profile(allow_direct_debit=True)
    elif why == "credit_note":
        invoice.kind = DocumentKind.CREDIT_NOTE
    elif why == "paid":
        invoice.amount_due, invoice.state = Decimal("0.00"), InvoiceState.PAID
    elif why == "dollars":
        invoice.currency = "USD"
    else:
        creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "")
    db.session.commit()
    assert debits.planned_debit(invoice, NOW.date()) is None


# -- the pre-notification in the mail ---------------------------------------------------------

SENTENCES = {
    "nl": (
        "Wij innen € 121,00 via SEPA-domiciliëring op 1 december 2026 van uw rekening "
        "BE** **** **** 7034, volgens mandaat {ref} (ons identificatienummer als schuldeiser: "
        f"{IDENTIFIER}). U hoeft niets te doen."
    ),
    "fr": (
        "Nous prélèverons 121,00\u00a0€ par domiciliation SEPA le 1er décembre 2026 sur votre "
        "compte BE** **** **** 7034, en vertu du mandat {ref} (notre identifiant de "
        f"créancier\u00a0: {IDENTIFIER}). Vous n’avez rien à faire."
    ),
    "en": (
        "We will collect €121.00 by SEPA direct debit on 1 December 2026 from your account "
        "BE** **** **** 7034, under mandate {ref} (our creditor identifier: "
        f"{IDENTIFIER}). There is nothing you need to do."
    ),
}
BANK_TRANSFER = {"nl": "overschrijving", "fr": "virement", "en": "bank transfer"}


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_invitation_announces_the_debit_in_the_customers_language(
    app, payee, postman, smtp_server, language
):
    mandate = make_mandate()
    mandate.customer.language = language
    invoice = debited(mandate, payment_reference="+++084/2613/66074+++")

    row = invite(invoice, postman)

    assert row.status == DocumentMailStatus.SENT
    assert (row.direct_debit_on, row.direct_debit_mandate_id) == (date(2026, 12, 1), mandate.id)
    [message] = smtp_server.messages
    sentence = one_line(SENTENCES[language].format(ref=mandate.reference))
    text = one_line(message.get_body(("plain",)).get_content())
    html = one_line(message.get_body(("html",)).get_content())
    assert sentence in text
    assert sentence in html
    # Nothing asks the customer to pay by transfer what will be collected.
    assert BANK_TRANSFER[language] not in text
    assert "7034" in text and "539007" not in text


def test_an_invitation_without_a_mandate_says_nothing_of_a_debit(app, payee, postman, smtp_server):
    invoice = make_invoice(profile=make_profile(allow_direct_debit=True), department_id="dept-1")
    row = invite(invoice, postman)
    assert row.direct_debit_on is None and row.direct_debit_mandate_id is None
    assert "SEPA" not in smtp_server.messages[0].get_body(("plain",)).get_content()
    assert debits.announced(invoice) is None


def test_the_announced_day_holds_while_the_mandate_is_active(app, payee, postman):
    mandate = make_mandate()
    invoice = debited(mandate)
    assert debits.announced(invoice) is None
    invite(invoice, postman)
    assert debits.announced(invoice) == date(2026, 12, 1)

    mandate.status = MandateStatus.REVOKED
    db.session.commit()
    assert debits.announced(invoice) is None


def test_a_mail_that_did_not_go_out_announces_nothing(app, payee):
    mandate = make_mandate()
    invoice = debited(mandate)
    db.session.add(
        DocumentMail(
            invoice_id=invoice.id,
            kind=DocumentMailKind.INVITATION,
            key="invitation",
            status=DocumentMailStatus.FAILED,
            direct_debit_on=date(2026, 11, 20),
            direct_debit_mandate_id=mandate.id,
        )
    )
    db.session.commit()
    assert debits.announced(invoice) is None


def test_no_reminder_while_the_announced_debit_is_to_come(app, payee, postman, smtp_server):
    # Issue 19: the customer is about to pay without doing anything; a reminder would
    # only confuse them (``dunning.policy``).
    mandate = make_mandate(profile=make_profile(allow_direct_debit=True, reminder_days=[7]))
    invoice = debited(mandate, due_date=date(2026, 11, 2))
    invite(invoice, postman)  # Monday 2 November: 14 days' notice → Monday 16 November
    assert debits.announced(invoice) == date(2026, 11, 16)
    sent = len(smtp_server.messages)

    reminder_day = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    assert reminders.queue_reminders(reminder_day.date()) == 0
    assert invitations.deliverable(reminder_day) == []
    assert len(smtp_server.messages) == sent
    assert policy.chase_blocker(invoice, reminder_day.date()).english == (
        "a direct debit is announced for 16 Nov 2026"
    )


def test_a_reminder_after_the_announced_day_announces_a_new_one(app, payee, postman):
    mandate = make_mandate(profile=make_profile(allow_direct_debit=True, reminder_days=[7]))
    invoice = debited(mandate, due_date=date(2026, 11, 16))
    invite(invoice, postman)
    assert debits.announced(invoice) == date(2026, 11, 16)

    # No run collected it; on 23 November the notice period starts again.
    reminder_day = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    reminders.queue_reminders(reminder_day.date())
    [row_id] = invitations.deliverable(reminder_day)
    invitations.deliver(row_id, postman, reminder_day)
    assert debits.announced(invoice) == date(2026, 12, 7)


# -- the payment page ---------------------------------------------------------------------------


def test_the_payment_page_shows_the_announced_day(app, payee, postman, client):
    invoice = debited()
    assert payment_page.direct_debit_date(invoice, NOW.date()) is None
    invite(invoice, postman)

    assert payment_page.direct_debit_date(invoice, NOW.date()) == date(2026, 12, 1)
    html = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'id="direct-debit"' in html
    assert 'id="bank-transfer"' not in html and 'id="pay-online"' not in html


def test_once_the_announced_day_passed_the_page_shows_the_next_possible_one(app, payee, postman):
    invoice = debited()
    invite(invoice, postman)
    assert payment_page.direct_debit_date(invoice, date(2026, 12, 4)) == date(2026, 12, 7)


def test_a_b2b_mandate_is_announced_like_a_core_one(app, payee, postman):
    invoice = debited(make_mandate(scheme=MandateScheme.B2B))
    invite(invoice, postman)
    assert debits.announced(invoice) == date(2026, 12, 1)
