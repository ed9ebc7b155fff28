"""Webhooks: registration (reference §12) and deliveries to a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.payloads import teamleader_payload as load_fixture

from .conftest import authorization_code, exchange, make_emulator


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records every POST body.

    With ``held``, it answers only once the test calls ``release()`` (or after ``HOLD_MAX``
    seconds): a receiver exactly as slow as the test needs, with no timing to guess.
    """

    HOLD_MAX = 30.0

    def __init__(self, held: bool = False) -> None:
        received = self.received = []
        arrived, released = self.arrived, self.released = threading.Event(), threading.Event()
        if not held:
            released.set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                arrived.set()
                released.wait(Receiver.HOLD_MAX)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting (its timeout): nobody to answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # do not wait for a deliberately slow handler
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/teamleader"
        serve = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        serve.start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _register(api, url: str, *types: str) -> None:
    assert api("webhooks.register", {"url": url, "types": list(types)}).status_code == 204


def _deliveries(tl) -> list[dict]:
    return tl.get("/_control/webhooks/deliveries?wait=1").get_json()["data"]


def test_register_list_unregister(api, data):
    _register(api, "https://b.example/hook", "invoice.booked")
    _register(api, "https://a.example/hook", "invoice.updated", "contact.updated")
    _register(api, "https://b.example/hook", "creditNote.booked")
    assert data("webhooks.list") == [
        {"url": "https://a.example/hook", "types": ["contact.updated", "invoice.updated"]},
        {"url": "https://b.example/hook", "types": ["creditNote.booked", "invoice.booked"]},
    ]
    body = {"url": "https://b.example/hook", "types": ["invoice.booked", "creditNote.booked"]}
    assert api("webhooks.unregister", body).status_code == 204
    assert [h["url"] for h in data("webhooks.list")] == ["https://a.example/hook"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://a.example", "types": ["invoice.paid"]},
        {"url": "https://a.example", "types": []},
        {"url": "ftp://a.example", "types": ["invoice.booked"]},
        {"types": ["invoice.booked"]},
    ],
)
def test_register_validates(api, body):
    assert api("webhooks.register", body).status_code == 400


def test_booked_invoice_is_delivered_in_the_third_party_shape(tl, api, data, receiver):
    _register(api, receiver.url, "invoice.booked")
    booked = tl.post("/_control/invoices", json={"amount": 121.0, "profile": "Payment link"})
    assert booked.status_code == 201
    invoice = booked.get_json()["data"]
    assert invoice["total"]["payable"]["amount"] == 121.0
    assert invoice["status"] == "outstanding"

    (delivery,) = _deliveries(tl)
    assert delivery["status"] == 200 and delivery["error"] is None
    assert delivery["url"] == receiver.url
    expected = load_fixture("webhook-payload.UNVERIFIED-third-party.json")
    (payload,) = receiver.received
    assert payload.keys() == expected.keys()
    assert payload["type"] == "invoice.booked"
    assert payload["subject"] == {"type": "invoice", "id": invoice["id"]}
    assert payload["account"] == data("users.me")["account"]


def test_payments_fire_registered_and_removed(tl, api, receiver):
    _register(api, receiver.url, "invoice.paymentRegistered", "invoice.paymentRemoved")
    invoice = tl.post("/_control/invoices", json={"amount": 50}).get_json()["data"]
    body = {
        "id": invoice["id"],
        "payment": {"amount": 50, "currency": "EUR"},
        "paid_at": "2026-03-15T09:00:00+00:00",
    }
    assert api("invoices.registerPayment", body).status_code == 204
    assert api("invoices.removePayments", {"id": invoice["id"]}).status_code == 204
    paid = tl.post(f"/_control/invoices/{invoice['id']}/payments", json={})
    assert paid.status_code == 201 and paid.get_json()["data"]["status"] == "matched"
    _deliveries(tl)
    assert [p["type"] for p in receiver.received] == [
        "invoice.paymentRegistered",
        "invoice.paymentRemoved",
        "invoice.paymentRegistered",
    ]


def test_control_changes_fire_their_events(tl, api, receiver, emulator):
    types = ["creditNote.booked", "contact.updated", "company.updated", "invoice.updated"]
    _register(api, receiver.url, *types)
    invoice = tl.post("/_control/invoices", json={"amount": 100}).get_json()["data"]
    note = tl.post("/_control/credit-notes", json={"invoice_id": invoice["id"], "amount": 40})
    assert note.status_code == 201
    contact_id = next(iter(emulator.store.data.contacts))
    company_id = next(iter(emulator.store.data.companies))
    changed = tl.patch(f"/_control/contacts/{contact_id}", json={"email": "nieuw@example.be"})
    assert changed.get_json()["data"]["emails"][0]["email"] == "nieuw@example.be"
    tl.patch(f"/_control/companies/{company_id}", json={"invoicing_email": "ap@example.be"})
    updated = tl.patch(f"/_control/invoices/{invoice['id']}", json={"profile": "Direct debit"})
    assert updated.get_json()["data"]["custom_fields"][0]["value"] == "Direct debit"
    _deliveries(tl)
    assert [(p["type"], p["subject"]["type"]) for p in receiver.received] == [
        ("creditNote.booked", "creditNote"),
        ("contact.updated", "contact"),
        ("company.updated", "company"),
        ("invoice.updated", "invoice"),
    ]


def test_unregistered_types_are_not_sent(tl, api, receiver):
    _register(api, receiver.url, "contact.updated")
    tl.post("/_control/invoices", json={})
    assert _deliveries(tl) == []
    assert receiver.received == []


def test_unreachable_receiver_is_recorded_as_an_error(tl, api):
    closed = Receiver()
    closed.close()
    _register(api, closed.url, "invoice.booked")
    tl.post("/_control/invoices", json={})
    (delivery,) = _deliveries(tl)
    assert delivery["status"] is None and "ConnectionError" in delivery["error"]


def _remove_payments_with_a_held_receiver(webhook_timeout: float):
    """An emulator whose one webhook receiver holds every delivery until released; returns
    the emulator app, its test client, the receiver and the answer to invoices.removePayments
    (which fires invoice.paymentRemoved)."""
    app = make_emulator(WEBHOOK_TIMEOUT=webhook_timeout)
    client = app.test_client()
    token = exchange(client, authorization_code(client)).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    held = Receiver(held=True)
    registered = client.post(
        "/webhooks.register",
        json={"url": held.url, "types": ["invoice.paymentRemoved"]},
        headers=headers,
    )
    assert registered.status_code == 204
    invoice_id = next(iter(app.extensions["teamleader_emulator"].store.data.invoices))
    response = client.post("/invoices.removePayments", json={"id": invoice_id}, headers=headers)
    return app, client, held, response


def test_slow_receiver_never_blocks_the_api_answer():
    # The receiver answers only when released, and the emulator would wait 30 s for it: had
    # the API waited for the delivery, there would be no answer yet — or a delivery on record.
    app, client, held, response = _remove_payments_with_a_held_receiver(webhook_timeout=30)
    try:
        assert response.status_code == 204
        assert app.extensions["teamleader_emulator"].store.deliveries == []
        assert held.arrived.wait(10)  # the delivery was under way while we had the answer
        held.release()
        (delivery,) = _deliveries(client)
        assert (delivery["status"], delivery["error"]) == (200, None)
    finally:
        held.close()


def test_a_receiver_slower_than_the_timeout_is_recorded_as_a_timeout():
    _, client, held, response = _remove_payments_with_a_held_receiver(webhook_timeout=0.2)
    try:
        assert response.status_code == 204
        (delivery,) = _deliveries(client)  # waits until the emulator gave up on it
        assert delivery["status"] is None and "Timeout" in delivery["error"]
    finally:
        held.close()
