"""The Teamleader webhook receiver: authenticated by its path token, quick, and
nothing written for a delivery it refuses."""

from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from rq import Queue

from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import RQBackend
from collector.teamleader.models import (
    ConnectionStatus,
    DeliveryStatus,
    SyncStatus,
    TeamleaderConnection,
    TeamleaderSync,
    WebhookDelivery,
)
from tests.support.factories import make_invoice

TOKEN = "t0ken-" + "x" * 38
ACCOUNT = "3afabe9e-52b6-530c-bc5a-22a889638e1e"
INVOICE = "5b16f6ee-e302-0079-901b-50c2c4b5d1b4"


@pytest.fixture
def connection(app):
    row = TeamleaderConnection(
        account_id=ACCOUNT,
        webhook_token=TOKEN,
        status=ConnectionStatus.CONNECTED,
        auto_import=True,
    )
    db.session.add(row)
    db.session.commit()
    return row


def body(kind="invoice.booked", subject_id=INVOICE, account=ACCOUNT):
    return {
        "type": kind,
        "subject": {"type": kind.split(".")[0], "id": subject_id},
        "account": {"type": "account", "id": account},
    }


def written():
    return (
        db.session.scalar(db.select(db.func.count(WebhookDelivery.id))),
        db.session.scalar(db.select(db.func.count(JobRun.id))),
    )


def test_a_delivery_is_stored_and_a_job_queued_on_the_high_queue(client, connection, redis_conn):
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body())

    assert response.status_code == 202
    delivery = db.session.get(WebhookDelivery, response.json["received"])
    assert (delivery.event_type, delivery.subject_type, delivery.subject_id) == (
        "invoice.booked",
        "invoice",
        INVOICE,
    )
    assert delivery.status == DeliveryStatus.RECEIVED
    assert delivery.payload == body()
    run = db.session.scalars(db.select(JobRun)).one()
    assert (run.name, run.queue, run.args) == ("handle_teamleader_delivery", "high", [delivery.id])
    assert Queue("high", connection=redis_conn).job_ids == [run.job_id]


def test_a_delivery_while_redis_is_away_is_stored_and_answered(app, client, connection):
    jobs = app.extensions["jobs"]
    real = jobs.backend
    jobs.backend = RQBackend(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2))
    try:
        response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body())
    finally:
        jobs.backend = real
    assert response.status_code == 202
    delivery = db.session.get(WebhookDelivery, response.json["received"])
    assert delivery.status == DeliveryStatus.RECEIVED
    run = db.session.scalars(db.select(JobRun)).one()
    assert run.args == [delivery.id]
    assert run.status == JobStatus.QUEUED  # recovery hands it over when Redis is back


def test_an_unknown_token_is_a_404_and_writes_nothing(client, connection):
    for token in ("nope", TOKEN[:-1] + "y", "x" * 200):
        response = client.post(f"/webhooks/teamleader/{token}", json=body())
        assert response.status_code == 404
    assert written() == (0, 0)


def test_a_disconnected_connection_no_longer_receives(client, connection):
    connection.status = ConnectionStatus.DISCONNECTED
    db.session.commit()

    assert client.post(f"/webhooks/teamleader/{TOKEN}", json=body()).status_code == 404
    assert written() == (0, 0)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'{"subject": {"type": "invoice", "id": "x"}}',
        b'{"type": "invoice.booked"}',
        b'{"type": "invoice.booked", "subject": {"type": "invoice", "id": 12}}',
        b'{"type": "invoice.booked", "subject": "abc"}',
        b'{"type": 5, "subject": {"type": "invoice", "id": "x"}}',
    ],
)
def test_a_malformed_delivery_is_a_400_and_writes_nothing(client, connection, payload):
    response = client.post(
        f"/webhooks/teamleader/{TOKEN}", data=payload, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json["message"] == "Malformed delivery."
    assert written() == (0, 0)


def test_a_delivery_for_another_account_is_refused(client, connection):
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body(account="other"))

    assert response.status_code == 403
    assert written() == (0, 0)


def test_an_oversized_body_is_refused(client, connection):
    payload = body()
    payload["padding"] = "x" * 70_000

    assert client.post(f"/webhooks/teamleader/{TOKEN}", json=payload).status_code == 413
    assert written() == (0, 0)


def test_other_body_shapes_seen_in_the_wild_are_read(client, connection):
    # Third parties read data.id or id (reference §12); the event name gives the type.
    for payload in (
        {"type": "contact.updated", "data": {"id": "c-1"}},
        {"type": "company.updated", "id": "c-2"},
    ):
        assert client.post(f"/webhooks/teamleader/{TOKEN}", json=payload).status_code == 202
    rows = db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.subject_type, r.subject_id) for r in rows] == [
        ("contact", "c-1"),
        ("company", "c-2"),
    ]


def test_an_event_we_do_not_subscribe_to_is_kept_but_not_acted_on(client, connection):
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body("deal.won"))

    assert response.status_code == 202
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    assert delivery.status == DeliveryStatus.IGNORED
    assert written() == (1, 0)


def test_no_login_and_no_csrf_token_are_needed(client, connection):
    # The app enforces CSRF on forms; Teamleader cannot send a token, the path token stands in.
    response = client.post(
        f"/webhooks/teamleader/{TOKEN}",
        data=b'{"type": "invoice.booked", "subject": {"type": "invoice", "id": "i-1"}}',
        content_type="application/json",
    )
    assert response.status_code == 202


# -- Teamleader's echo of a payment we wrote -------------------------------------------------


def _synced(clock, *, seconds_ago: float = 0, leased: bool = False) -> TeamleaderSync:
    invoice = make_invoice(teamleader_id=INVOICE)
    now = clock.now()
    sync = TeamleaderSync(
        invoice=invoice,
        wanted=1,
        done=0 if leased else 1,
        held=Decimal("0.00"),
        status=SyncStatus.PENDING if leased else SyncStatus.SYNCED,
        synced_at=None if leased else now - timedelta(seconds=seconds_ago),
        lease_until=now + timedelta(seconds=60) if leased else None,
    )
    db.session.add(sync)
    db.session.commit()
    return sync


@pytest.mark.parametrize("kind", ["invoice.paymentRegistered", "invoice.paymentRemoved"])
@pytest.mark.parametrize(("seconds_ago", "leased"), [(0, True), (5, False), (29, False)])
def test_the_echo_of_our_own_push_is_recorded_without_a_job(
    client, connection, redis_conn, clock, kind, seconds_ago, leased
):
    _synced(clock, seconds_ago=seconds_ago, leased=leased)
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body(kind))

    assert response.status_code == 202
    delivery = db.session.get(WebhookDelivery, response.json["received"])
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.processed_at == clock.now()
    assert "echoing a payment we wrote" in delivery.outcome
    assert db.session.scalar(db.select(db.func.count(JobRun.id))) == 0
    assert Queue("high", connection=redis_conn).count == 0


def test_a_payment_event_long_after_our_push_is_read_by_a_job(client, connection, clock):
    """A payment registered by hand in Teamleader, not an echo: it is re-read."""
    _synced(clock, seconds_ago=31)
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body("invoice.paymentRegistered"))

    delivery = db.session.get(WebhookDelivery, response.json["received"])
    assert delivery.status == DeliveryStatus.RECEIVED
    run = db.session.scalars(db.select(JobRun)).one()
    assert (run.name, run.args) == ("handle_teamleader_delivery", [delivery.id])


def test_an_invoice_update_is_never_taken_for_an_echo(client, connection, clock):
    _synced(clock, seconds_ago=1)
    response = client.post(f"/webhooks/teamleader/{TOKEN}", json=body("invoice.updated"))

    delivery = db.session.get(WebhookDelivery, response.json["received"])
    assert delivery.status == DeliveryStatus.RECEIVED
