"""The webhook receivers (Teamleader's and the payment provider's) under hostile input:
the token is checked before the body is read, a token of the wrong shape is a 404, the
body is bounded even without a Content-Length, and deep JSON nesting is a 400."""

from __future__ import annotations

import io
import json

import pytest

from collector.extensions import db
from collector.payments import setup as payments_setup
from collector.payments.models import ProviderNotification
from collector.runtime.views import WEBHOOK_MAX_BODY
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection, WebhookDelivery
from tests.test_webhooks import ACCOUNT, TOKEN, body, written


@pytest.fixture
def connection(app):
    row = TeamleaderConnection(
        account_id=ACCOUNT, webhook_token=TOKEN, status=ConnectionStatus.CONNECTED
    )
    db.session.add(row)
    db.session.commit()
    return row


class CountingStream(io.BytesIO):
    """A request body that counts the bytes anyone read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:
        count = super().readinto(buffer)
        self.taken += count
        return count

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.taken += len(line)
        return line


def post_stream(client, path: str, data: bytes, *, chunked: bool):
    """POST ``data`` as a stream; ``chunked``: without a Content-Length, as a server hands
    over a chunked body (``wsgi.input_terminated``, as gunicorn and werkzeug set it)."""
    stream = CountingStream(data)
    headers = {"Content-Type": "application/json"}
    extra = {}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        extra["environ_overrides"] = {"wsgi.input_terminated": True}
    else:
        headers["Content-Length"] = str(len(data))
    response = client.post(path, input_stream=stream, headers=headers, **extra)
    return response, stream


def padded(size: int) -> bytes:
    """A well-formed delivery of ``size`` bytes or more: only its size is wrong."""
    return json.dumps({**body(), "padding": "x" * size}).encode()


def test_an_unknown_token_is_refused_before_the_body_is_read(client, connection):
    response, stream = post_stream(
        client, "/webhooks/teamleader/" + "n" * 43, json.dumps(body()).encode(), chunked=False
    )

    assert response.status_code == 404
    assert stream.taken == 0
    assert written() == (0, 0)


def test_a_chunked_body_past_the_limit_is_refused_having_read_only_the_limit(client, connection):
    response, stream = post_stream(
        client, f"/webhooks/teamleader/{TOKEN}", padded(4 * WEBHOOK_MAX_BODY), chunked=True
    )

    assert response.status_code == 413
    assert stream.taken == WEBHOOK_MAX_BODY + 1
    assert written() == (0, 0)


def test_a_chunked_body_within_the_limit_is_taken(client, connection):
    response, _ = post_stream(
        client, f"/webhooks/teamleader/{TOKEN}", json.dumps(body()).encode(), chunked=True
    )

    assert response.status_code == 202
    assert db.session.get(WebhookDelivery, response.json["received"]).payload == body()


@pytest.mark.parametrize("payload", [b"[" * 50_000, b'{"a":' * 12_000])
def test_deeply_nested_json_is_a_400(client, connection, payload):
    response = client.post(
        f"/webhooks/teamleader/{TOKEN}", data=payload, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json["message"] == "Malformed delivery."
    assert written() == (0, 0)


@pytest.mark.parametrize("token", ["tökén", "t%C3%B6k%C3%A9n", "abc%00def", "a b", "a.b"])
@pytest.mark.parametrize("receiver", ["teamleader", "provider"])
def test_a_token_of_the_wrong_shape_is_a_404(client, connection, receiver, token):
    response = client.post(f"/webhooks/{receiver}/{token}", data={"id": "tr_abc"})

    assert response.status_code == 404
    assert written() == (0, 0)


def test_the_provider_webhook_bounds_a_chunked_body(app, client):
    token = payments_setup.webhook_token(app)
    data = b"id=tr_abc&padding=" + b"x" * (2 * WEBHOOK_MAX_BODY)

    stream = CountingStream(data)
    response = client.post(
        f"/webhooks/provider/{token}",
        input_stream=stream,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert stream.taken == WEBHOOK_MAX_BODY + 1
    assert db.session.scalar(db.select(db.func.count(ProviderNotification.id))) == 0


def test_the_provider_webhook_refuses_a_wrong_token_before_reading(app, client):
    stream = CountingStream(b"id=tr_abc")
    response = client.post(
        "/webhooks/provider/" + "0" * 40,
        input_stream=stream,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "9"},
    )

    assert response.status_code == 404
    assert stream.taken == 0
