"""Integrations › Status callbacks: admins add, switch, rotate, delete and retry;
viewers read the delivery log; the secret is shown once; every form needs its token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import responses

from collector.core.outbound import OutboundGuard
from collector.documents import callback_endpoints, callbacks
from collector.documents.models import CallbackDelivery, CallbackEndpoint, CallbackStatus
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from tests.conftest import csrf_token
from tests.support.dns import PUBLIC
from tests.support.factories import make_invoice

BASE = "/integrations/callbacks"
URL = "https://erp.example/hooks"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = re.compile(r"data-secret>([^<]+)<")


def post_form(client, path, data=None, form_path=f"{BASE}/"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, form_path)})


def stored_endpoints() -> list[CallbackEndpoint]:
    db.session.expire_all()
    return db.session.scalars(db.select(CallbackEndpoint)).all()


@pytest.fixture(autouse=True)
def receivers_dns(dns):
    """erp.example is a public host (served through ``responses``)."""
    dns["erp.example"] = [PUBLIC]
    return dns


@pytest.fixture
def erp(app):
    endpoint, _ = callback_endpoints.add_endpoint(URL, "ERP", None, runtime_setup.cipher(app))
    return endpoint


def failed_delivery(app, invoice) -> CallbackDelivery:
    """A delivery that reached the receiver once, got a 500, and was given up on."""
    callbacks.queue_state_change(
        invoice, previous="BOOKED", state="PAID", reason="paid", actor="t", occurred_at=NOW
    )
    db.session.commit()
    row = db.session.scalars(db.select(CallbackDelivery)).one()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=500, body="boom")
        session = OutboundGuard().session("test")
        callbacks.deliver(session, runtime_setup.cipher(app), row.id, NOW)
    row.status, row.next_attempt_at = CallbackStatus.FAILED, None
    db.session.commit()
    return row


# -- reading -------------------------------------------------------------------------------


def test_the_list_and_the_log_are_readable_by_viewers(app, viewer_client, erp):
    invoice = make_invoice(number="2026/0042")
    row = failed_delivery(app, invoice)

    page = viewer_client.get(f"{BASE}/").get_data(as_text=True)
    assert URL in page and "ERP" in page and 'data-count="failed">1<' in page
    assert "Add a callback URL" not in page

    response = viewer_client.get(f"{BASE}/{erp.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-delivery="{row.id}"' in page and 'data-status="failed"' in page
    assert f'href="/invoices/{invoice.id}">2026/0042</a>' in page
    assert "HTTP 500" in page and "invoice.state_changed" in page
    assert "boom" not in page  # the receiver's answer is not for viewers
    assert "Retry now" not in page and "Rotate the secret" not in page


def test_an_answer_body_stored_before_is_not_shown(app, viewer_client, erp):
    row = failed_delivery(app, make_invoice())
    row.last_error = "HTTP 500 Internal Server Error: password=hunter2"  # as once stored
    row.log = [{**row.log[0], "error": row.last_error}]
    db.session.commit()

    page = viewer_client.get(f"{BASE}/{erp.id}").get_data(as_text=True)
    assert "HTTP 500" in page and " ms" in page
    assert "hunter2" not in page


def test_an_attempt_not_sent_says_why_in_the_readers_language(app, viewer_client, erp, dns):
    callbacks.queue_test_event(erp, NOW)
    [row] = db.session.scalars(db.select(CallbackDelivery)).all()
    dns["erp.example"] = ["10.0.0.7"]
    callbacks.deliver(OutboundGuard().session("t"), runtime_setup.cipher(app), row.id, NOW)

    page = viewer_client.get(f"{BASE}/{erp.id}", headers={"Accept-Language": "nl-BE"})
    text = page.get_data(as_text=True)
    assert "Niet verstuurd: erp.example wijst naar 10.0.0.7, geen publiek adres (privé)." in text


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/", "169.254.169.254 is not a public address (link-local)."),
        ("http://[::1]:8080/", "::1 is not a public address (loopback)."),
        (
            "https://intranet.example/",
            "intranet.example resolves to 10.1.2.3, not a public address (private).",
        ),
    ],
)
def test_an_internal_address_is_a_form_error_and_nothing_is_stored(
    app, admin_client, dns, monkeypatch, url, why
):
    dns["intranet.example"] = ["10.1.2.3"]
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOWED_HOSTS", "")  # as in production
    response = post_form(admin_client, f"{BASE}/new", {"url": url, "description": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Callbacks go to public addresses only: {why}" in page
    assert stored_endpoints() == []


def test_each_attempt_is_dated_the_readers_way_in_the_companys_zone(app, viewer_client, erp):
    failed_delivery(app, make_invoice())

    page = viewer_client.get(f"{BASE}/{erp.id}", headers={"Accept-Language": "fr-BE"})

    attempts = re.search(r'<ol class="attempts">(.*?)</ol>', page.get_data(as_text=True), re.S)
    assert "<li>2 nov. 2026, 10:00 · HTTP 500 · " in attempts.group(1)  # 09:00 UTC
    assert "2026-11-02T09:00" not in attempts.group(1)


def test_the_nav_links_to_callbacks(admin_client):
    page = admin_client.get("/").get_data(as_text=True)
    assert f'href="{BASE}/">Callbacks</a>' in page


# -- adding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://x", "javascript:alert(1)", "file:///etc/passwd", "erp.example/hooks"]
)
def test_a_non_http_url_is_a_form_error_and_nothing_is_stored(admin_client, url):
    response = post_form(admin_client, f"{BASE}/new", {"url": url, "description": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="error" data-field="url">Use an http:// or https:// address.</p>' in page
    assert stored_endpoints() == []


def test_credentials_in_the_url_are_refused(admin_client):
    data = {"url": "http://user:pw@erp.example/", "description": ""}
    response = post_form(admin_client, f"{BASE}/new", data)
    assert response.status_code == 400
    assert "Leave the user name and password out" in response.get_data(as_text=True)
    assert stored_endpoints() == []


def test_adding_shows_the_secret_once(app, admin_client):
    response = post_form(admin_client, f"{BASE}/new", {"url": URL, "description": "ERP"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(page)
    assert "X-Collector-Signature" in page and "{timestamp}.{body}" in page

    [endpoint] = stored_endpoints()
    assert (endpoint.url, endpoint.description, endpoint.active) == (URL, "ERP", True)
    assert runtime_setup.cipher(app).decrypt(endpoint.secret_enc) == secret
    for path in (f"{BASE}/", f"{BASE}/{endpoint.id}"):
        assert secret not in admin_client.get(path).get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(admin_client, erp):
    response = admin_client.post(f"{BASE}/new", data={"url": URL + "/2", "description": ""})
    assert response.status_code == 400
    assert admin_client.post(f"{BASE}/{erp.id}/disable").status_code == 400
    assert [(e.url, e.active) for e in stored_endpoints()] == [(URL, True)]


def test_viewers_cannot_change_anything(viewer_client, erp):
    assert viewer_client.get(f"{BASE}/new").status_code == 403
    data = {"url": URL + "/2", "description": ""}
    assert post_form(viewer_client, f"{BASE}/new", data).status_code == 403
    for action in ("disable", "rotate", "delete", "test", "description"):
        assert post_form(viewer_client, f"{BASE}/{erp.id}/{action}").status_code == 403
    [endpoint] = stored_endpoints()
    assert (endpoint.active, endpoint.secret_enc) == (True, erp.secret_enc)
    assert db.session.scalars(db.select(CallbackDelivery)).all() == []


# -- changing --------------------------------------------------------------------------------


def test_disable_and_enable(admin_client, erp):
    response = post_form(admin_client, f"{BASE}/{erp.id}/disable")
    assert response.status_code == 302
    assert stored_endpoints()[0].active is False
    page = admin_client.get(f"{BASE}/{erp.id}").get_data(as_text=True)
    assert 'data-active="no"' in page and ">Enable</button>" in page

    post_form(admin_client, f"{BASE}/{erp.id}/enable")
    assert stored_endpoints()[0].active is True


def test_the_description_can_be_changed(admin_client, erp):
    path = f"{BASE}/{erp.id}/description"
    assert post_form(admin_client, path, {"description": "ERP, production"}).status_code == 302
    assert stored_endpoints()[0].description == "ERP, production"
    assert post_form(admin_client, path, {"description": "x" * 201}).status_code == 400
    assert stored_endpoints()[0].description == "ERP, production"


def test_rotating_shows_the_new_secret_once(app, admin_client, erp):
    old = runtime_setup.cipher(app).decrypt(erp.secret_enc)
    response = post_form(admin_client, f"{BASE}/{erp.id}/rotate")
    [secret] = SECRET.findall(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert secret != old
    assert runtime_setup.cipher(app).decrypt(stored_endpoints()[0].secret_enc) == secret


def test_deleting_removes_the_endpoint_and_its_log(app, admin_client, erp):
    failed_delivery(app, make_invoice())
    page = admin_client.get(f"{BASE}/{erp.id}").get_data(as_text=True)
    assert 'data-confirm="Delete this callback URL' in page
    response = post_form(admin_client, f"{BASE}/{erp.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/")
    assert stored_endpoints() == []
    assert db.session.scalars(db.select(CallbackDelivery)).all() == []


def test_a_test_event_is_queued_and_its_job_started(admin_client, erp, redis_conn):
    response = post_form(admin_client, f"{BASE}/{erp.id}/test")
    assert response.status_code == 302
    db.session.expire_all()
    [row] = db.session.scalars(db.select(CallbackDelivery)).all()
    assert (row.event, row.status) == ("ping", CallbackStatus.PENDING)
    assert sum(redis_conn.llen(f"rq:queue:{q}") for q in ("high", "default", "low")) == 1


def test_the_retry_button_sends_a_failed_delivery_again(app, admin_client, erp):
    row = failed_delivery(app, make_invoice())
    page = admin_client.get(f"{BASE}/").get_data(as_text=True)
    assert f'action="{BASE}/deliveries/{row.id}/retry"' in page  # listed under "Given up"

    response = post_form(admin_client, f"{BASE}/deliveries/{row.id}/retry")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/{erp.id}")
    db.session.expire_all()
    row = db.session.get(CallbackDelivery, row.id)
    assert row.status == CallbackStatus.PENDING and row.next_attempt_at is not None
    assert callbacks.due(row.next_attempt_at) == [row.id]


def test_retrying_a_delivered_callback_is_refused_politely(app, admin_client, erp):
    row = failed_delivery(app, make_invoice())
    row.status = CallbackStatus.DELIVERED
    db.session.commit()
    response = post_form(admin_client, f"{BASE}/deliveries/{row.id}/retry")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "delivered already" in page
    assert post_form(admin_client, f"{BASE}/deliveries/{row.id + 99}/retry").status_code == 404
