"""A refused API key or webhook address is a state of the provider connection that admins
see (sync problems, Settings › Online payments), are told of once per outage in their
digest, and
that clears when the provider accepts a call again; the configuration check says what
will be refused. The provider's API is ``responses`` (unknown calls fail)."""

from __future__ import annotations

from html import unescape

import pytest
import responses
from responses import matchers

from collector.accounts import digest
from collector.accounts import jobs as accounts_jobs
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.payments import provider_jobs, provider_status, reachability
from collector.payments.models import ProviderProblem
from collector.runtime import operator_alerts
from collector.runtime.models import OperatorAlert
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice, make_profile

API = "https://api.mollie.test/v2"
REAL_API = "https://api.mollie.com/v2"
PUBLIC = "https://pay.example.com"
KEY_REJECTED = "Online payments are refused by the provider: the API key was rejected"
UNAUTHORIZED = {
    "status": 401,
    "title": "Unauthorized Request",
    "detail": "Missing authentication, or failed to authenticate",
}
UNREACHABLE = {
    "status": 422,
    "title": "Unprocessable Entity",
    "detail": "The webhook URL is invalid because it is unreachable from Mollie's point of view.",
    "field": "webhookUrl",
}
EMPTY_LIST = {"count": 0, "_embedded": {"payments": []}, "_links": {"next": None}}


@pytest.fixture
def provider(app, monkeypatch):
    """A configured payment provider whose API is ``responses``; unknown calls fail."""
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    with responses.RequestsMock() as mock:
        yield mock


def key_check(provider, status: int, url: str = API) -> None:
    """One answer to the cheapest authenticated call (the first payment of the list)."""
    body = EMPTY_LIST if status == 200 else UNAUTHORIZED
    limit = matchers.query_param_matcher({"limit": "1"})
    provider.get(f"{url}/payments", status=status, json=body, match=[limit])


def pay_online(client, invoice):
    token = csrf_token(client, f"/pay/{invoice.payment_token}")
    return client.post(f"/pay/{invoice.payment_token}/online", data={"csrf_token": token})


def payable():
    """A document of an English-speaking customer: the page speaks the customer's language."""
    english = make_customer(language="en")
    return make_invoice(profile=make_profile(allow_payment_link=True), customer=english)


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def alerts_sent() -> int:
    """How often the admins' digest is told of a provider outage (a repeat before the
    digest counts on the same line)."""
    query = db.select(db.func.sum(OperatorAlert.count)).where(
        OperatorAlert.kind == operator_alerts.CONNECTION,
        OperatorAlert.subject == str(provider_status.SUBJECT),
    )
    return db.session.scalar(query) or 0


def test_a_refused_key_is_shown_to_admins_and_the_customer_asked_to_try_again(
    app, admin_client, provider
):
    provider.post(f"{API}/payments", status=401, json=UNAUTHORIZED)
    assert KEY_REJECTED not in page(admin_client, "/sync-problems/")

    response = pay_online(admin_client, payable())

    assert response.status_code == 503
    assert "try again in a few minutes" in response.get_data(as_text=True)
    for path in ("/sync-problems/", "/settings/online-payments/"):
        html = page(admin_client, path)
        assert KEY_REJECTED in html and "PAYMENT_PROVIDER_API_KEY" in html
        assert 'data-provider-problem="key_rejected"' in html
    assert "test_x" not in page(admin_client, "/settings/online-payments/")


def test_admins_are_told_once_per_outage_in_their_digest(app, client, admin, provider):
    provider.post(f"{API}/payments", status=401, json=UNAUTHORIZED)
    for status in (401, 401, 200, 401):
        key_check(provider, status)
    for _click in range(3):
        assert pay_online(client, payable()).status_code == 503

    assert provider_jobs.check_provider() == KEY_REJECTED
    assert provider_jobs.check_provider() == KEY_REJECTED
    assert alerts_sent() == 1  # three clicks and two checks: one line in the digest
    accounts_jobs.send_operator_digest()
    mail = db.session.scalar(db.select(MailMessage).where(MailMessage.recipient == admin.email))
    assert mail.kind == digest.KIND and KEY_REJECTED in mail.body_text
    assert "/sync-problems/" in mail.body_text

    assert provider_jobs.check_provider() == "The key works."
    assert provider_status.problem() is None

    assert provider_jobs.check_provider() == KEY_REJECTED  # a new outage: a new line
    assert alerts_sent() == 2


def test_the_schedule_finds_a_revoked_key_before_any_customer(app, admin_client, provider):
    key_check(provider, 401)

    provider_jobs.check_provider()

    assert KEY_REJECTED in page(admin_client, "/sync-problems/")
    assert alerts_sent() == 1


def test_a_successful_fetch_clears_a_refused_key(app, client, provider):
    from collector.payments import checkout
    from collector.payments import setup as payments_setup
    from collector.payments.models import OnlinePayment

    invoice = payable()
    provider.post(f"{API}/payments", status=401, json=UNAUTHORIZED)
    pay_online(client, invoice)
    assert provider_status.problem().problem == ProviderProblem.KEY_REJECTED
    db.session.add(
        OnlinePayment(invoice_id=invoice.id, provider_id="tr_ok", amount=1, currency="EUR")
    )
    db.session.commit()
    provider.get(
        f"{API}/payments/tr_ok",
        json={
            "id": "tr_ok",
            "status": "open",
            "amount": {"currency": "EUR", "value": "1.00"},
            "createdAt": "2026-11-21T10:00:00+00:00",
        },
    )

    checkout.refresh(payments_setup.provider(app), "tr_ok")

    assert provider_status.problem() is None


def test_check_the_key_now_on_the_settings_page_says_what_is_wrong(app, admin_client, provider):
    key_check(provider, 401)
    key_check(provider, 200)
    token = csrf_token(admin_client, "/settings/online-payments/")
    check = "/settings/online-payments/check"

    refused = admin_client.post(check, data={"csrf_token": token}, follow_redirects=True)
    assert KEY_REJECTED in refused.get_data(as_text=True)
    assert "failed to authenticate" in refused.get_data(as_text=True)

    accepted = admin_client.post(check, data={"csrf_token": token}, follow_redirects=True)
    assert "The payment provider accepts the API key." in accepted.get_data(as_text=True)
    assert provider_status.problem() is None


def test_a_webhook_address_the_provider_refuses_is_told_to_admins(app, admin_client, provider):
    provider.post(f"{API}/payments", status=422, json=UNREACHABLE)

    response = pay_online(admin_client, payable())

    assert response.status_code == 503
    assert "try again in a few minutes" in response.get_data(as_text=True)
    html = unescape(page(admin_client, "/sync-problems/"))
    assert "it cannot reach this service's webhook address" in html
    assert "PUBLIC_BASE_URL" in html and "unreachable from Mollie" in html


def test_an_amount_the_provider_refuses_is_no_connection_problem(app, client, provider):
    body = UNREACHABLE | {"detail": "The amount is too low.", "field": "amount.value"}
    provider.post(f"{API}/payments", status=422, json=body)
    assert pay_online(client, payable()).status_code == 503
    assert provider_status.problem() is None


# -- the configuration ---------------------------------------------------------------------


@pytest.fixture
def real_provider(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", REAL_API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.parametrize("public", ["http://127.0.0.1:5000", "http://localhost:8000"])
def test_the_configuration_check_warns_of_a_local_public_url(
    app, real_provider, monkeypatch, public
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", public)

    result = app.test_cli_runner().invoke(args=["check-config", "--offline"])

    assert result.exit_code == 1
    assert f"PUBLIC_BASE_URL ({public}) is not reachable from the internet" in result.output


def test_the_configuration_check_asks_the_provider_about_the_key(app, real_provider, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    key_check(real_provider, 401, REAL_API)
    key_check(real_provider, 200, REAL_API)

    refused = app.test_cli_runner().invoke(args=["check-config"])
    accepted = app.test_cli_runner().invoke(args=["check-config"])

    assert refused.exit_code == 1 and KEY_REJECTED in refused.output
    assert "PUBLIC_BASE_URL" not in refused.output
    assert accepted.exit_code == 0 and "looks right" in accepted.output


def test_the_settings_page_warns_of_a_local_public_url(
    app, admin_client, real_provider, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://192.168.1.20:5000")
    html = page(admin_client, "/settings/online-payments/")
    assert 'data-warning="webhook-unreachable"' in html

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    assert 'data-warning="webhook-unreachable"' not in page(
        admin_client, "/settings/online-payments/"
    )


def test_no_warning_for_the_sandbox_on_this_machine(app, admin_client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", "http://127.0.0.1:5001/provider/v2")
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_sandbox")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    assert 'data-warning="webhook-unreachable"' not in page(
        admin_client, "/settings/online-payments/"
    )


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://pay.acme.be", True),
        ("http://203.0.113.7:8080/x", False),  # documentation range: not global
        ("http://8.8.8.8/", True),
        ("http://localhost:5000", False),
        ("http://127.0.0.1:5000", False),
        ("http://[::1]:5000", False),
        ("http://10.0.0.5", False),
        ("http://172.16.3.4", False),
        ("http://192.168.1.20:5000", False),
        ("http://169.254.1.1", False),
        ("http://collector.local", False),
        ("http://app.localhost", False),
        ("http://intranet", False),
        ("https://collector.internal", False),
        ("ftp://pay.acme.be", False),
        ("", False),
    ],
)
def test_what_the_provider_can_reach(url, public):
    assert reachability.publicly_reachable(url) is public


def test_the_key_check_is_on_the_schedule():
    from collector.schedule import SCHEDULE

    checks = [p for p in SCHEDULE if p.func is provider_jobs.check_provider]
    assert len(checks) == 1 and checks[0].interval <= 5 * 60
