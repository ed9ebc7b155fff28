"""Status callbacks: owed in the state change's transaction, one per active URL, POSTed
signed, retried on the schedule, never twice at once, and never leaking the secret.
Receivers are faked with ``responses`` (unknown calls fail), or a real tiny server."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses
import sqlalchemy as sa
from rq import SimpleWorker
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, NotFound
from collector.core.outbound import OutboundGuard
from collector.documents import callback_endpoints, callbacks
from collector.documents import jobs as documents_jobs
from collector.documents.models import CallbackDelivery, CallbackEndpoint, CallbackStatus
from collector.extensions import db
from collector.runtime import doorbell
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from collector.runtime.queue import QUEUES, bind_job_class
from collector.schedule import SCHEDULE
from tests.support.dns import PUBLIC
from tests.support.factories import make_invoice

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
URL = "https://erp.example/hooks/collector"
SCHEME = "Use an http:// or https:// address."
PUBLIC_ONLY = "Callbacks go to public addresses only: "


@pytest.fixture
def cipher(app):
    return runtime_setup.cipher(app)


@pytest.fixture(autouse=True)
def receivers_dns(dns):
    """The receivers these tests name are public hosts (served through ``responses``)."""
    for name in ("erp.example", "quiet.example", "bi.example", "old.example", "elsewhere.example"):
        dns[name] = [PUBLIC]
    return dns


@pytest.fixture
def erp(app, cipher):
    """An active endpoint and its secret."""
    return callback_endpoints.add_endpoint(URL, "ERP", None, cipher)


def state_change(invoice, **overrides) -> int:
    values = {
        "previous": "BOOKED",
        "state": "PAID",
        "reason": "paid online",
        "actor": "provider",
        "occurred_at": NOW,
    }
    count = callbacks.queue_state_change(invoice, **{**values, **overrides})
    db.session.commit()
    return count


def owed_delivery() -> CallbackDelivery:
    state_change(make_invoice())
    return db.session.scalars(db.select(CallbackDelivery)).one()


def reload(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def deliver(row, cipher, at=NOW):
    return callbacks.deliver(OutboundGuard().session("test"), cipher, row.id, at)


# -- endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", SCHEME),
        ("javascript:alert(1)", SCHEME),
        ("file:///etc/passwd", SCHEME),
        ("erp.example/hooks", SCHEME),  # no scheme
        ("localhost:8080/hooks", SCHEME),  # no scheme either, though urlsplit sees one
        ("http://user:pw@erp.example/", "Leave the user name and password out of the address."),
        ("https://token@erp.example/", "Leave the user name and password out of the address."),
        ("http:///hooks", "The address needs a host name."),
        ("https://erp.example:99999/", "The port is not a number between 0 and 65535."),
        ("https://erp.example/" + "a" * 481, "At most 500 characters."),
        ("https://erp example/", "An address cannot contain spaces or control characters."),
        ("", "Enter the address to send the callbacks to."),
        ("http://localhost./hooks", f"{PUBLIC_ONLY}localhost. is not a public address (loopback)."),
        ("http://127.0.0.1:8080/in", f"{PUBLIC_ONLY}127.0.0.1 is not a public address (loopback)."),
        ("http://[::1]/", f"{PUBLIC_ONLY}::1 is not a public address (loopback)."),
        ("http://[::7f00:1]/", f"{PUBLIC_ONLY}::7f00:1 is not a public address (reserved)."),
        (
            "https://[64:ff9b::a9fe:a9fe]/",
            f"{PUBLIC_ONLY}64:ff9b::a9fe:a9fe is not a public address (link-local).",
        ),
        (
            "https://[2002:7f00:1::]/",
            f"{PUBLIC_ONLY}2002:7f00:1:: is not a public address (loopback).",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            f"{PUBLIC_ONLY}169.254.169.254 is not a public address (link-local).",
        ),
        (
            "https://metadata.example/",
            f"{PUBLIC_ONLY}metadata.example resolves to 169.254.169.254, "
            "not a public address (link-local).",
        ),
        (
            "https://intranet.example/",
            f"{PUBLIC_ONLY}intranet.example resolves to 127.0.0.1, "
            "not a public address (loopback).",
        ),
    ],
)
def test_a_bad_url_is_refused_and_nothing_stored(app, cipher, dns, url, message):
    dns["metadata.example"], dns["intranet.example"] = ["169.254.169.254"], ["127.0.0.1"]
    with pytest.raises(Invalid) as refused:
        callback_endpoints.add_endpoint(url, "", None, cipher)
    assert refused.value.errors == {"url": [message]}
    db.session.rollback()
    assert db.session.scalars(db.select(CallbackEndpoint)).all() == []


def test_an_endpoint_keeps_its_secret_encrypted(app, cipher, admin):
    endpoint, secret = callback_endpoints.add_endpoint(
        " http://erp.example:8080/in ", " Dev ", admin, cipher
    )
    endpoint = reload(endpoint)
    assert (endpoint.url, endpoint.description, endpoint.active) == (
        "http://erp.example:8080/in",
        "Dev",
        True,
    )
    assert endpoint.created_by_id == admin.id
    assert len(secret) >= 43 and secret not in endpoint.secret_enc
    assert cipher.decrypt(endpoint.secret_enc) == secret


def test_a_500_character_url_is_accepted_and_a_long_description_is_not(app, cipher):
    url = "https://erp.example/" + "a" * 480
    endpoint, _ = callback_endpoints.add_endpoint(url, "", None, cipher)
    assert len(endpoint.url) == 500
    with pytest.raises(Invalid) as refused:
        callback_endpoints.update_endpoint(endpoint, description="x" * 201)
    assert refused.value.errors == {"description": ["At most 200 characters."]}


def test_the_list_counts_deliveries_per_endpoint(app, cipher, erp):
    endpoint, _ = erp
    quiet, _ = callback_endpoints.add_endpoint("https://quiet.example/", "", None, cipher)
    state_change(make_invoice())
    state_change(make_invoice(), previous="PAID", state="BOOKED")
    first = db.session.scalars(db.select(CallbackDelivery).order_by(CallbackDelivery.id)).first()
    first.status = CallbackStatus.DELIVERED
    db.session.commit()

    rows = {row.endpoint.id: row for row in callback_endpoints.list_endpoints()}
    assert (rows[endpoint.id].delivered, rows[endpoint.id].owed, rows[endpoint.id].failed) == (
        1,
        1,
        0,
    )
    assert rows[endpoint.id].last.id > first.id
    assert rows[quiet.id].owed == 2
    assert [d.id for d in callback_endpoints.endpoint_deliveries(endpoint.id, 1)] == [
        rows[endpoint.id].last.id
    ]


# -- queueing ------------------------------------------------------------------------------


def test_a_state_change_is_owed_to_each_active_endpoint_only(app, cipher, erp):
    endpoint, _ = erp
    second, _ = callback_endpoints.add_endpoint("https://bi.example/in", "", None, cipher)
    off, _ = callback_endpoints.add_endpoint("https://old.example/in", "", None, cipher)
    callback_endpoints.update_endpoint(off, active=False)
    invoice = make_invoice(number="2026/0007", amount_due=Decimal("121"))

    count = callbacks.queue_state_change(
        invoice, previous="BOOKED", state="PAID", reason="paid online", actor="u", occurred_at=NOW
    )
    assert count == 2
    assert doorbell.take_wakeups(db.session) == {doorbell.CALLBACKS}
    db.session.commit()

    rows = db.session.scalars(db.select(CallbackDelivery).order_by(CallbackDelivery.id)).all()
    assert [r.endpoint_id for r in rows] == [endpoint.id, second.id]
    assert rows[0].event_id == rows[1].event_id  # one event, told to two receivers
    assert all(r.status == CallbackStatus.PENDING and r.invoice_id == invoice.id for r in rows)
    assert rows[0].payload == {
        "id": rows[0].event_id,
        "type": "invoice.state_changed",
        "created_at": "2026-11-02T09:00:00.000Z",
        "data": {
            "invoice": {
                "id": invoice.id,
                "teamleader_id": invoice.teamleader_id,
                "kind": "invoice",
                "number": "2026/0007",
                "state": "PAID",
                "previous_state": "BOOKED",
                "amount_due": "121.00",
                "currency": "EUR",
                "due_date": invoice.due_date.isoformat(),
            },
            "reason": "paid online",
            "actor": "u",
        },
    }


def test_queueing_leaves_the_commit_to_the_caller(app, erp):
    invoice = make_invoice()
    callbacks.queue_state_change(
        invoice, previous="BOOKED", state="EXPIRED", reason="due", actor="job", occurred_at=NOW
    )
    db.session.rollback()  # the state change failed: nothing is owed
    assert db.session.scalars(db.select(CallbackDelivery)).all() == []
    assert doorbell.take_wakeups(db.session) == set()


def test_without_active_endpoints_nothing_is_owed_and_no_bell_rings(app):
    invoice = make_invoice(due_date=None)
    assert (
        callbacks.queue_state_change(
            invoice, previous="BOOKED", state="PAID", reason="", actor="", occurred_at=NOW
        )
        == 0
    )
    assert doorbell.take_wakeups(db.session) == set()


def test_a_batch_reads_the_endpoints_once_and_owes_every_state_change_to_each(app, cipher, erp):
    endpoint, _ = erp
    reads = []

    def count(conn, cursor, statement, *args):
        reads.extend(["endpoints"] if "FROM callback_endpoint" in statement else [])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with callbacks.endpoints_read_once():
            assert state_change(make_invoice()) == 1
            assert state_change(make_invoice()) == 1
        assert len(reads) == 1  # once for the batch (its commits between)
        second, _ = callback_endpoints.add_endpoint("https://bi.example/in", "", None, cipher)
        assert state_change(make_invoice()) == 2  # after the batch: read again
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    rows = db.session.scalars(db.select(CallbackDelivery).order_by(CallbackDelivery.id)).all()
    assert [r.endpoint_id for r in rows] == [endpoint.id] * 3 + [second.id]
    assert len({r.invoice_id for r in rows}) == 3


def test_a_test_event_is_a_ping_and_needs_an_active_endpoint(app, erp):
    endpoint, _ = erp
    row = callbacks.queue_test_event(endpoint, NOW)
    assert (row.event, row.payload["type"], row.invoice_id) == ("ping", "ping", None)
    callback_endpoints.update_endpoint(endpoint, active=False)
    with pytest.raises(Conflict, match="This callback URL is disabled"):
        callbacks.queue_test_event(endpoint, NOW)


# -- delivering ----------------------------------------------------------------------------


def test_a_delivery_is_signed_and_verifiable(app, cipher, erp):
    _, secret = erp
    row = owed_delivery()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=204)
        delivered = deliver(row, cipher)
        sent = receiver.calls[0].request

    assert delivered.status == CallbackStatus.DELIVERED and delivered.delivered_at == NOW
    body, headers = sent.body, sent.headers
    assert body == json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "collector-callbacks/1"
    assert headers["X-Collector-Event"] == "invoice.state_changed"
    assert headers["X-Collector-Event-Id"] == row.event_id == json.loads(body)["id"]
    assert headers["X-Collector-Timestamp"] == str(int(NOW.timestamp()))
    stamp, signature = headers["X-Collector-Timestamp"], headers["X-Collector-Signature"]
    assert signature.startswith("sha256=") and len(signature) == 7 + 64

    assert callbacks.verify_signature(secret, stamp, body, signature, NOW + timedelta(seconds=5))
    tampered = body.replace(b'"PAID"', b'"BOOKED"')
    assert not callbacks.verify_signature(secret, stamp, tampered, signature, NOW)
    assert not callbacks.verify_signature(secret, stamp, body, signature, NOW + timedelta(hours=1))
    assert not callbacks.verify_signature("another", stamp, body, signature, NOW)
    assert not callbacks.verify_signature(secret, "yesterday", body, signature, NOW)
    assert not callbacks.verify_signature(secret, stamp, body, "sha256=00", NOW)


def test_non_ascii_text_is_sent_and_signed_as_utf8(app, cipher, erp):
    _, secret = erp
    state_change(make_invoice(), reason="betaald via Bancontact — merci")
    row = db.session.scalars(db.select(CallbackDelivery)).one()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=200)
        deliver(row, cipher)
        sent = receiver.calls[0].request
    assert "— merci".encode() in sent.body
    stamp = sent.headers["X-Collector-Timestamp"]
    assert callbacks.verify_signature(
        secret, stamp, sent.body, sent.headers["X-Collector-Signature"], NOW
    )


def test_a_500_is_retried_and_then_delivered_with_a_log(app, cipher, erp):
    row = owed_delivery()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=500, body="database is down")
        receiver.post(URL, status=200, body="ok")
        row = deliver(row, cipher)
        assert (row.status, row.attempts, row.last_status_code) == (
            CallbackStatus.RETRYING,
            1,
            500,
        )
        assert row.last_error == "HTTP 500 Internal Server Error"  # not a word of the body
        assert row.next_attempt_at == NOW + timedelta(seconds=30)
        assert callbacks.due(NOW + timedelta(seconds=29)) == []
        assert callbacks.due(NOW + timedelta(seconds=30)) == [row.id]

        later = NOW + timedelta(seconds=30)
        row = deliver(row, cipher, later)

    row = reload(row)
    assert (row.status, row.attempts, row.delivered_at) == (CallbackStatus.DELIVERED, 2, later)
    assert row.last_error is None and row.next_attempt_at is None and row.lease_until is None
    assert [(e["at"], e["status_code"], e["error"]) for e in row.log] == [
        ("2026-11-02T09:00:00.000Z", 500, "HTTP 500 Internal Server Error"),
        ("2026-11-02T09:00:30.000Z", 200, None),
    ]
    assert all(isinstance(e["ms"], int) and e["ms"] >= 0 for e in row.log)
    assert callbacks.due(later + timedelta(days=2)) == []


def test_a_timeout_or_a_refused_connection_is_retried_on_the_backoff(app, cipher, erp):
    row = owed_delivery()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))
        receiver.post(URL, body=requests.exceptions.ConnectionError("connection refused"))
        row = deliver(row, cipher)
        assert (row.status, row.last_status_code, row.last_error) == (
            CallbackStatus.RETRYING,
            None,
            "No answer within 10 s.",
        )
        assert row.next_attempt_at == NOW + callbacks.BACKOFF[0]

        second = row.next_attempt_at
        row = deliver(row, cipher, second)
    assert row.status == CallbackStatus.RETRYING
    assert row.last_error == "ConnectionError: connection refused"
    assert row.next_attempt_at == second + timedelta(minutes=2)


def test_nothing_of_the_answer_is_kept_but_its_status(app, cipher, erp):
    row = owed_delivery()
    with responses.RequestsMock() as receiver:
        # The body and the reason line are the receiver's words: an internal page, a token.
        receiver.add(responses.POST, URL, status=502, body="<html>secret-token " + "x" * 100_000)
        receiver.post(URL, status=599, body="secret-token")
        row = deliver(row, cipher)
        row = deliver(row, cipher, row.next_attempt_at)
    assert row.log[0]["status_code"] == 502 and row.log[0]["error"] == "HTTP 502 Bad Gateway"
    assert (row.last_status_code, row.last_error) == (599, "HTTP 599")
    assert "secret-token" not in json.dumps(row.log)


def test_after_the_seventh_failure_it_is_given_up(app, cipher, erp):
    row = owed_delivery()
    at, waits = NOW, []
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=503)
        for _ in range(7):
            assert callbacks.due(at) == [row.id]
            row = deliver(row, cipher, at)
            if row.next_attempt_at:
                waits.append(row.next_attempt_at - at)
                at = row.next_attempt_at
        assert len(receiver.calls) == 7

    row = reload(row)
    assert waits == list(callbacks.BACKOFF)
    assert (row.status, row.attempts, row.next_attempt_at) == (CallbackStatus.FAILED, 7, None)
    assert len(row.log) == 7
    assert callbacks.due(at + timedelta(days=30)) == []
    assert [d.id for d in callback_endpoints.failed_deliveries(10)] == [row.id]


def test_a_redirect_is_not_followed(app, cipher, erp):
    row = owed_delivery()
    with responses.RequestsMock() as receiver:
        # Following it would call an unknown URL, which fails this test.
        receiver.post(URL, status=302, headers={"Location": "https://elsewhere.example/"})
        row = deliver(row, cipher)
        assert len(receiver.calls) == 1
    assert row.status == CallbackStatus.RETRYING and row.last_status_code == 302
    assert "redirects are not followed" in row.last_error


def test_a_url_now_naming_an_internal_address_is_not_sent(app, cipher, dns, live_receiver):
    url, _, received = live_receiver
    port = url.split(":")[2].split("/")[0]
    dns["rebound.example"] = [PUBLIC]  # public when it was registered…
    callback_endpoints.add_endpoint(f"http://rebound.example:{port}/hooks", "", None, cipher)
    row = owed_delivery()
    dns["rebound.example"] = ["127.0.0.1"]  # …where the receiver listens when it is sent

    row = deliver(row, cipher)
    assert (row.status, row.last_status_code) == (CallbackStatus.RETRYING, None)
    assert row.last_error == (
        "Not sent: rebound.example resolves to 127.0.0.1, not a public address (loopback)."
    )
    assert received == []


def test_only_a_guarded_session_delivers(app, cipher, erp):
    row = owed_delivery()
    with pytest.raises(ValueError, match="OutboundGuard"):
        callbacks.deliver(requests.Session(), cipher, row.id, NOW)
    assert reload(row).attempts == 0


def test_a_delivery_for_a_disabled_endpoint_is_left_as_it_is(app, cipher, erp):
    endpoint, _ = erp
    row = owed_delivery()
    callback_endpoints.update_endpoint(endpoint, active=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as receiver:
        assert callbacks.due(NOW) == []
        assert deliver(row, cipher) is None
        assert len(receiver.calls) == 0
    row = reload(row)
    assert (row.status, row.attempts, row.lease_until) == (CallbackStatus.PENDING, 0, None)

    callback_endpoints.update_endpoint(endpoint, active=True)
    assert callbacks.due(NOW) == [row.id]


def test_a_leased_delivery_waits_for_its_lease_to_run_out(app, cipher, erp):
    row = owed_delivery()
    row.lease_until = NOW + timedelta(minutes=2)  # a worker is sending it, or died doing so
    db.session.commit()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as receiver:
        receiver.post(URL, status=200)
        assert deliver(row, cipher) is None
        assert callbacks.due(NOW + timedelta(minutes=1)) == []
        assert len(receiver.calls) == 0
        after = NOW + timedelta(minutes=2, seconds=1)
        assert callbacks.due(after) == [row.id]
        assert deliver(row, cipher, after).status == CallbackStatus.DELIVERED


@pytest.mark.postgres
def test_two_workers_never_post_one_delivery_twice(app, cipher, erp):
    delivery_id = owed_delivery().id  # read here: the threads do not share our session
    barrier = threading.Barrier(2)
    results, errors = [], []

    def slow_receiver(request):
        time.sleep(0.3)  # both workers are past their claim while the POST is under way
        return 200, {}, "ok"

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                row = callbacks.deliver(OutboundGuard().session("t"), cipher, delivery_id, NOW)
                results.append(row.status if row is not None else None)
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    with responses.RequestsMock() as receiver:
        receiver.add_callback(responses.POST, URL, callback=slow_receiver)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(receiver.calls) == 1

    assert errors == []
    assert sorted(results, key=str) == sorted([CallbackStatus.DELIVERED, None], key=str)
    assert db.session.get(CallbackDelivery, delivery_id).attempts == 1


def test_the_secret_is_never_sent_logged_or_stored(app, cipher, erp, caplog):
    _, secret = erp
    row = owed_delivery()
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=401, body="bad signature")
        receiver.post(URL, body=requests.exceptions.ConnectionError("reset by peer"))
        deliver(row, cipher)
        deliver(row, cipher, NOW + timedelta(minutes=1))
        sent = [call.request for call in receiver.calls]

    row = reload(row)
    assert len(row.log) == 2
    stored = json.dumps([row.log, row.last_error, row.payload, row.event_id])
    assert secret not in stored
    assert secret not in caplog.text
    for request in sent:
        assert secret.encode() not in request.body
        assert all(secret not in value for value in request.headers.values())


def test_the_log_keeps_the_newest_ten_attempts(app, cipher, erp):
    row = owed_delivery()
    row.log = [{"at": f"old {n}", "status_code": 500, "error": "x", "ms": 1} for n in range(10)]
    db.session.commit()
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=200)
        row = deliver(row, cipher)
    assert len(row.log) == 10
    assert row.log[0]["at"] == "old 1" and row.log[-1]["status_code"] == 200


def test_a_rotated_secret_signs_what_is_still_owed(app, cipher, erp):
    endpoint, old = erp
    row = owed_delivery()
    new = callback_endpoints.rotate_secret(endpoint, cipher)
    assert new != old and cipher.decrypt(reload(endpoint).secret_enc) == new
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=200)
        deliver(row, cipher)
        sent = receiver.calls[0].request
    stamp, signature = sent.headers["X-Collector-Timestamp"], sent.headers["X-Collector-Signature"]
    assert callbacks.verify_signature(new, stamp, sent.body, signature, NOW)
    assert not callbacks.verify_signature(old, stamp, sent.body, signature, NOW)


def test_retry_now_gives_a_failed_delivery_one_more_attempt(app, cipher, erp):
    endpoint, _ = erp
    row = owed_delivery()
    row.status, row.attempts = CallbackStatus.FAILED, 7
    db.session.commit()

    row = callbacks.retry_now(row.id, NOW)
    assert (row.status, row.next_attempt_at) == (CallbackStatus.PENDING, NOW)
    assert callbacks.due(NOW) == [row.id]
    with responses.RequestsMock() as receiver:
        receiver.post(URL, status=500)
        row = deliver(row, cipher)
    assert (row.status, row.attempts) == (CallbackStatus.FAILED, 8)  # still hopeless: given up

    callback_endpoints.update_endpoint(endpoint, active=False)
    with pytest.raises(Conflict, match="disabled"):
        callbacks.retry_now(row.id, NOW)
    row.status = CallbackStatus.DELIVERED
    db.session.commit()
    with pytest.raises(Conflict, match="delivered already"):
        callbacks.retry_now(row.id, NOW)
    with pytest.raises(NotFound, match=f"No callback delivery {row.id + 1000}"):
        callbacks.retry_now(row.id + 1000, NOW)


def test_deleting_an_endpoint_deletes_its_deliveries(app, erp):
    endpoint, _ = erp
    owed_delivery()
    callback_endpoints.delete_endpoint(endpoint)
    assert db.session.scalars(db.select(CallbackDelivery)).all() == []
    assert callback_endpoints.list_endpoints() == []


# -- the job, end to end -------------------------------------------------------------------


@pytest.fixture
def live_receiver(app):
    """A real HTTP receiver on a free port that checks each signature it is sent."""
    received, secrets = [], {}

    @Request.application
    def receive(request):
        body = request.get_data()
        ok = callbacks.verify_signature(
            secrets["current"],
            request.headers.get("X-Collector-Timestamp", ""),
            body,
            request.headers.get("X-Collector-Signature", ""),
            utcnow(),
        )
        received.append((ok, request.headers.get("X-Collector-Event"), json.loads(body)))
        return Response("thanks", status=200 if ok else 401)

    server = make_server("127.0.0.1", 0, receive, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", secrets, received
    server.shutdown()
    thread.join(timeout=5)


def test_the_doorbell_job_delivers_through_rq(app, redis_conn, cipher, live_receiver):
    url, secrets, received = live_receiver
    guard = runtime_setup.outbound_guard(app)  # the tests' setting allows 127.0.0.1
    _, secrets["current"] = callback_endpoints.add_endpoint(url, "live", None, cipher, guard)
    invoice = make_invoice()
    redis_conn.flushdb()

    state_change(invoice, occurred_at=utcnow())
    assert sum(redis_conn.llen(f"rq:queue:{q}") for q in QUEUES) == 1  # rung by the commit
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)

    db.session.expire_all()
    [(ok, event, payload)] = received
    assert ok and event == "invoice.state_changed"
    assert payload["data"]["invoice"]["id"] == invoice.id
    row = db.session.scalars(db.select(CallbackDelivery)).one()
    assert (row.status, row.last_status_code, row.attempts) == (CallbackStatus.DELIVERED, 200, 1)
    run = db.session.scalars(db.select(JobRun).filter_by(name="deliver_callbacks")).one()
    assert run.message == "1 delivered, 0 to retry"


def test_the_sweep_runs_every_minute(app):
    [sweep] = [p for p in SCHEDULE if p.func is documents_jobs.deliver_callbacks]
    assert (sweep.queue, sweep.interval) == ("default", 60)
    assert doorbell.DELIVERERS[doorbell.CALLBACKS] is documents_jobs.deliver_callbacks
