"""Headers that harden the browser's side: HSTS in production over https only, and the
payment page's forms allowed to go to the provider's checkout and nowhere else."""

from __future__ import annotations

import pytest

from collector import create_app
from tests.conftest import app_config
from tests.support import factories
from tests.test_production_config import STRONG

PUBLIC = "https://collect.example.com"


@pytest.fixture
def production_client(app, tmp_root):
    # ``app``: the schema is there and the tables are empty.
    production = create_app(app_config(tmp_root, ENV="production", **STRONG))
    return production.test_client()


def test_production_over_https_sends_hsts(production_client):
    response = production_client.get("/login", base_url=PUBLIC)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_production_behind_a_tls_proxy_sends_hsts(production_client):
    response = production_client.get(
        "/login", base_url="http://10.0.0.5:8000", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_on_plain_http(production_client):
    response = production_client.get("/login", base_url="http://10.0.0.5:8000")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_no_hsts_when_the_public_address_is_http(app, tmp_root):
    # The fault suite's production on loopback: nothing to pin.
    settings = app_config(
        tmp_root, ENV="production", **{**STRONG, "PUBLIC_BASE_URL": "http://127.0.0.1:5602"}
    )
    client = create_app(settings).test_client()
    response = client.get("/login", base_url="https://127.0.0.1:5602")
    assert "Strict-Transport-Security" not in response.headers


def test_no_hsts_outside_production(client):
    response = client.get("/login", base_url=PUBLIC)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def form_action(policy: str) -> list[str]:
    [directive] = [d.split() for d in policy.split(";") if d.split()[0] == "form-action"]
    return directive[1:]


def payment_page_policy(app, client, monkeypatch, **config) -> list[str]:
    for key, value in config.items():
        monkeypatch.setitem(app.config, key, value)
    invoice = factories.make_invoice(customer=factories.make_customer(language="en"))
    response = client.get(f"/pay/{invoice.payment_token}")
    assert response.status_code == 200
    return form_action(response.headers["Content-Security-Policy"])


def test_the_payment_page_may_post_only_to_mollies_checkout(app, client, monkeypatch):
    sources = payment_page_policy(
        app, client, monkeypatch, PAYMENT_PROVIDER_URL="https://api.mollie.com/v2"
    )
    assert sources == ["'self'", "https://www.mollie.com"]


def test_the_payment_page_may_post_to_the_sandbox_checkout(app, client, monkeypatch):
    sources = payment_page_policy(
        app, client, monkeypatch, PAYMENT_PROVIDER_URL="http://127.0.0.1:5001/provider/v2"
    )
    assert sources == ["'self'", "http://127.0.0.1:5001"]


def test_the_checkout_origins_can_be_named(app, client, monkeypatch):
    sources = payment_page_policy(
        app,
        client,
        monkeypatch,
        PAYMENT_PROVIDER_URL="https://api.mollie.com/v2",
        PAYMENT_CHECKOUT_ORIGINS="https://pay.psp.example/checkout https://www.mollie.com",
    )
    assert sources == ["'self'", "https://pay.psp.example", "https://www.mollie.com"]


def test_the_finance_ui_still_posts_to_teamleaders_login(admin_client):
    policy = admin_client.get("/").headers["Content-Security-Policy"]
    assert form_action(policy) == ["'self'", "https://focus.teamleader.eu"]
