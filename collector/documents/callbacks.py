"""Outbound status callbacks (DESIGN §1.10): every state change of a document, POSTed as
signed JSON to each URL an admin registered, through the outbox.

A state change writes one ``CallbackDelivery`` per active endpoint in its own
transaction and rings the doorbell; a job delivers after the commit and a periodic
sweep catches what the doorbell missed. Delivery claims its row with one conditional
UPDATE (a lease), so two workers never POST the same delivery at once; a worker that
dies mid-POST leaves a lease that runs out, so a receiver may see an event twice and
de-duplicates on its id — never lost, at most rarely repeated. The endpoints themselves
are registered and managed in ``documents.callback_endpoints``.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import requests
import sqlalchemy as sa

from collector.core.columns import CENT, utcnow
from collector.core.crypto import TokenCipher
from collector.core.errors import Conflict, NotFound
from collector.core.outbound import OutboundRefused, is_guarded
from collector.documents.models import CallbackDelivery, CallbackEndpoint, CallbackStatus, Invoice
from collector.extensions import db
from collector.runtime import doorbell

STATE_CHANGED = "invoice.state_changed"
PING = "ping"
USER_AGENT = "collector-callbacks/1"
TIMEOUT = 10  # seconds, to connect and for each read
LEASE = timedelta(minutes=2)  # far beyond the timeout: a lease still held means a live worker
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LOG_SIZE = 10
ERROR_CHARS = 200
OPEN = (CallbackStatus.PENDING, CallbackStatus.RETRYING)


@dataclass
class _Endpoints:
    """Inside ``endpoints_read_once``: the active endpoints' ids, once read."""

    ids: tuple[int, ...] | None = None


_batch_endpoints: contextvars.ContextVar[_Endpoints | None] = contextvars.ContextVar(
    "batch_endpoints", default=None
)


# -- queueing ---------------------------------------------------------------------------


def queue_state_change(
    invoice: Invoice,
    *,
    previous: str,
    state: str,
    reason: str,
    actor: str,
    occurred_at: datetime,
) -> int:
    """Owe every active endpoint a callback for this state change, in the caller's
    transaction (not committed here); returns how many were owed."""
    if invoice.id is None:
        db.session.flush()
    data = {
        "invoice": _invoice_facts(invoice, previous=str(previous), state=str(state)),
        "reason": reason,
        "actor": actor,
    }
    return len(_queue(STATE_CHANGED, data, occurred_at, _active_endpoint_ids(), invoice))


def queue_test_event(endpoint: CallbackEndpoint, now: datetime | None = None) -> CallbackDelivery:
    """Owe ``endpoint`` a "ping" event (the "Send a test event" button). Commits."""
    if not endpoint.active:
        raise Conflict("This callback URL is disabled; enable it to send a test event.")
    data = {"message": "A test event from collector: the signature tells it is us."}
    [row] = _queue(PING, data, now or utcnow(), [endpoint.id], None)
    db.session.commit()
    return row


@contextmanager
def endpoints_read_once() -> Iterator[None]:
    """Inside: the active endpoints are read at the first state change and kept for the
    rest (a drain's batch of payments, ten at most): one read a batch, not one a
    payment. An endpoint added or disabled meanwhile counts from the next batch on, as
    if the change had committed a moment later; one deleted meanwhile fails the state
    changes still owed to it (a foreign key), which the drain leaves for its next pass."""
    token = _batch_endpoints.set(_Endpoints())
    try:
        yield
    finally:
        _batch_endpoints.reset(token)


def _active_endpoint_ids() -> tuple[int, ...]:
    batch = _batch_endpoints.get()
    if batch is not None and batch.ids is not None:
        return batch.ids
    query = sa.select(CallbackEndpoint.id).where(CallbackEndpoint.active.is_(True))
    ids = tuple(db.session.scalars(query.order_by(CallbackEndpoint.id)))
    if batch is not None:
        batch.ids = ids
    return ids


def _queue(
    event: str,
    data: dict,
    occurred_at: datetime,
    endpoint_ids: tuple[int, ...] | list[int],
    invoice: Invoice | None,
) -> list[CallbackDelivery]:
    # One event id for all receivers: it names the event, and stays across retries.
    event_id = str(uuid.uuid4())
    payload = {"id": event_id, "type": event, "created_at": _iso(occurred_at), "data": data}
    rows = [
        CallbackDelivery(
            endpoint_id=endpoint_id,
            invoice=invoice,
            event_id=event_id,
            event=event,
            payload=payload,
            status=CallbackStatus.PENDING,
        )
        for endpoint_id in endpoint_ids
    ]
    db.session.add_all(rows)
    if rows:
        doorbell.wake(doorbell.CALLBACKS)
    return rows


def _invoice_facts(invoice: Invoice, *, previous: str, state: str) -> dict:
    return {
        "id": invoice.id,
        "teamleader_id": invoice.teamleader_id,
        "kind": str(invoice.kind),
        "number": invoice.number,
        "state": state,
        "previous_state": previous,
        "amount_due": str(invoice.amount_due.quantize(CENT)),
        "currency": invoice.currency,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
    }


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime refused; use an aware UTC datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- delivering -------------------------------------------------------------------------


def due(now: datetime, limit: int = 200) -> list[int]:
    """Ids of the deliveries that may be sent now, oldest first."""
    query = sa.select(CallbackDelivery.id).where(_deliverable(now))
    return list(db.session.scalars(query.order_by(CallbackDelivery.id).limit(limit)))


def _deliverable(now: datetime):
    active = sa.select(CallbackEndpoint.id).where(CallbackEndpoint.active.is_(True))
    return sa.and_(
        CallbackDelivery.status.in_(OPEN),
        CallbackDelivery.attempt_due(now),
        CallbackDelivery.unleased(now),
        CallbackDelivery.endpoint_id.in_(active),
    )


def deliver(
    session: requests.Session, cipher: TokenCipher, delivery_id: int, now: datetime
) -> CallbackDelivery | None:
    """POST one owed callback if this worker wins its claim; returns the row, or None
    when it was not ours to send (taken, not due, endpoint disabled or deleted).
    ``session`` comes from an ``OutboundGuard``: a URL that now names an internal address
    is a failed attempt, no request made."""
    if not is_guarded(session):
        raise ValueError("status callbacks are sent through an OutboundGuard's session only")
    if not _claim(delivery_id, now):
        return None
    row = db.session.get(CallbackDelivery, delivery_id)
    if row is None:
        return None
    try:
        outgoing = _signed(row, cipher, now)
    except ValueError:
        return _record(row, None, "The signing secret cannot be decrypted with our keys.", 0, now)
    db.session.commit()  # no transaction held open while the receiver answers
    started = time.monotonic()
    status_code, error = _post(session, outgoing)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    row = db.session.get(CallbackDelivery, delivery_id)
    if row is None:  # deleted with its endpoint while we were sending
        return None
    return _record(row, status_code, error, elapsed_ms, now)


def _claim(delivery_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(CallbackDelivery)
        .where(CallbackDelivery.id == delivery_id, _deliverable(now))
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


@dataclass(frozen=True)
class _Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


def _signed(row: CallbackDelivery, cipher: TokenCipher, now: datetime) -> _Outgoing:
    """The request for ``row``, signed now: a retry is signed afresh (new timestamp, the
    endpoint's current secret), so an old signature cannot be replayed."""
    secret = cipher.decrypt(row.endpoint.secret_enc)
    body = encode_body(row.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Collector-Event": row.event,
        "X-Collector-Event-Id": row.event_id,
        "X-Collector-Timestamp": timestamp,
        "X-Collector-Signature": sign(secret, timestamp, body),
    }
    return _Outgoing(row.endpoint.url, body, headers)


def _post(session: requests.Session, outgoing: _Outgoing) -> tuple[int | None, str | None]:
    """(status code, error or None) of one POST; the receiver's faults are answers, not
    exceptions. Nothing of the answer's body is kept: the log is readable by every user."""
    try:
        # stream: only the status matters, and a receiver's huge answer is never read.
        response = session.post(
            outgoing.url,
            data=outgoing.body,
            headers=outgoing.headers,
            timeout=TIMEOUT,
            allow_redirects=False,
            stream=True,
        )
    except OutboundRefused as refused:
        return None, _short(f"Not sent: {refused.reason}")
    except requests.Timeout:
        return None, f"No answer within {TIMEOUT} s."
    except requests.RequestException as exc:
        return None, _short(f"{type(exc).__name__}: {exc}")
    with response:
        return response.status_code, _response_error(response)


def _response_error(response: requests.Response) -> str | None:
    code = response.status_code
    if 200 <= code < 300:
        return None
    if 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed; register the final address."
    # The standard phrase, not the receiver's: its reason line is as much its words as its body.
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _record(
    row: CallbackDelivery, status_code: int | None, error: str | None, ms: int, now: datetime
) -> CallbackDelivery:
    entry = {"at": _iso(now), "status_code": status_code, "error": error, "ms": ms}
    row.log = [*(row.log or []), entry][-LOG_SIZE:]
    row.attempts += 1
    row.last_attempt_at = now
    row.last_status_code = status_code
    row.last_error = error
    row.lease_until = None
    if error is None:
        row.status, row.delivered_at, row.next_attempt_at = CallbackStatus.DELIVERED, now, None
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = CallbackStatus.FAILED, None
    else:
        row.status = CallbackStatus.RETRYING
        row.next_attempt_at = now + BACKOFF[row.attempts - 1]
    db.session.commit()
    return row


def retry_now(delivery_id: int, now: datetime | None = None) -> CallbackDelivery:
    """Send a delivery again at once (an admin's button): one more attempt. Commits."""
    row = db.session.get(CallbackDelivery, delivery_id)
    if row is None:
        raise NotFound(f"No callback delivery {delivery_id}.")
    if row.status == CallbackStatus.DELIVERED:
        raise Conflict("This callback was delivered already.")
    if not row.endpoint.active:
        raise Conflict("Its callback URL is disabled; enable it first.")
    row.status, row.next_attempt_at, row.lease_until = CallbackStatus.PENDING, now or utcnow(), None
    doorbell.wake(doorbell.CALLBACKS)
    db.session.commit()
    return row


def _short(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


# -- the signature ----------------------------------------------------------------------


def encode_body(payload: dict) -> bytes:
    """The exact bytes POSTed and signed: compact JSON, sorted keys, UTF-8."""
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Collector-Signature header: ``sha256=`` + HMAC-SHA256(secret, "{timestamp}.{body}")."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: datetime,
    tolerance: int = 300,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        sent_at = int(str(timestamp), 10)
    except ValueError:
        return False
    if abs(now.timestamp() - sent_at) > tolerance:
        return False  # an old request replayed
    expected = sign(secret, str(timestamp), body)
    return hmac.compare_digest(expected.encode(), (header or "").encode("utf-8", "replace"))
