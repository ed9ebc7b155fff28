"""The Payments API under ``/v2``: create and read payments, create and list refunds, list
chargebacks.

Order per request: count the call (``METHOD /v2/path-template``); answer an injected fault
if one is due (or wait, for a latency fault); 401 unless ``Authorization: Bearer
<API_KEY>``; then the view. POSTs honour ``Idempotency-Key`` (see ``idempotency``). A
``lost`` fault lets the view do its work and then answers a 5xx instead, as when a response
is lost on the way back.
"""

from __future__ import annotations

import hmac
import json
import time

from flask import Blueprint, Response, g, request

from . import errors, faults, idempotency, payments, resources
from .emulator import current
from .errors import ApiError

bp = Blueprint("api", __name__, url_prefix="/v2")
DEFAULT_LIMIT = 50  # Mollie's page size unless ``limit`` says otherwise
MAX_LIMIT = 250


@bp.before_request
def _gate() -> None:
    em = current()
    rule = request.url_rule.rule if request.url_rule else request.path
    with em.store.lock:
        em.store.calls[f"{request.method} {rule}"] += 1
    fault = faults.take(em.store)
    if fault is not None and fault["kind"] == "latency":
        time.sleep(fault["ms"] / 1000)  # outside the lock: other calls go on meanwhile
    elif fault is not None and fault["kind"] == "lost":
        g.lost_fault = fault
    elif fault is not None:
        headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] else {}
        raise ApiError(fault["status"], "Injected fault (sandbox).", headers=headers)
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    expected = str(em.settings["API_KEY"])
    if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip(), expected):
        raise ApiError(401, "Missing authentication, or failed to authenticate")


@bp.after_request
def _lose_the_answer(response: Response) -> Response:
    fault = g.pop("lost_fault", None)
    if fault is None:
        return response
    lost = ApiError(fault["status"], "Injected fault (sandbox): the answer was lost.")
    return resources.hal(lost.body(), lost.status)


@bp.post("/payments")
def create_payment() -> Response:
    """Create a payment; the same Idempotency-Key and body answer as the first time."""
    em, body = current(), _json_body()
    fields = errors.payment_request(body, bool(em.settings["ALLOW_LOCAL_WEBHOOKS"]))

    def create() -> dict:
        expiry = int(em.settings["EXPIRY_MINUTES"])
        return resources.payment(payments.create(em.store, fields, expiry), em.mode)

    return _idempotent(em, body, create)


@bp.post("/payments/<payment_id>/refunds")
def create_refund(payment_id: str) -> Response:
    """Refund (part of) a paid payment: ``{amount, description?}``, idempotent like payments.
    Mollie has it ``pending`` at first and pays it out later; the webhook is not called."""
    em, body = current(), _json_body()
    fields = errors.refund_request(body)

    def create() -> dict:
        record = payments.refund(
            em.store,
            payment_id,
            fields["amount"],
            "pending",
            fields["description"],
            fields["currency"],
        )
        return resources.refund(record, fields["currency"])

    return _idempotent(em, body, create)


def _idempotent(em, body: dict, create) -> Response:
    """Answer a create as the first request with its Idempotency-Key was answered, or run
    ``create`` (which renders the new resource) and keep its answer for that key."""
    key = request.headers.get("Idempotency-Key") or None
    request_print = idempotency.fingerprint(request.method, request.path, body)
    with em.store.lock:
        kept = idempotency.replay(em.store, key, request_print)
        if kept is not None:
            return resources.hal(kept[1], kept[0])
        rendered = create()
        minutes = float(em.settings["IDEMPOTENCY_MINUTES"])
        idempotency.remember(em.store, key, request_print, 201, rendered, minutes)
    return resources.hal(rendered, 201)


@bp.get("/payments")
def payment_list() -> Response:
    """Payments, newest first, paged with ``from`` and ``limit`` (what a key check reads)."""
    em = current()
    records = list(reversed(payments.every(em.store)))
    items, following = _window(records)
    body = [resources.payment(p, em.mode) for p in items]
    return resources.hal(resources.page(body, "payments", "api.payment_list", None, following))


@bp.get("/payments/<payment_id>")
def payment(payment_id: str) -> Response:
    """One payment."""
    em = current()
    return resources.hal(resources.payment(payments.get(em.store, payment_id), em.mode))


@bp.get("/payments/<payment_id>/refunds")
def refunds(payment_id: str) -> Response:
    """A payment's refunds, oldest first, paged with ``from`` and ``limit``."""
    record = payments.get(current().store, payment_id)
    items, following = _window(record["refunds"])
    body = [resources.refund(r, record["currency"]) for r in items]
    return resources.hal(resources.page(body, "refunds", "api.refunds", payment_id, following))


@bp.get("/payments/<payment_id>/chargebacks")
def chargebacks(payment_id: str) -> Response:
    """A payment's chargebacks, oldest first, paged with ``from`` and ``limit``."""
    record = payments.get(current().store, payment_id)
    items, following = _window(record["chargebacks"])
    body = [resources.chargeback(c, record["currency"]) for c in items]
    return resources.hal(
        resources.page(body, "chargebacks", "api.chargebacks", payment_id, following)
    )


def _window(records: list[dict]) -> tuple[list[dict], str | None]:
    """The page asked for, and the id the next page starts from (None: last page)."""
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise ApiError(400, "The limit must be a number.", "limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"The limit must be between 1 and {MAX_LIMIT}.", "limit")
    start = 0
    if request.args.get("from"):
        ids = [r["id"] for r in records]
        if request.args["from"] not in ids:
            raise ApiError(400, "The from parameter is not a known id.", "from")
        start = ids.index(request.args["from"])
    window = records[start : start + limit]
    following = records[start + limit]["id"] if len(records) > start + limit else None
    return window, following


def _json_body() -> dict:
    raw = request.get_data(cache=False)
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body
