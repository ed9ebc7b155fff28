"""The customer's payment page speaks the customer's language (issue 18, part 5): the one
their mails are written in (the customer's Teamleader language), else their browser's —
never the language a staff user picked for the finance UI; money and dates its way."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import responses
from flask_babel import force_locale

from collector.accounts import creditor
from collector.documents.models import InvoiceState
from collector.extensions import db
from collector.payments import page as payment_page
from tests.conftest import login
from tests.support.factories import make_customer, make_invoice, make_profile
from tests.test_payment_page import API, pay_online, started, text

BELFIUS = "BE71 0961 2345 6769"
DUTCH_BROWSER = {"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}
SOON = date(2026, 12, 7)


@pytest.fixture
def account(app):
    return creditor.update("Acme BV", BELFIUS, "")


def payable(language: str | None):
    profile = make_profile(allow_bank_transfer=True)
    customer = make_customer(language=language)
    return make_invoice(number="2026/0042", profile=profile, customer=customer)


def page(client, invoice, headers=None, query: str = "") -> str:
    response = client.get(f"/pay/{invoice.payment_token}{query}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_french_speaking_customer_reads_french_whatever_the_browser(app, client, account):
    html = page(client, payable("fr"), headers=DUTCH_BROWSER)

    assert '<html lang="fr-BE">' in html
    assert "<h1>Facture 2026/0042</h1>" in html
    assert "Montant dû" in html and "Communication structurée" in html
    assert "121,00\N{NO-BREAK SPACE}€" in html  # money the Belgian French way
    assert "Amount due" not in html and "Te betalen bedrag" not in html


@pytest.mark.parametrize(
    ("language", "tag"), [("FR", "fr-BE"), ("nl-NL", "nl-NL"), ("nl", "nl-BE"), ("en", "en")]
)
def test_the_customers_teamleader_language_is_read_as_the_mails_read_it(
    app, client, account, language, tag
):
    html = page(client, payable(language), headers={"Accept-Language": "de"})
    assert f'<html lang="{tag}">' in html


@pytest.mark.parametrize("language", [None, "", "de"])
def test_without_a_language_we_speak_the_customer_gets_their_browsers(
    app, client, account, language
):
    invoice = payable(language)

    dutch = page(client, invoice, headers=DUTCH_BROWSER)
    english = page(client, invoice, headers={"Accept-Language": "de, en;q=0.5"})

    assert '<html lang="nl-BE">' in dutch and "Te betalen bedrag" in dutch
    assert "€\N{NO-BREAK SPACE}121,00" in dutch
    assert '<html lang="en">' in english and "Amount due" in english and "€121.00" in english


def test_a_staff_users_pick_never_reaches_the_customers_page(app, client, admin, account):
    admin.locale = "nl_NL"
    db.session.commit()
    login(client, admin.email)
    french = payable("fr")
    unknown = payable(None)

    assert '<html lang="fr-BE">' in page(client, french)
    html = page(client, unknown, headers={"Accept-Language": "fr"})
    assert '<html lang="fr-BE">' in html and "Virement" in html
    # The staff pages still speak the user's pick.
    assert '<html lang="nl-NL">' in client.get("/").get_data(as_text=True)


def test_an_unknown_payment_page_says_so_in_the_browsers_language(app, client, admin):
    admin.locale = "nl_NL"
    db.session.commit()
    login(client, admin.email)

    response = client.get(f"/pay/{secrets.token_urlsafe(32)}", headers={"Accept-Language": "fr"})

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Cette page de paiement n’existe pas." in html and '<html lang="fr-BE">' in html


def test_the_paid_notice_and_its_date_read_french(app, client, account):
    invoice = payable("fr")
    invoice.state = InvoiceState.PAID
    invoice.state_changed_at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    db.session.commit()

    html = page(client, invoice)

    assert "Cette facture a été payée. Merci. Payée le 20 nov. 2026." in html


# -- what the page says when paying online is refused or under way, in French -------------


@pytest.fixture
def provider(app, monkeypatch):
    """A configured payment provider whose API is ``responses``; unknown calls fail."""
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://pay.example.com")
    with responses.RequestsMock() as mock:
        yield mock


def french(online: bool = True, **document):
    """A document of a French-speaking customer; ``online``: its profile allows paying online."""
    profile = make_profile(allow_payment_link=online)
    return make_invoice(profile=profile, customer=make_customer(language="fr"), **document)


@pytest.mark.parametrize(
    ("document", "refusal"),
    [
        ({"state": InvoiceState.PAID}, "Cette facture a été payée. Merci."),
        ({"state": InvoiceState.PENDING}, "Un encaissement est en cours pour cette facture."),
        ({"amount_due": Decimal("0.00")}, "Rien n’est dû sur ce document."),
        ({"online": False}, "Ce document ne peut pas être payé en ligne."),
    ],
)
def test_a_refused_online_payment_is_explained_in_french(app, client, provider, document, refusal):
    # As from an old tab: the page no longer offers "Pay online".
    response = pay_online(client, french(**document), form_from="/login")

    assert response.status_code == 409
    assert text(response.get_data(as_text=True), "pay-problem") == refusal
    assert len(provider.calls) == 0


def test_a_provider_that_refuses_the_checkout_is_explained_in_french(app, client, provider):
    provider.post(f"{API}/payments", status=503, json={"status": 503, "title": "Unavailable"})

    response = pay_online(client, french())

    assert response.status_code == 503
    assert text(response.get_data(as_text=True), "pay-problem") == (
        "Le paiement en ligne n’est pas possible pour le moment. "
        "Veuillez réessayer dans quelques minutes."
    )


@pytest.mark.parametrize(
    ("status", "notice"),
    [
        ("open", "Votre paiement est en cours de traitement."),
        ("failed", "Le paiement n’a pas abouti. Vous pouvez réessayer."),
    ],
)
def test_coming_back_from_the_checkout_reads_french(app, client, provider, status, notice):
    invoice = french()
    started(invoice, status=status)

    html = page(client, invoice, query="?r=1")

    assert text(html, "pay-notice") == notice


def test_a_direct_debit_refusal_reads_french(app, account):
    invoice = french()
    invoice.profile.allow_direct_debit = True
    with app.test_request_context(), force_locale("fr_BE"):
        view = payment_page.view(invoice, online_available=True, direct_debit=lambda _: SOON)
        assert str(payment_page.online_refusal(view)) == (
            "Cette facture sera encaissée par domiciliation."
        )
