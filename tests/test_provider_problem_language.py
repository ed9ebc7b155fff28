"""The payment provider's problem and the webhook warning in the reader's language (issue 18,
part 5): what the provider refuses is a state of the connection, not a stored text, so
Settings › Online payments, Sync problems and the dashboard say it their way, while the
log and the command line keep the English."""

from __future__ import annotations

import logging
from html import unescape

import pytest
import responses

from collector.core.columns import utcnow
from collector.extensions import db
from collector.payments import provider_status
from collector.payments.models import ProviderProblem, ProviderStatus
from tests.support.factories import make_invoice, make_profile
from tests.test_payment_page import pay_online

API = "https://api.mollie.test/v2"
FRENCH = {"Accept-Language": "fr-BE,fr;q=0.9"}
DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9"}
KEY_REJECTED_FR = "Le prestataire refuse les paiements en ligne : la clé API a été rejetée"
UNREACHABLE = {
    "status": 422,
    "title": "Unprocessable Entity",
    "detail": "The webhook URL is invalid because it is unreachable from Mollie's point of view.",
    "field": "webhookUrl",
}


def key_rejected() -> None:
    row = ProviderStatus(id=provider_status.ROW_ID, detail="Missing authentication")
    row.problem, row.since = ProviderProblem.KEY_REJECTED, utcnow()
    db.session.add(row)
    db.session.commit()


def page(client, path: str, headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/settings/online-payments/", "/sync-problems/"])
def test_a_rejected_key_is_told_in_french(app, admin_client, path):
    key_rejected()

    html = page(admin_client, path, FRENCH)

    assert f"{KEY_REJECTED_FR}." in html
    assert "Copiez une clé API valide depuis le tableau de bord du prestataire" in html
    assert "refused by the provider" not in html and "Copy a valid API key" not in html


def test_the_dashboard_names_the_rejected_key_in_dutch(app, admin_client):
    key_rejected()

    html = page(admin_client, "/", DUTCH)

    assert "De betaalprovider weigert onlinebetalingen: de API-sleutel werd geweigerd" in html
    assert "Kopieer een geldige API-sleutel" in html


def test_checking_the_key_flashes_the_problem_in_french(app, admin_client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    unauthorized = {"status": 401, "title": "Unauthorized Request", "detail": "Missing key"}
    form = page(admin_client, "/settings/online-payments/", FRENCH)
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    with responses.RequestsMock() as provider:
        provider.get(f"{API}/payments", status=401, json=unauthorized)
        response = admin_client.post(
            "/settings/online-payments/check",
            data={"csrf_token": token},
            headers=FRENCH,
            follow_redirects=True,
        )

    assert f"{KEY_REJECTED_FR} : Unauthorized Request — Missing key" in unescape(
        response.get_data(as_text=True)
    )


def test_a_refused_webhook_is_logged_in_english_and_shown_in_french(
    app, client, admin_client, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://pay.example.com")
    invoice = make_invoice(profile=make_profile(allow_payment_link=True))
    invoice.customer.language = "fr"  # the customer's page speaks French while it is refused
    db.session.commit()
    with responses.RequestsMock() as provider, caplog.at_level(logging.ERROR):
        provider.post(f"{API}/payments", status=422, json=UNREACHABLE)
        assert pay_online(client, invoice).status_code == 503

    logged = [r.getMessage() for r in caplog.records if r.name.endswith("provider_status")]
    assert any("it cannot reach this service's webhook address" in line for line in logged)
    html = page(admin_client, "/sync-problems/", FRENCH)
    assert "il ne peut pas joindre l’adresse de webhook de ce service" in html


def test_the_webhook_warning_reads_french_on_the_settings_page(app, admin_client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", "https://api.mollie.com/v2")
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://localhost:8000")

    html = page(admin_client, "/settings/online-payments/", FRENCH)

    assert (
        "PUBLIC_BASE_URL (http://localhost:8000) n’est pas joignable depuis internet, mais le "
        "prestataire de paiement à https://api.mollie.com/v2 doit y appeler le webhook"
    ) in html
    assert "is not reachable from the internet" not in html
