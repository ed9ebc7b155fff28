"""The payment provider emulator over real HTTP, driven with the real ``ProviderClient``;
webhooks go to a small WSGI receiver on its own port."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from werkzeug.serving import make_server

from collector.payments import (
    AuthError,
    NotFound,
    PaymentRequest,
    ProviderClient,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from sandbox import create_app as create_sandbox
from sandbox.provider import create_app

KEY = "test_sandbox"
RETURN_URL = "https://collector.example.com/pay/abc/return"


def serve(wsgi_app):
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    # A short poll interval: shutdown() waits for one, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    return server, thread


class Receiver:
    """Records every webhook POST; ``on_call(form)`` runs inside the request, as a real
    receiver fetching the payment would."""

    def __init__(self, on_call=None, delay: float = 0.0) -> None:
        self.bodies: list[dict] = []
        self.content_types: list[str] = []
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._on_call = on_call
        self._delay = delay
        self.server, self.thread = serve(self)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/provider"

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            self.bodies.append(form)
            self.content_types.append(environ.get("CONTENT_TYPE", ""))
        time.sleep(self._delay)
        if self._on_call:
            self._on_call(form)
        with self._lock:
            self._in_flight -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class Provider:
    """The sandbox (all emulators, as ``make run`` serves them) on a real port."""

    def __init__(self) -> None:
        # The webhook receiver is on 127.0.0.1: allowed here, refused by default.
        self.server, self.thread = serve(
            create_sandbox({"provider": {"ALLOW_LOCAL_WEBHOOKS": True}})
        )
        self.root = f"http://127.0.0.1:{self.server.server_port}/provider"
        self.api = f"{self.root}/v2"
        self.http = requests.Session()

    def client(self, key: str = KEY, **options) -> ProviderClient:
        return ProviderClient(requests.Session(), self.api, key, timeout=10, **options)

    def control(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.root}/_control/{path}", timeout=30, **kwargs)

    def data(self, method: str, path: str, **kwargs):
        response = self.control(method, path, **kwargs)
        assert response.ok, response.text
        return response.json()["data"]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def provider():
    running = Provider()
    yield running
    running.close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def new_payment(provider, webhook_url: str, idempotency_key: str | None = None, **changes) -> dict:
    arguments = {
        "amount": Decimal("10.00"),
        "currency": "EUR",
        "description": "Invoice 2024/0042",
        "redirect_url": RETURN_URL,
        "webhook_url": webhook_url,
        "metadata": {"invoice_id": "inv-42"},
    }
    request = PaymentRequest(**{**arguments, **changes})
    return provider.client().create_payment(request, idempotency_key)


def test_pay_through_the_checkout_page(provider):
    seen_at_webhook = []
    receiver = Receiver(on_call=lambda form: seen_at_webhook.append(fetch(provider, form)))
    try:
        created = new_payment(provider, receiver.url)
        assert created["status"] == "open"
        assert created["metadata"] == {"invoice_id": "inv-42"}
        assert created["checkout_url"] == f"{provider.root}/checkout/{created['id']}"

        page = requests.get(created["checkout_url"], timeout=10)
        assert page.status_code == 200
        for button in ('id="pay"', 'id="fail"', 'id="cancel"'):
            assert button in page.text
        assert "EUR 10.00" in page.text and "Invoice 2024/0042" in page.text

        answer = pay(created, "paid")
        assert answer.status_code == 303
        assert answer.headers["Location"] == RETURN_URL
    finally:
        receiver.close()

    assert receiver.bodies == [{"id": created["id"]}]
    assert receiver.content_types == ["application/x-www-form-urlencoded"]
    # The status changes before the webhook is called: a receiver that fetches sees it.
    assert seen_at_webhook == ["paid"]
    payment = provider.client().get_payment(created["id"])
    assert payment["status"] == "paid"
    assert payment["paid_at"] is not None and payment["paid_at"].utcoffset().total_seconds() == 0
    assert payment["method"] == "ideal"
    assert payment["checkout_url"] is None
    (delivery,) = provider.data("GET", "webhooks")
    assert (delivery["payment_id"], delivery["url"], delivery["status"]) == (
        created["id"],
        receiver.url,
        200,
    )


def fetch(provider, form: dict) -> str:
    return provider.client().get_payment(form["id"])["status"]


def pay(payment: dict, action: str) -> requests.Response:
    """Press a checkout button, as the browser does (the redirect is not followed)."""
    return requests.post(
        payment["checkout_url"], data={"action": action}, allow_redirects=False, timeout=10
    )


@pytest.mark.parametrize(
    ("action", "stamp"), [("failed", "failed_at"), ("canceled", "canceled_at")]
)
def test_fail_or_cancel_then_a_second_press_only_redirects(provider, receiver, action, stamp):
    created = new_payment(provider, receiver.url)
    checkout_url = created["checkout_url"]

    assert pay(created, action).status_code == 303
    again = pay({"checkout_url": checkout_url}, "paid")

    assert again.status_code == 303 and again.headers["Location"] == RETURN_URL
    payment = provider.client().get_payment(created["id"])
    assert payment["status"] == action
    assert payment[stamp] is not None and payment["paid_at"] is None
    assert len(receiver.bodies) == 1
    assert "This payment is" in requests.get(checkout_url, timeout=10).text


def test_a_failing_webhook_does_not_break_the_checkout(provider):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/webhooks/provider"
    created = new_payment(provider, closed)

    answer = pay(created, "paid")

    assert answer.status_code == 303
    assert provider.client().get_payment(created["id"])["status"] == "paid"
    (delivery,) = provider.data("GET", "webhooks")
    assert delivery["status"] is None and "ConnectionError" in delivery["error"]


def test_refunds_are_read_into_the_payment(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})

    first = provider.data("POST", f"payments/{created['id']}/refund", json={"amount": "4.00"})
    rest = provider.data("POST", f"payments/{created['id']}/refund", json={})
    too_much = provider.control("POST", f"payments/{created['id']}/refund", json={"amount": "1"})

    assert first["refund"]["amount"] == {"value": "4.00", "currency": "EUR"}
    assert rest["refund"]["amount"]["value"] == "6.00"
    assert too_much.status_code == 422 and too_much.json()["field"] == "amount"
    payment = provider.client().get_payment(created["id"])
    assert payment["status"] == "paid"
    assert payment["amount_refunded"] == Decimal("10.00")
    assert [(r["amount"], r["status"]) for r in payment["refunds"]] == [
        (Decimal("4.00"), "refunded"),
        (Decimal("6.00"), "refunded"),
    ]
    assert payment["chargebacks"] == []
    assert len(receiver.bodies) == 3  # paid, and one per refund


def test_only_a_paid_payment_is_refunded(provider, receiver):
    created = new_payment(provider, receiver.url)

    answer = provider.control("POST", f"payments/{created['id']}/refund", json={})

    assert answer.status_code == 422
    assert receiver.bodies == []


def test_chargeback_and_its_reversal(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})

    charged = provider.data("POST", f"payments/{created['id']}/chargeback", json={})
    chargeback_id = charged["chargeback"]["id"]
    after_chargeback = provider.client().get_payment(created["id"])
    reversed_ = provider.data("POST", f"chargebacks/{chargeback_id}/reverse")
    after_reversal = provider.client().get_payment(created["id"])
    twice = provider.control("POST", f"chargebacks/{chargeback_id}/reverse")

    assert charged["chargeback"]["reason"] == {"code": "AM04", "description": "Insufficient funds"}
    assert after_chargeback["amount_charged_back"] == Decimal("10.00")
    (chargeback,) = after_chargeback["chargebacks"]
    assert chargeback["id"] == chargeback_id
    assert chargeback["amount"] == Decimal("10.00")
    assert (chargeback["reason_code"], chargeback["reversed_at"]) == ("AM04", None)
    assert reversed_["chargeback"]["reversedAt"] is not None
    assert after_reversal["chargebacks"][0]["reversed_at"] is not None
    assert twice.status_code == 422
    assert len(receiver.bodies) == 3  # paid, chargeback, reversal


def test_a_partial_chargeback_with_its_own_reason(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})
    body = {"amount": "2.50", "reason_code": "MD06"}

    provider.data("POST", f"payments/{created['id']}/chargeback", json=body)

    (chargeback,) = provider.client().get_payment(created["id"])["chargebacks"]
    assert chargeback["amount"] == Decimal("2.50")
    assert chargeback["reason_code"] == "MD06"
    assert chargeback["reason_description"] == "Refund request by end customer"


def test_refund_lists_are_paged(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})
    for _ in range(3):
        provider.data("POST", f"payments/{created['id']}/refund", json={"amount": "1.00"})
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {KEY}"

    url, seen = f"{provider.api}/payments/{created['id']}/refunds?limit=2", []
    while url:
        page = http.get(url, timeout=10).json()
        seen.append(page["count"])
        url = (page["_links"]["next"] or {}).get("href")

    assert seen == [2, 1]
    # The client, without a limit, reads all three in one page.
    assert len(provider.client().get_payment(created["id"])["refunds"]) == 3


def test_the_same_idempotency_key_and_body_give_the_same_payment(provider, receiver):
    first = new_payment(provider, receiver.url, idempotency_key="invoice-42-1")
    second = new_payment(provider, receiver.url, idempotency_key="invoice-42-1")
    other = new_payment(provider, receiver.url, idempotency_key="invoice-42-2")

    assert second["id"] == first["id"]
    assert other["id"] != first["id"]
    assert len(provider.data("GET", "payments")) == 2
    with pytest.raises(ValidationFailed, match="Idempotency-Key"):
        new_payment(provider, receiver.url, idempotency_key="invoice-42-1", description="Other")
    assert len(provider.data("GET", "payments")) == 2


def post_payment(provider, key: str | None, body: dict | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {KEY}"} | ({"Idempotency-Key": key} if key else {})
    return provider.http.post(f"{provider.api}/payments", json=body or GOOD, headers=headers)


def test_a_repeated_key_answers_the_first_answer_not_the_payment_as_it_is_now(provider):
    first = post_payment(provider, "k-1")
    provider.data("POST", f"payments/{first.json()['id']}/status", json={"status": "paid"})

    again = post_payment(provider, "k-1")

    # Mollie replays the original response: still open, with its checkout link.
    assert again.status_code == first.status_code == 201
    assert again.headers["Content-Type"] == "application/hal+json"
    assert again.json() == first.json()
    assert again.json()["status"] == "open"
    assert provider.client().get_payment(first.json()["id"])["status"] == "paid"


def test_the_same_key_for_another_request_is_a_422_in_mollies_shape(provider):
    post_payment(provider, "k-1")
    other_amount = {**GOOD, "amount": {"currency": "EUR", "value": "11.00"}}

    refused = post_payment(provider, "k-1", other_amount)

    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/hal+json"
    problem = refused.json()
    assert problem["status"] == 422 and problem["title"] == "Unprocessable Entity"
    assert "Idempotency-Key" in problem["detail"]
    assert problem["_links"]["documentation"]["type"] == "text/html"
    assert len(provider.data("GET", "payments")) == 1


def test_a_refused_request_keeps_no_key(provider):
    bad = post_payment(provider, "k-1", {**GOOD, "description": " "})
    unauthorised = provider.http.post(
        f"{provider.api}/payments", json=GOOD, headers={"Idempotency-Key": "k-1"}
    )
    provider.data("POST", "faults", json={"kind": "error", "status": 503})
    failed = post_payment(provider, "k-1")

    good = post_payment(provider, "k-1")

    assert (bad.status_code, unauthorised.status_code, failed.status_code) == (422, 401, 503)
    assert good.status_code == 201
    assert len(provider.data("GET", "payments")) == 1


def test_an_answer_lost_on_the_way_back_is_found_again_with_the_same_key(provider, receiver):
    provider.data("POST", "faults", json={"kind": "lost", "status": 502})
    client = provider.client()

    with pytest.raises(Unavailable):
        new_payment(provider, receiver.url, idempotency_key="invoice-42-1")
    # The payment was made although its answer was lost; the retry finds it.
    (made,) = provider.data("GET", "payments")
    retried = new_payment(provider, receiver.url, idempotency_key="invoice-42-1")

    assert retried["id"] == made["id"]
    assert len(provider.data("GET", "payments")) == 1
    assert client.get_payment(made["id"])["status"] == "open"


def test_keys_are_kept_for_a_limited_time():
    app = create_app({"IDEMPOTENCY_MINUTES": 0})
    http = app.test_client()
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "k-1"}

    first = http.post("/v2/payments", json=GOOD, headers=headers)
    second = http.post("/v2/payments", json=GOOD, headers=headers)

    # Past the retention the key is new again: a second payment.
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]


def test_forgetting_the_keys_makes_them_new(provider, receiver):
    first = new_payment(provider, receiver.url, idempotency_key="k-1")

    assert provider.data("DELETE", "idempotency-keys") == {"forgotten": 1}

    assert new_payment(provider, receiver.url, idempotency_key="k-1")["id"] != first["id"]


def test_refunds_through_the_api(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})
    client = provider.client()

    refund = client.create_refund(
        created["id"], Decimal("4.00"), "EUR", "Overpayment", idempotency_key="r-1"
    )
    again = client.create_refund(
        created["id"], Decimal("4.00"), "EUR", "Overpayment", idempotency_key="r-1"
    )

    assert refund == again
    assert refund["status"] == "pending" and refund["amount"] == Decimal("4.00")
    payment = client.get_payment(created["id"])
    assert payment["amount_refunded"] == Decimal("4.00")
    assert [r["id"] for r in payment["refunds"]] == [refund["id"]]
    assert len(receiver.bodies) == 1  # paid; creating a refund calls no webhook
    with pytest.raises(ValidationFailed) as too_much:
        client.create_refund(created["id"], Decimal("6.01"), "EUR")
    assert too_much.value.field == "amount"
    with pytest.raises(ValidationFailed, match="Idempotency-Key"):
        client.create_refund(created["id"], Decimal("5.00"), "EUR", idempotency_key="r-1")


def test_a_key_from_one_endpoint_is_refused_on_another(provider, receiver):
    created = new_payment(provider, receiver.url, idempotency_key="k-1")
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})

    with pytest.raises(ValidationFailed, match="Idempotency-Key"):
        provider.client().create_refund(
            created["id"], Decimal("1.00"), "EUR", idempotency_key="k-1"
        )


def test_only_a_paid_payment_is_refunded_through_the_api(provider, receiver):
    created = new_payment(provider, receiver.url)
    client = provider.client()

    with pytest.raises(ValidationFailed):
        client.create_refund(created["id"], Decimal("1.00"), "EUR")
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})
    with pytest.raises(ValidationFailed) as currency:
        client.create_refund(created["id"], Decimal("1.00"), "USD")
    with pytest.raises(NotFound):
        client.create_refund("tr_doesnotexist", Decimal("1.00"), "EUR")

    assert currency.value.field == "amount.currency"
    assert client.get_payment(created["id"])["refunds"] == []


def test_a_wrong_key_is_401(provider, receiver):
    with pytest.raises(AuthError) as caught:
        provider.client("test_wrong_key_123").get_payment("tr_abc")

    assert caught.value.status == 401
    assert "test_wrong_key_123" not in str(caught.value)
    missing = requests.post(f"{provider.api}/payments", json={}, timeout=10)
    assert missing.status_code == 401
    assert missing.headers["Content-Type"] == "application/hal+json"
    assert missing.json()["title"] == "Unauthorized Request"


def test_an_unknown_payment_is_404(provider):
    with pytest.raises(NotFound) as caught:
        provider.client().get_payment("tr_doesnotexist")

    assert "tr_doesnotexist" in caught.value.detail


GOOD = {
    "amount": {"currency": "EUR", "value": "10.00"},
    "description": "Invoice 2024/0042",
    "redirectUrl": RETURN_URL,
    "webhookUrl": "https://collector.example.com/webhooks/provider",
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": {"currency": "EUR", "value": "10"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "10.001"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": 10}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "0.00"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "-1.00"}}, "amount.value"),
        ({"amount": {"currency": "eur", "value": "10.00"}}, "amount.currency"),
        ({"description": None}, "description"),
        ({"description": " "}, "description"),
        ({"redirectUrl": None}, "redirectUrl"),
        ({"redirectUrl": "/relative"}, "redirectUrl"),
        ({"webhookUrl": "ftp://collector.example.com/hook"}, "webhookUrl"),
        ({"metadata": {"blob": "x" * 2000}}, "metadata"),
    ],
)
def test_bad_create_requests_are_422_with_the_field(provider, changes, field):
    body = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}

    answer = requests.post(
        f"{provider.api}/payments",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )

    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/hal+json"
    assert answer.json()["field"] == field
    assert answer.json()["title"] == "Unprocessable Entity"


def test_the_client_sees_a_422_as_validation_failed(provider):
    with pytest.raises(ValidationFailed) as caught:
        new_payment(provider, "ftp://collector.example.com/hook")

    assert caught.value.field == "webhookUrl"


UNREACHABLE = "The webhook URL is invalid because it is unreachable from Mollie's point of view."
LOCAL_WEBHOOKS = [
    "http://localhost:5000/webhooks/provider",
    "http://127.0.0.1:5000/webhooks/provider",
    "http://[::1]:5000/webhooks/provider",
    "http://10.1.2.3/webhooks/provider",
    "http://172.16.0.9/webhooks/provider",
    "http://192.168.1.20:5000/webhooks/provider",
    "http://169.254.169.254/webhooks/provider",
    "https://collector.local/webhooks/provider",
    "https://collector.test/webhooks/provider",
    "http://intranet/webhooks/provider",
]


@pytest.mark.parametrize("webhook_url", LOCAL_WEBHOOKS)
def test_a_webhook_url_mollie_cannot_reach_is_refused_as_mollie_does(webhook_url):
    http = create_app().test_client()  # as real Mollie: test keys included

    answer = http.post(
        "/v2/payments",
        json={**GOOD, "webhookUrl": webhook_url},
        headers={"Authorization": f"Bearer {KEY}"},
    )

    assert answer.status_code == 422
    assert (answer.json["field"], answer.json["detail"]) == ("webhookUrl", UNREACHABLE)
    assert http.get("/_control/payments").json["data"] == []


@pytest.mark.parametrize("webhook_url", LOCAL_WEBHOOKS[:3])
def test_local_webhooks_are_accepted_when_the_sandbox_is_told_to(webhook_url):
    http = create_app({"ALLOW_LOCAL_WEBHOOKS": True}).test_client()
    answer = http.post(
        "/v2/payments",
        json={**GOOD, "webhookUrl": webhook_url},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert answer.status_code == 201, answer.json


def test_the_command_line_allows_local_webhooks_only_when_asked():
    from sandbox.__main__ import parse

    assert parse([])[1]["provider"] == {"ALLOW_LOCAL_WEBHOOKS": False}
    assert parse(["--allow-local-webhooks"])[1]["provider"] == {"ALLOW_LOCAL_WEBHOOKS": True}


def test_the_demo_runs_the_sandbox_with_local_webhooks_allowed():
    # ``make run`` serves collector on 127.0.0.1: its sandbox must accept that webhook.
    source = (Path(__file__).resolve().parents[2] / "collector" / "devserver.py").read_text()
    assert '"--allow-local-webhooks"' in source


def test_the_key_check_lists_one_payment_and_needs_the_key(provider, receiver):
    new_payment(provider, receiver.url)
    newest = new_payment(provider, receiver.url)

    page = requests.get(
        f"{provider.api}/payments",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )

    assert page.status_code == 200
    assert [p["id"] for p in page.json()["_embedded"]["payments"]] == [newest["id"]]
    assert page.json()["_links"]["next"]["href"].startswith(f"{provider.api}/payments?")
    provider.client().check_key()
    with pytest.raises(AuthError):
        provider.client("test_wrong").check_key()


def test_the_totals_keep_or_drop_what_was_undone_as_told(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.data("POST", f"payments/{created['id']}/status", json={"status": "paid"})
    charged = provider.data("POST", f"payments/{created['id']}/chargeback", json={})
    provider.data("POST", f"chargebacks/{charged['chargeback']['id']}/reverse")
    client = provider.client()

    assert client.get_payment(created["id"])["amount_charged_back"] == Decimal("10.00")
    told = provider.data("POST", "totals", json={"reversed_chargebacks": False})
    assert told == {"reversed_chargebacks": False, "canceled_refunds": False}
    assert client.get_payment(created["id"])["amount_charged_back"] == 0
    assert client.get_payment(created["id"], chargebacks=True)["chargebacks"][0]["reversed_at"]


def test_injected_errors_and_rate_limits(provider, receiver):
    created = new_payment(provider, receiver.url)
    client = provider.client(read_retries=0)  # each fault as it is answered
    provider.data("POST", "faults", json={"kind": "error", "count": 2, "status": 503})
    provider.data("POST", "faults", json={"kind": "rate_limit", "count": 1, "retry_after": 7})

    for _ in range(2):
        with pytest.raises(Unavailable) as unavailable:
            client.get_payment(created["id"])
        assert unavailable.value.status == 503
    with pytest.raises(RateLimited) as limited:
        client.get_payment(created["id"])

    assert limited.value.retry_after == 7.0
    assert client.get_payment(created["id"])["id"] == created["id"]
    assert provider.data("GET", "faults") == []


def test_an_injected_latency_holds_the_call_then_answers(provider, receiver):
    created = new_payment(provider, receiver.url)
    client = provider.client()
    provider.data("POST", "faults", json={"kind": "latency", "count": 1, "ms": 400})

    started = time.monotonic()
    assert client.get_payment(created["id"])["id"] == created["id"]
    held = time.monotonic() - started
    started = time.monotonic()
    client.get_payment(created["id"])
    assert held >= 0.4 > time.monotonic() - started
    assert provider.data("GET", "faults") == []


def test_calls_are_counted_by_route(provider, receiver):
    created = new_payment(provider, receiver.url)
    provider.client().get_payment(created["id"])
    provider.client().get_payment(created["id"])

    assert provider.data("GET", "calls") == {
        "GET /v2/payments/<payment_id>": 2,
        "POST /v2/payments": 1,
    }
    assert provider.control("DELETE", "calls").status_code == 204
    assert provider.data("GET", "calls") == {}


def test_the_same_webhook_delivered_fifty_times_at_once(provider):
    receiver = Receiver(delay=0.05)
    try:
        created = new_payment(provider, receiver.url)
        body = {"times": 50, "concurrent": True}

        sent = provider.data("POST", f"payments/{created['id']}/webhook", json=body)
    finally:
        receiver.close()

    assert len(sent["deliveries"]) == 50
    assert {d["status"] for d in sent["deliveries"]} == {200}
    assert receiver.bodies == [{"id": created["id"]}] * 50
    assert receiver.peak > 1  # the calls overlapped at the receiver
    assert len(provider.data("GET", "webhooks")) == 50


def test_control_status_follows_mollie_transitions(provider, receiver):
    created = new_payment(provider, receiver.url)
    path = f"payments/{created['id']}/status"

    expired = provider.data("POST", path, json={"status": "expired"})
    refused = provider.control("POST", path, json={"status": "paid"})
    unknown = provider.control("POST", path, json={"status": "settled"})

    assert expired["payment"]["status"] == "expired" and expired["payment"]["expiredAt"]
    assert expired["webhook"]["status"] == 200
    assert refused.status_code == 422 and unknown.status_code == 422
    assert provider.client().get_payment(created["id"])["expired_at"] is not None


def test_reset_forgets_everything(provider, receiver):
    new_payment(provider, receiver.url)

    assert provider.control("POST", "reset").status_code == 204

    summary = provider.data("GET", "")
    assert summary["payments"] == [] and summary["deliveries"] == 0
    assert provider.data("GET", "calls") == {}


def test_public_url_is_used_for_links_a_browser_follows():
    app = create_app({"PUBLIC_URL": "https://pay.sandbox.test/provider/"})
    answer = app.test_client().post(
        "/v2/payments", json=GOOD, headers={"Authorization": f"Bearer {KEY}"}
    )

    links = answer.get_json()["_links"]
    payment_id = answer.get_json()["id"]
    assert links["checkout"]["href"] == f"https://pay.sandbox.test/provider/checkout/{payment_id}"
    assert links["self"]["href"] == f"http://localhost/v2/payments/{payment_id}"
