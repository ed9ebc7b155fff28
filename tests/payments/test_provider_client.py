"""The payment provider client against ``responses``: what it sends, what it returns, and how
every failure is typed. Payloads follow Mollie's documented v2 examples."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from collector.payments import (
    AuthError,
    MalformedResponse,
    NotFound,
    PaymentRequest,
    ProviderClient,
    ProviderError,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from collector.payments.provider import READ_RETRIES
from collector.payments.provider_errors import parse_retry_after

API = "https://api.provider.test/v2"
KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
PAYMENT_ID = "tr_7UhSN1zuXS"
PAYMENT_URL = f"{API}/payments/{PAYMENT_ID}"
HAL = "application/hal+json"


def amount(value: str, currency: str = "EUR") -> dict:
    return {"value": value, "currency": currency}


def payment_body(**changes) -> dict:
    """A payment as Mollie returns it right after creation."""
    body = {
        "resource": "payment",
        "id": PAYMENT_ID,
        "mode": "test",
        "createdAt": "2024-03-20T09:13:37+00:00",
        "amount": amount("10.00"),
        "description": "Invoice 2024/0042",
        "method": None,
        "metadata": {"invoice_id": "inv-42"},
        "status": "open",
        "isCancelable": False,
        "expiresAt": "2024-03-20T09:28:37+00:00",
        "details": None,
        "profileId": "pfl_QkEhN94Ba",
        "sequenceType": "oneoff",
        "redirectUrl": "https://collector.test/pay/abc/return",
        "webhookUrl": "https://collector.test/webhooks/provider",
        "_links": {
            "self": {"href": PAYMENT_URL, "type": HAL},
            "checkout": {
                "href": "https://www.mollie.com/checkout/select-method/7UhSN1zuXS",
                "type": "text/html",
            },
            "dashboard": {"href": "https://my.mollie.com/dashboard/x", "type": "text/html"},
        },
    }
    body.update(changes)
    return body


def paid_body(**changes) -> dict:
    """The same payment once paid: paidAt, amounts left and refunded, no checkout link."""
    paid = {
        "status": "paid",
        "method": "ideal",
        "paidAt": "2024-03-20T10:14:00+01:00",
        "amountRefunded": amount("0.00"),
        "amountRemaining": amount("10.00"),
        "_links": {"self": {"href": PAYMENT_URL, "type": HAL}},
    }
    return payment_body(**{**paid, **changes})


def page(key: str, items: list[dict], next_href: str | None = None) -> dict:
    next_link = {"href": next_href, "type": HAL} if next_href else None
    return {
        "count": len(items),
        "_embedded": {key: items},
        "_links": {"self": {"href": "x", "type": HAL}, "previous": None, "next": next_link},
    }


def refund(ident: str, value: str, status: str = "refunded") -> dict:
    return {
        "resource": "refund",
        "id": ident,
        "amount": amount(value),
        "status": status,
        "createdAt": "2024-03-21T08:00:00+00:00",
        "description": "Order",
        "paymentId": PAYMENT_ID,
    }


def chargeback(ident: str, value: str, **changes) -> dict:
    body = {
        "resource": "chargeback",
        "id": ident,
        "amount": amount(value),
        "settlementAmount": amount(f"-{value}"),
        "createdAt": "2024-03-22T08:00:00+00:00",
        "reversedAt": None,
        "reason": {"code": "AM04", "description": "Insufficient funds"},
        "paymentId": PAYMENT_ID,
    }
    body.update(changes)
    return body


def error_body(status: int, title: str, detail: str, field: str | None = None) -> dict:
    body = {"status": status, "title": title, "detail": detail}
    if field:
        body["field"] = field
    body["_links"] = {"documentation": {"href": "https://docs.mollie.com/x", "type": "text/html"}}
    return body


@pytest.fixture
def rsps():
    """HTTP mock: an unregistered call fails, an unused registration fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> ProviderClient:
    # Reads are retried at once a few times; the waits between them are not waited here.
    return ProviderClient(requests.Session(), API, KEY, sleep=lambda seconds: None)


def create(client: ProviderClient, idempotency_key: str | None = None, **changes) -> dict:
    arguments = {
        "amount": Decimal("10.00"),
        "currency": "EUR",
        "description": "Invoice 2024/0042",
        "redirect_url": "https://collector.test/pay/abc/return",
        "webhook_url": "https://collector.test/webhooks/provider",
        "metadata": {"invoice_id": "inv-42"},
    }
    return client.create_payment(PaymentRequest(**{**arguments, **changes}), idempotency_key)


# -- create_payment -----------------------------------------------------------------------


def test_create_payment_sends_mollie_body_and_headers(rsps, client):
    expected = {
        "amount": {"currency": "EUR", "value": "10.00"},
        "description": "Invoice 2024/0042",
        "redirectUrl": "https://collector.test/pay/abc/return",
        "webhookUrl": "https://collector.test/webhooks/provider",
        "metadata": {"invoice_id": "inv-42"},
    }
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "invoice-42-attempt-1"}
    rsps.post(
        f"{API}/payments",
        json=payment_body(),
        status=201,
        content_type=HAL,
        match=[matchers.json_params_matcher(expected), matchers.header_matcher(headers)],
    )

    payment = create(client, idempotency_key="invoice-42-attempt-1")

    assert payment["id"] == PAYMENT_ID
    assert payment["status"] == "open"
    assert payment["amount"] == Decimal("10.00") and isinstance(payment["amount"], Decimal)
    assert payment["currency"] == "EUR"
    assert payment["checkout_url"] == "https://www.mollie.com/checkout/select-method/7UhSN1zuXS"
    assert payment["created_at"] == datetime(2024, 3, 20, 9, 13, 37, tzinfo=UTC)
    assert payment["paid_at"] is None
    assert payment["metadata"] == {"invoice_id": "inv-42"}
    assert payment["amount_refunded"] == Decimal("0") == payment["amount_charged_back"]
    assert payment["refunds"] == [] and payment["chargebacks"] == []
    assert "profileId" not in payment and "isCancelable" not in payment
    assert rsps.calls[0].request.req_kwargs["timeout"] == 15


def test_create_payment_without_idempotency_key_sends_no_header(rsps, client):
    rsps.post(f"{API}/payments", json=payment_body(), status=201)

    create(client, metadata=None)

    sent = rsps.calls[0].request
    assert "Idempotency-Key" not in sent.headers
    assert b'"metadata": null' in sent.body


# -- create_refund ------------------------------------------------------------------------


def test_create_refund_sends_the_amount_and_the_idempotency_key(rsps, client):
    expected = {"amount": {"currency": "EUR", "value": "4.50"}, "description": "Overpayment"}
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "refund-42-1"}
    rsps.post(
        f"{PAYMENT_URL}/refunds",
        json=refund("re_4qqhO89gsT", "4.50", status="pending"),
        status=201,
        content_type=HAL,
        match=[matchers.json_params_matcher(expected), matchers.header_matcher(headers)],
    )

    created = client.create_refund(
        PAYMENT_ID, Decimal("4.5"), "EUR", "Overpayment", idempotency_key="refund-42-1"
    )

    assert created == {
        "id": "re_4qqhO89gsT",
        "amount": Decimal("4.50"),
        "status": "pending",
        "created_at": datetime(2024, 3, 21, 8, tzinfo=UTC),
    }


def test_create_refund_without_key_or_description_sends_neither(rsps, client):
    rsps.post(f"{PAYMENT_URL}/refunds", json=refund("re_1", "10.00", "queued"), status=201)

    client.create_refund(PAYMENT_ID, Decimal("10.00"), "EUR")

    sent = rsps.calls[0].request
    assert "Idempotency-Key" not in sent.headers
    assert sent.body == b'{"amount": {"currency": "EUR", "value": "10.00"}}'


def test_create_refund_refuses_a_bad_id_or_amount_before_any_call(rsps, client):
    with pytest.raises(ValueError, match="payment_id must look like tr_"):
        client.create_refund("re_wrong", Decimal("1.00"), "EUR")
    with pytest.raises(ValueError, match="amount must be positive"):
        client.create_refund(PAYMENT_ID, Decimal("0.00"), "EUR")
    assert len(rsps.calls) == 0


def test_a_refused_refund_is_validation_failed(rsps, client):
    detail = "The amount is higher than the amount remaining."
    rsps.post(
        f"{PAYMENT_URL}/refunds",
        json=error_body(422, "Unprocessable Entity", detail, "amount.value"),
        status=422,
        content_type=HAL,
    )

    with pytest.raises(ValidationFailed) as refused:
        client.create_refund(PAYMENT_ID, Decimal("99.00"), "EUR")

    assert refused.value.field == "amount.value" and detail in str(refused.value)


@pytest.mark.parametrize(
    ("given", "sent"),
    [(Decimal("10"), "10.00"), (Decimal("7.5"), "7.50"), (Decimal("1234.56"), "1234.56")],
)
def test_amount_goes_out_as_a_string_with_two_decimals(rsps, client, given, sent):
    body = {"amount": {"currency": "EUR", "value": sent}}
    rsps.post(
        f"{API}/payments",
        json=payment_body(),
        status=201,
        match=[matchers.json_params_matcher(body, strict_match=False)],
    )

    create(client, amount=given)


@pytest.mark.parametrize(
    "bad",
    [10, 10.0, "10.00", Decimal("0"), Decimal("-1.00"), Decimal("10.001"), Decimal("NaN"), True],
)
def test_create_payment_refuses_a_bad_amount_before_any_call(rsps, client, bad):
    with pytest.raises(ValueError, match="amount"):
        create(client, amount=bad)
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("currency", ["eur", "EURO", "", None])
def test_create_payment_refuses_a_bad_currency(rsps, client, currency):
    with pytest.raises(ValueError, match="currency"):
        create(client, currency=currency)
    assert len(rsps.calls) == 0


# -- get_payment ----------------------------------------------------------------------------


def test_get_payment_without_refunds_or_chargebacks_is_one_call(rsps, client):
    rsps.get(
        PAYMENT_URL,
        json=paid_body(),
        content_type=HAL,
        match=[matchers.header_matcher({"Authorization": f"Bearer {KEY}"})],
    )

    payment = client.get_payment(PAYMENT_ID)

    assert payment["status"] == "paid"
    assert payment["method"] == "ideal"
    assert payment["paid_at"] == datetime(2024, 3, 20, 9, 14, tzinfo=UTC)
    assert payment["checkout_url"] is None
    assert payment["amount_refunded"] == Decimal("0.00")
    assert payment["refunds"] == [] and payment["chargebacks"] == []
    assert len(rsps.calls) == 1


def test_get_payment_reads_refunds_and_chargebacks_into_the_record(rsps, client):
    body = paid_body(amountRefunded=amount("4.00"), amountChargedBack=amount("6.00"))
    rsps.get(PAYMENT_URL, json=body)
    rsps.get(f"{PAYMENT_URL}/refunds", json=page("refunds", [refund("re_4qqhO89gsT", "4.00")]))
    reversed_one = chargeback("chb_xFzwUN4ci8", "6.00", reversedAt="2024-03-25T12:00:00+00:00")
    rsps.get(f"{PAYMENT_URL}/chargebacks", json=page("chargebacks", [reversed_one]))

    payment = client.get_payment(PAYMENT_ID)

    assert payment["amount_refunded"] == Decimal("4.00")
    assert payment["amount_charged_back"] == Decimal("6.00")
    assert payment["refunds"] == [
        {
            "id": "re_4qqhO89gsT",
            "amount": Decimal("4.00"),
            "status": "refunded",
            "created_at": datetime(2024, 3, 21, 8, tzinfo=UTC),
        }
    ]
    assert payment["chargebacks"] == [
        {
            "id": "chb_xFzwUN4ci8",
            "amount": Decimal("6.00"),
            "created_at": datetime(2024, 3, 22, 8, tzinfo=UTC),
            "reversed_at": datetime(2024, 3, 25, 12, tzinfo=UTC),
            "reason_code": "AM04",
            "reason_description": "Insufficient funds",
        }
    ]


def test_a_chargeback_without_reason_loads_with_none(rsps, client):
    rsps.get(PAYMENT_URL, json=paid_body(amountChargedBack=amount("10.00")))
    bare = chargeback("chb_1", "10.00")
    del bare["reason"]
    rsps.get(f"{PAYMENT_URL}/chargebacks", json=page("chargebacks", [bare]))

    (only,) = client.get_payment(PAYMENT_ID)["chargebacks"]

    assert only["reason_code"] is None and only["reason_description"] is None


def test_refund_pages_are_followed(rsps, client):
    second = f"{PAYMENT_URL}/refunds?from=re_2&limit=1"
    rsps.get(PAYMENT_URL, json=paid_body(amountRefunded=amount("3.00")))
    rsps.get(
        f"{PAYMENT_URL}/refunds",
        json=page("refunds", [refund("re_1", "1.00")], next_href=second),
        match=[matchers.query_string_matcher("")],
    )
    rsps.get(second, json=page("refunds", [refund("re_2", "2.00", status="pending")]))

    payment = client.get_payment(PAYMENT_ID)

    assert [(r["id"], r["status"]) for r in payment["refunds"]] == [
        ("re_1", "refunded"),
        ("re_2", "pending"),
    ]


def test_a_next_page_off_the_api_is_refused(rsps, client):
    # Following it would hand our API key to another host.
    rsps.get(PAYMENT_URL, json=paid_body(amountRefunded=amount("1.00")))
    elsewhere = "https://attacker.test/v2/payments/tr_7UhSN1zuXS/refunds?from=re_2"
    rsps.get(f"{PAYMENT_URL}/refunds", json=page("refunds", [refund("re_1", "1.00")], elsewhere))

    with pytest.raises(MalformedResponse, match="off the API"):
        client.get_payment(PAYMENT_ID)
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    "bad_id", ["", "tr_", "re_4qqhO89gsT", "tr_abc/../../refunds", "tr_abc?x=1", "TR_abc", None]
)
def test_an_invalid_payment_id_is_refused_before_any_call(rsps, client, bad_id):
    with pytest.raises(ValueError, match="payment_id"):
        client.get_payment(bad_id)
    assert len(rsps.calls) == 0


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "title", "field", "error_type"),
    [
        (400, "Bad Request", None, ValidationFailed),
        (401, "Unauthorized Request", None, AuthError),
        (404, "Not Found", None, NotFound),
        (410, "Gone", None, NotFound),
        (422, "Unprocessable Entity", "amount.value", ValidationFailed),
        (500, "Internal Server Error", None, Unavailable),
        (503, "Service Unavailable", None, Unavailable),
    ],
)
def test_error_answers_are_typed(rsps, client, status, title, field, error_type):
    detail = f"Something about the request ({status})"
    body = error_body(status, title, detail, field)
    rsps.get(PAYMENT_URL, json=body, status=status, content_type=HAL)

    with pytest.raises(error_type) as caught:
        client.get_payment(PAYMENT_ID)

    error = caught.value
    assert (error.status, error.title, error.detail, error.field) == (status, title, detail, field)
    assert error.endpoint == f"GET payments/{PAYMENT_ID}"
    assert f"HTTP {status}" in str(error) and detail in str(error)
    assert KEY not in str(error)
    # A read that met a 5xx is sent again a few times at once; any other error is final.
    assert len(rsps.calls) == (1 + READ_RETRIES if status >= 500 else 1)


def test_422_from_create_names_the_field(rsps, client):
    body = error_body(422, "Unprocessable Entity", "The webhook URL is invalid", "webhookUrl")
    rsps.post(f"{API}/payments", json=body, status=422, content_type=HAL)

    with pytest.raises(ValidationFailed) as caught:
        create(client)

    assert caught.value.field == "webhookUrl"
    assert "(field webhookUrl)" in str(caught.value)


def test_an_unlisted_client_error_is_the_base_class(rsps, client):
    rsps.get(PAYMENT_URL, json=error_body(403, "Forbidden", "Not allowed"), status=403)

    with pytest.raises(ProviderError) as caught:
        client.get_payment(PAYMENT_ID)

    assert type(caught.value) is ProviderError
    assert caught.value.status == 403


def test_429_carries_retry_after(rsps, client):
    body = error_body(429, "Too Many Requests", "Slow down")
    rsps.get(PAYMENT_URL, json=body, status=429, headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as caught:
        client.get_payment(PAYMENT_ID)

    assert caught.value.retry_after == 30.0
    assert caught.value.status == 429


def test_429_without_retry_after(rsps, client):
    rsps.get(PAYMENT_URL, json=error_body(429, "Too Many Requests", "Slow down"), status=429)

    with pytest.raises(RateLimited) as caught:
        client.get_payment(PAYMENT_ID)

    assert caught.value.retry_after is None


def test_retry_after_as_an_http_date():
    now = datetime(2024, 3, 20, 9, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 20 Mar 2024 09:00:45 GMT", now) == 45.0
    assert parse_retry_after("Wed, 20 Mar 2024 08:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection refused"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
    ],
)
def test_network_failures_are_unavailable(rsps, client, failure):
    rsps.get(PAYMENT_URL, body=failure)

    with pytest.raises(Unavailable) as caught:
        client.get_payment(PAYMENT_ID)

    assert caught.value.status is None
    assert type(failure).__name__ in str(caught.value)
    assert KEY not in str(caught.value)


def test_calls_are_counted_per_endpoint(rsps, client):
    body = paid_body(amountRefunded=amount("4.00"))
    rsps.get(PAYMENT_URL, json=body)
    rsps.get(f"{PAYMENT_URL}/refunds", json=page("refunds", [refund("re_4qqhO89gsT", "4.00")]))

    client.get_payment(PAYMENT_ID)

    assert client.calls == {
        f"GET payments/{PAYMENT_ID}": 1,
        f"GET payments/{PAYMENT_ID}/refunds": 1,
    }


def retrying_client(sleeps: list[float]) -> ProviderClient:
    return ProviderClient(requests.Session(), API, KEY, max_retries=2, sleep=sleeps.append)


@pytest.mark.parametrize(
    "failure", [{"body": requests.ReadTimeout("read timed out")}, {"status": 503}]
)
def test_with_retries_a_create_with_a_key_is_sent_again_with_that_key(rsps, failure):
    same_key = [matchers.header_matcher({"Idempotency-Key": "invoice-42-attempt-1"})]
    rsps.post(f"{API}/payments", match=same_key, **failure)
    rsps.post(f"{API}/payments", json=payment_body(), status=201, match=same_key)
    sleeps: list[float] = []

    payment = create(retrying_client(sleeps), idempotency_key="invoice-42-attempt-1")

    assert payment["id"] == PAYMENT_ID and len(sleeps) == 1


def test_with_retries_a_create_without_a_key_is_not_sent_again(rsps):
    rsps.post(f"{API}/payments", body=requests.ReadTimeout("read timed out"))
    sleeps: list[float] = []

    with pytest.raises(Unavailable) as caught:
        create(retrying_client(sleeps))

    assert caught.value.maybe_applied  # the payment may exist
    assert len(rsps.calls) == 1 and sleeps == []


def test_an_html_error_page_is_unavailable_without_title(rsps, client):
    rsps.get(PAYMENT_URL, body="<html>502 Bad Gateway</html>", status=502)

    with pytest.raises(Unavailable) as caught:
        client.get_payment(PAYMENT_ID)

    assert caught.value.title is None and caught.value.detail is None


def test_a_2xx_body_that_is_not_json_is_malformed(rsps, client):
    rsps.get(PAYMENT_URL, body="<html>Maintenance</html>", status=200, content_type="text/html")

    with pytest.raises(MalformedResponse) as caught:
        client.get_payment(PAYMENT_ID)

    assert caught.value.status == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": {"currency": "EUR", "value": 10.0}},  # a number: money through a float
        {"amount": {"value": "10.00"}},
        {"status": "settled"},
        {"id": None},
        {"createdAt": "yesterday"},
        {"paidAt": "2024-13-45T00:00:00+00:00"},
    ],
)
def test_a_body_the_schema_refuses_is_malformed(rsps, client, changes):
    rsps.get(PAYMENT_URL, json=payment_body(**changes))

    with pytest.raises(MalformedResponse, match="unexpected shape") as caught:
        client.get_payment(PAYMENT_ID)

    assert "Invoice 2024/0042" not in str(caught.value)  # paths only, never values


def test_a_list_without_embedded_items_is_malformed(rsps, client):
    rsps.get(PAYMENT_URL, json=paid_body(amountRefunded=amount("1.00")))
    rsps.get(f"{PAYMENT_URL}/refunds", json={"count": 0, "_links": {}})

    with pytest.raises(MalformedResponse, match="_embedded.refunds"):
        client.get_payment(PAYMENT_ID)


def test_the_api_key_never_reaches_an_error_message(rsps, client):
    # Even a server that echoes the key back does not get it into our logs.
    body = error_body(401, "Unauthorized Request", f"Key {KEY} is not valid")
    rsps.get(PAYMENT_URL, json=body, status=401)

    with pytest.raises(AuthError) as caught:
        client.get_payment(PAYMENT_ID)

    assert KEY not in str(caught.value)
    assert KEY not in caught.value.detail
    assert KEY not in repr(client)
