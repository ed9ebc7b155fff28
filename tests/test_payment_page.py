"""The payment page offers what the document's profile allows — direct debit, pay online,
bank transfer with the structured reference — shows nothing of any other document, and
takes the customer to the provider's checkout and back."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import responses
from flask import render_template

from collector.accounts import creditor
from collector.core.columns import utcnow
from collector.documents.models import DocumentKind, InvoiceState
from collector.documents.references import reference_for_id
from collector.extensions import db
from collector.payments import page as payment_page
from collector.payments import setup as payments_setup
from collector.payments.models import OnlinePayment
from collector.runtime import setup as runtime_setup
from collector.teamleader import pdfs
from tests.conftest import csrf_token
from tests.support import factories
from tests.support.factories import make_customer, make_profile

API = "https://api.mollie.test/v2"
CHECKOUT = "https://checkout.test/tr_abc"
PUBLIC = "https://pay.example.com"
BELFIUS = "BE71 0961 2345 6769"
PDF = b"%PDF-1.7\n% a test document\n%%EOF\n"
TEAMLEADER_REF = "+++084/2613/66074+++"  # a valid structured communication


@pytest.fixture
def provider(app, monkeypatch):
    """A configured payment provider whose API is ``responses``; unknown calls fail."""
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def account(app):
    return creditor.update("Acme BV", BELFIUS, "")


def make_invoice(**overrides):
    """An invoice of an English-speaking customer: the page speaks the customer's language
    (tests/test_payment_page_language.py), and these tests read it in English."""
    if "customer" not in overrides and "customer_id" not in overrides:
        overrides["customer"] = make_customer(language="en")
    return factories.make_invoice(**overrides)


def profile(*ways: str):
    flags = {f"allow_{way}": True for way in ways}
    defaults = {"allow_direct_debit": False, "allow_payment_link": False}
    return make_profile(**{**defaults, "allow_bank_transfer": False, **flags})


def page_of(client, invoice, query: str = "") -> str:
    response = client.get(f"/pay/{invoice.payment_token}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def text(html: str, element_id: str) -> str | None:
    """The text inside the element with ``element_id``, or None when there is none."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    return " ".join(match.group(1).split()) if match else None


def provider_payment(status: str = "open", **extra) -> dict:
    body = {
        "resource": "payment",
        "id": "tr_abc",
        "mode": "test",
        "status": status,
        "amount": {"currency": "EUR", "value": "121.00"},
        "description": "Invoice",
        "createdAt": "2026-11-21T10:00:00+00:00",
        "_links": {"checkout": {"href": CHECKOUT, "type": "text/html"}},
    }
    return body | extra


def started(invoice, status: str = "open") -> OnlinePayment:
    """An online payment the customer started earlier, as the checkout left it."""
    row = OnlinePayment(
        invoice_id=invoice.id,
        provider_id="tr_abc",
        amount=invoice.amount_due,
        currency="EUR",
        status=status,
        checkout_url=CHECKOUT,
    )
    db.session.add(row)
    db.session.commit()
    return row


# -- what is offered ----------------------------------------------------------------------


def test_bank_transfer_shows_account_amount_and_teamleaders_reference(app, client, account):
    invoice = make_invoice(profile=profile("bank_transfer"), payment_reference=TEAMLEADER_REF)
    html = page_of(client, invoice)
    assert text(html, "amount-due") == "€121.00"
    assert 'id="bank-transfer"' in html
    assert text(html, "beneficiary") == "Acme BV"
    assert text(html, "iban") == BELFIUS
    assert text(html, "bic") == "GKCCBEBB"
    assert text(html, "transfer-amount") == "€121.00"
    assert text(html, "structured-reference") == TEAMLEADER_REF
    assert 'id="pay-online"' not in html and 'id="direct-debit"' not in html


@pytest.mark.parametrize("teamleader", [None, "INV-2026-0042", "+++084/2613/66075+++"])
def test_bank_transfer_generates_a_reference_without_a_valid_one(app, client, account, teamleader):
    invoice = make_invoice(profile=profile("bank_transfer"), payment_reference=teamleader)
    html = page_of(client, invoice)
    assert text(html, "structured-reference") == reference_for_id(invoice.id)


def test_no_bank_transfer_without_the_creditors_iban(app, client):
    invoice = make_invoice(profile=profile("bank_transfer"), payment_reference=TEAMLEADER_REF)
    html = page_of(client, invoice)
    assert 'id="bank-transfer"' not in html and 'id="iban"' not in html
    # The reference stays among the document's facts.
    assert TEAMLEADER_REF in html


def test_no_bank_transfer_unless_the_profile_allows_it(app, client, account, provider):
    html = page_of(client, make_invoice(profile=profile("payment_link")))
    assert 'id="bank-transfer"' not in html and BELFIUS not in html


def test_pay_online_when_allowed_and_a_provider_is_configured(app, client, account, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    html = page_of(client, invoice)
    assert text(html, "pay-online") == "Pay online"
    assert f'action="/pay/{invoice.payment_token}/online"' in html
    assert 'name="csrf_token"' in html


def test_no_pay_online_unless_the_profile_allows_it(app, client, account, provider):
    html = page_of(client, make_invoice(profile=profile("bank_transfer")))
    assert 'id="pay-online"' not in html and 'id="bank-transfer"' in html


def test_no_pay_online_without_a_provider(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "")
    html = page_of(client, make_invoice(profile=profile("payment_link")))
    assert 'id="pay-online"' not in html


def test_the_options_come_in_order(app, client, account, provider):
    invoice = make_invoice(profile=profile("direct_debit", "payment_link", "bank_transfer"))
    html = page_of(client, invoice)
    # No mandate yet covers the invoice, so both other ways are offered.
    assert 'id="direct-debit"' not in html
    assert html.index('id="pay-online"') < html.index('id="bank-transfer"')


def render(app, invoice, **options) -> str:
    view = payment_page.view(invoice, online_available=True, **options)
    with app.test_request_context():
        return render_template("payments/page.html", view=view, problem=None)


def test_a_scheduled_direct_debit_hides_the_other_options(app, account):
    invoice = make_invoice(profile=profile("direct_debit", "payment_link", "bank_transfer"))
    html = render(app, invoice, direct_debit=lambda _: date(2026, 12, 5))
    assert 'id="direct-debit"' in html and "Collected by direct debit on 5 Dec 2026." in html
    assert 'id="pay-online"' not in html and 'id="bank-transfer"' not in html
    assert text(html, "amount-due") == "€121.00"


def test_a_direct_debit_counts_only_when_the_profile_allows_it(app, account):
    invoice = make_invoice(profile=profile("bank_transfer"))
    html = render(app, invoice, direct_debit=lambda _: date(2026, 12, 5))
    assert 'id="direct-debit"' not in html and 'id="bank-transfer"' in html


def test_no_direct_debit_is_scheduled_before_mandates_exist(app):
    invoice = make_invoice(profile=profile("direct_debit"))
    assert payment_page.direct_debit_date(invoice) is None


# -- where the document stands ------------------------------------------------------------

ALL_WAYS = ("direct_debit", "payment_link", "bank_transfer")
OPTIONS = ('id="pay-online"', 'id="bank-transfer"', 'id="direct-debit"')


def test_a_paid_invoice_says_so_with_the_date_and_offers_nothing(app, client, account, provider):
    invoice = make_invoice(
        profile=profile(*ALL_WAYS),
        state=InvoiceState.PAID,
        state_changed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    )
    html = page_of(client, invoice)
    notice = "This invoice has been paid. Thank you. Paid on 20 Nov 2026."
    assert text(html, "paid-notice") == notice
    assert not any(option in html for option in OPTIONS)
    assert 'id="amount-due"' not in html


@pytest.mark.parametrize(
    "document",
    [{"state": InvoiceState.ARCHIVED}, {"kind": DocumentKind.CREDIT_NOTE, "number": "CN2026/7"}],
)
def test_archived_documents_and_credit_notes_have_nothing_due(
    app, client, account, provider, document
):
    html = page_of(client, make_invoice(profile=profile(*ALL_WAYS), **document))
    assert "Nothing is due" in html
    assert not any(option in html for option in OPTIONS)


def test_a_pending_invoice_is_under_collection_and_offers_nothing(app, client, account, provider):
    invoice = make_invoice(profile=profile(*ALL_WAYS), state=InvoiceState.PENDING)
    html = page_of(client, invoice)
    assert "A collection is under way" in text(html, "pending-notice")
    assert text(html, "amount-due") == "€121.00"
    assert not any(option in html for option in OPTIONS)


def test_an_expired_invoice_can_still_be_paid(app, client, account, provider):
    invoice = make_invoice(profile=profile(*ALL_WAYS), state=InvoiceState.EXPIRED)
    html = page_of(client, invoice)
    assert 'id="pay-online"' in html and 'id="bank-transfer"' in html


def test_the_page_shows_nothing_of_another_document(app, client, account, provider):
    ways = profile(*ALL_WAYS)
    mine = make_invoice(number="2026/0042", profile=ways)
    other = make_invoice(
        number="2026/0099",
        profile=ways,
        amount_due=Decimal("987.65"),
        payment_reference=TEAMLEADER_REF,
    )
    html = page_of(client, mine)
    assert "2026/0042" in html
    for secret in (other.number, "987.65", TEAMLEADER_REF, reference_for_id(other.id)):
        assert secret not in html
    assert other.payment_token not in html and other.customer.name not in html


# -- unknown tokens -----------------------------------------------------------------------


def test_an_unknown_token_is_the_same_404_whatever_its_shape(app, client):
    make_invoice()
    well_formed = secrets.token_urlsafe(32)
    answers = [client.get(f"/pay/{token}") for token in (well_formed, "short", "!" * 43)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_data() for a in answers}) == 1
    assert all(a.headers["Cache-Control"] == "private, no-store" for a in answers)
    assert all(a.headers["X-Robots-Tag"] == "noindex, nofollow" for a in answers)


def test_an_unknown_token_is_a_404_for_the_checkout_and_the_return_too(app, client):
    invoice = make_invoice()
    token = csrf_token(client, "/login")
    for path in (secrets.token_urlsafe(32), "short"):
        assert client.post(f"/pay/{path}/online", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/pay/{path}/return").status_code == 404
    assert client.get(f"/pay/{invoice.payment_token}x/return").status_code == 404


def test_the_page_lets_pay_online_redirect_to_the_checkout(app, client, provider):
    policy = client.get(f"/pay/{make_invoice().payment_token}").headers["Content-Security-Policy"]
    # Only the checkout's own origin: not any https site, not Teamleader's login.
    assert policy.endswith("form-action 'self' https://api.mollie.test")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_the_pdf_keeps_its_own_policy(app, client):
    invoice = make_invoice()
    pdfs.store_pdf(invoice, runtime_setup.document_store(app).put(PDF), len(PDF), "test", utcnow())
    db.session.commit()
    response = client.get(f"/pay/{invoice.payment_token}/document.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"


# -- paying online ------------------------------------------------------------------------


def test_pay_online_needs_the_csrf_token(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    response = client.post(f"/pay/{invoice.payment_token}/online")
    assert response.status_code == 400
    assert len(provider.calls) == 0 and db.session.scalar(db.select(OnlinePayment)) is None


def pay_online(client, invoice, form_from: str | None = None):
    """Press "Pay online" on the page (or, where it offers none, as from an old tab)."""
    token = csrf_token(client, form_from or f"/pay/{invoice.payment_token}")
    return client.post(f"/pay/{invoice.payment_token}/online", data={"csrf_token": token})


def test_pay_online_redirects_to_the_providers_checkout(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    provider.post(f"{API}/payments", status=201, json=provider_payment())
    response = pay_online(client, invoice)
    assert response.status_code == 303 and response.headers["Location"] == CHECKOUT
    sent = json.loads(provider.calls[0].request.body)
    assert sent["amount"] == {"currency": "EUR", "value": "121.00"}
    assert sent["redirectUrl"] == f"{PUBLIC}/pay/{invoice.payment_token}/return"
    assert sent["webhookUrl"] == payments_setup.webhook_url(app)
    assert db.session.scalar(db.select(OnlinePayment.provider_id)) == "tr_abc"


def test_pay_online_while_the_provider_is_down_says_so(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    provider.post(f"{API}/payments", status=503, json={"status": 503, "title": "Unavailable"})
    response = pay_online(client, invoice)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "not possible right now" in text(html, "pay-problem")
    assert text(html, "pay-online") == "Pay online"


def key_of(call) -> str:
    return call.request.headers["Idempotency-Key"]


def test_pay_online_sends_an_idempotency_key_of_the_document_and_amount(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    provider.post(f"{API}/payments", status=201, json=provider_payment())

    pay_online(client, invoice)

    expected = f"checkout-{invoice.teamleader_id}-121.00EUR-after-0"
    assert key_of(provider.calls[0]) == expected
    assert db.session.scalar(db.select(OnlinePayment.idempotency_key)) == expected


def test_a_retry_after_a_lost_answer_sends_the_same_key(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    provider.post(f"{API}/payments", status=502, json={"status": 502, "title": "Bad Gateway"})
    provider.post(f"{API}/payments", status=201, json=provider_payment())

    assert pay_online(client, invoice).status_code == 503
    assert pay_online(client, invoice).headers["Location"] == CHECKOUT

    # The provider may have made the first payment: the same key gets it back, not a new one.
    assert key_of(provider.calls[0]) == key_of(provider.calls[1])
    assert db.session.scalar(db.select(db.func.count()).select_from(OnlinePayment)) == 1


def test_an_open_checkout_for_the_amount_is_offered_again(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice)

    response = pay_online(client, invoice)

    assert response.status_code == 303 and response.headers["Location"] == CHECKOUT
    assert len(provider.calls) == 0


@pytest.mark.parametrize("status", ["failed", "canceled", "expired", "paid"])
def test_after_a_checkout_that_did_not_stay_open_a_new_one_gets_a_new_key(
    app, client, provider, status
):
    invoice = make_invoice(profile=profile("payment_link"))
    before = started(invoice, status=status)
    provider.post(f"{API}/payments", status=201, json=provider_payment(id="tr_new"))

    pay_online(client, invoice)

    assert (
        key_of(provider.calls[0]) == f"checkout-{invoice.teamleader_id}-121.00EUR-after-{before.id}"
    )


def test_an_open_checkout_for_another_amount_or_too_old_is_not_offered(
    app, client, provider, clock
):
    invoice = make_invoice(profile=profile("payment_link"))
    older = started(invoice)
    older.amount = Decimal("100.00")
    db.session.commit()
    provider.post(f"{API}/payments", status=201, json=provider_payment(id="tr_new"))
    pay_online(client, invoice)
    clock.advance(minutes=11)
    provider.post(f"{API}/payments", status=201, json=provider_payment(id="tr_newer"))

    pay_online(client, invoice)

    keys = [key_of(call) for call in provider.calls]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert keys[0].endswith(f"-121.00EUR-after-{older.id}")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"state": InvoiceState.PAID}, "has been paid"),
        ({"state": InvoiceState.ARCHIVED}, "Nothing is due"),
        ({"state": InvoiceState.PENDING}, "collection is under way"),
        ({"amount_due": Decimal("0.00")}, "Nothing is due"),
    ],
)
def test_pay_online_with_nothing_to_pay_is_a_409(app, client, provider, document, message):
    invoice = make_invoice(profile=profile("payment_link"), **document)
    response = pay_online(client, invoice, form_from="/login")
    assert response.status_code == 409
    assert message in text(response.get_data(as_text=True), "pay-problem")
    assert len(provider.calls) == 0


def test_pay_online_is_refused_when_the_profile_does_not_allow_it(app, client, provider):
    invoice = make_invoice(profile=profile("bank_transfer"))
    response = pay_online(client, invoice, form_from="/login")
    assert response.status_code == 409
    assert "cannot be paid online" in text(response.get_data(as_text=True), "pay-problem")
    assert len(provider.calls) == 0


# -- back from the checkout ---------------------------------------------------------------


def come_back(client, invoice, provider, body=None, status=200) -> str:
    provider.get(f"{API}/payments/tr_abc", status=status, json=body)
    response = client.get(f"/pay/{invoice.payment_token}/return")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/pay/{invoice.payment_token}?r=1"
    return page_of(client, invoice, "?r=1")


def test_back_and_paid_shows_the_paid_notice(app, client, account, provider):
    invoice = make_invoice(profile=profile("payment_link", "bank_transfer"))
    started(invoice)
    paid = provider_payment("paid", paidAt="2026-11-21T10:05:00+00:00", _links={})
    html = come_back(client, invoice, provider, paid)
    notice = "This invoice has been paid. Thank you. Paid on 21 Nov 2026."
    assert text(html, "paid-notice") == notice
    assert not any(option in html for option in OPTIONS)


def test_back_and_still_open_is_being_processed(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice)
    html = come_back(client, invoice, provider, provider_payment("open"))
    assert text(html, "pay-notice") == "Your payment is being processed."
    assert 'id="paid-notice"' not in html


@pytest.mark.parametrize("status", ["failed", "canceled", "expired"])
def test_back_and_not_through_invites_another_try(app, client, provider, status):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice)
    html = come_back(client, invoice, provider, provider_payment(status, _links={}))
    assert text(html, "pay-notice") == "The payment did not go through. You can try again."
    assert text(html, "pay-online") == "Pay online"


def test_back_while_the_provider_is_down_shows_the_page(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice)
    html = come_back(client, invoice, provider, {"status": 503, "title": "Down"}, status=503)
    assert text(html, "pay-notice") == "Your payment is being processed."


def test_the_notice_comes_from_the_fetched_status_not_the_browser(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice, status="failed")
    html = page_of(client, invoice, "?r=1&status=paid")
    assert 'id="paid-notice"' not in html
    assert text(html, "pay-notice") == "The payment did not go through. You can try again."


def test_no_notice_unless_coming_back(app, client, provider):
    invoice = make_invoice(profile=profile("payment_link"))
    started(invoice, status="failed")
    assert 'id="pay-notice"' not in page_of(client, invoice)
    assert 'id="pay-notice"' not in page_of(client, make_invoice(), "?r=1")
