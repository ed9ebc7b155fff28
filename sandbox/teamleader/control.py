"""The control API under ``/_control/`` — exists only in the emulator, never at Teamleader.

JSON in and out, no OAuth. It lets demos and tests act as a Teamleader user (book an
invoice or credit note, edit a customer, register a payment in the UI: each fires its
webhook), inject faults, read call counters and webhook deliveries, move the clock and
reseed everything. Errors use the same ``errors[].title`` shape as the API.

``/_control/faults`` spoils API answers (latency, 5xx, 429); ``/_control/files/faults``
spoils the next download links ``invoices.download`` / ``creditNotes.download`` issue:
``POST {kind: expired|not_pdf|oversized|foreign_host, count? = 1, bytes? = 25 MiB}`` → 201
with the fault (``bytes`` only matters for ``oversized``); ``GET`` lists, ``DELETE`` clears;
``/_control/reset`` clears both kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, jsonify, request

from . import errors, faults, operations, tokens
from .clock import iso_datetime
from .emulator import current
from .errors import ApiError
from .webhooks import EVENT_TYPES

bp = Blueprint("control", __name__, url_prefix="/_control")
T = TypeVar("T")
TERM_TYPES = ("cash", "end_of_month", "after_invoice_date")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    response = jsonify(exc.body())
    response.status_code = exc.status
    return response


def _body() -> dict:
    if not request.get_data().strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _created(data: object) -> tuple[Response, int]:
    return jsonify({"data": data}), 201


def _optional(body: dict, key: str, parse: Callable[..., T], *args: object) -> T | None:
    return parse(body[key], key, *args) if body.get(key) is not None else None


@bp.get("/")
def summary() -> Response:
    """Account, departments, custom field definitions, payment methods, counts, clock."""
    return jsonify({"data": current().describe()})


@bp.post("/reset")
def reset() -> Response:
    """Regenerate everything: ``{seed?, invoice_count?, contact_count?, company_count?,
    subscription_count?, now?, keep_auth?}``. Clock back to ``now``/CLOCK_START/real time."""
    em, body = current(), _body()
    seed = body.get("seed", em.settings["SEED"])
    errors.as_int(seed, "seed", minimum=0)
    sizes = {}
    for key in ("invoice_count", "contact_count", "company_count", "subscription_count"):
        if body.get(key) is not None:
            sizes[key.upper()] = errors.as_int(body[key], key, minimum=0)
    start = _optional(body, "now", errors.as_datetime) or em.clock_start()
    if start:
        em.clock.set(start)
    else:
        em.clock.reset()
    em.store.reseed(
        seed, em.clock.now(), em.sizes(sizes), em.options(), bool(body.get("keep_auth"))
    )
    em.limiter.reset()
    return jsonify({"data": em.describe()})


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    """Read the clock, or move it: ``{advance_seconds}`` or ``{now}`` (ISO datetime)."""
    em, body = current(), _body()
    if body.get("now") is not None:
        em.clock.set(errors.as_datetime(body["now"], "now"))
    elif body.get("advance_seconds") is not None:
        em.clock.advance(float(errors.as_amount(body["advance_seconds"], "advance_seconds")))
    return jsonify({"data": {"now": iso_datetime(em.clock.now())}})


@bp.route("/quirks", methods=["GET", "POST"])
def quirks() -> Response:
    """Read or choose how this account answers where the reference is unsure:
    ``{partial_credit_lowers_due: bool}`` (reference §7 [?]; default true)."""
    em, body = current(), _body()
    with em.store.lock:
        if "partial_credit_lowers_due" in body:
            value = body["partial_credit_lowers_due"]
            if not isinstance(value, bool):
                raise errors.invalid("partial_credit_lowers_due", "must be true or false")
            em.store.data.partial_credit_lowers_due = value
        return jsonify(
            {"data": {"partial_credit_lowers_due": em.store.data.partial_credit_lowers_due}}
        )


def _term(value: object, field: str) -> dict:
    term = errors.as_object(value, field)
    kind = errors.as_enum(term.get("type"), f"{field}.type", TERM_TYPES)
    return {"type": kind, "days": errors.as_int(term.get("days", 0), f"{field}.days", minimum=0)}


@bp.post("/invoices")
def book_invoice() -> tuple[Response, int]:
    """Book (or with ``draft: true`` draft) an invoice; fires invoice.booked/drafted."""
    body = _body()
    spec = {
        "department_id": _optional(body, "department_id", errors.as_string),
        "customer": _optional(body, "customer", errors.as_reference, ("contact", "company")),
        "amount": _optional(body, "amount", errors.as_amount),
        "invoice_date": _optional(body, "invoice_date", errors.as_date),
        "profile": _optional(body, "profile", errors.as_string),
        "payment_term": _optional(body, "payment_term", _term),
        "draft": bool(body.get("draft")),
    }
    if spec["amount"] is not None and spec["amount"] < 0:
        raise errors.invalid("amount", "amount must not be negative")
    return _created(operations.book_invoice(current(), spec))


@bp.post("/invoices/<ident>/book")
def book_draft(ident: str) -> Response:
    """Book a draft: ``{on?}``; fires invoice.booked."""
    on = _optional(_body(), "on", errors.as_date)
    return jsonify({"data": operations.book_draft(current(), ident, on)})


@bp.patch("/invoices/<ident>")
def update_invoice(ident: str) -> Response:
    """Edit an invoice (see ``operations.update_invoice``); fires invoice.updated."""
    body, changes = _body(), {}
    for key in ("due_on", "on_hold_since"):
        if key in body:
            changes[key] = _optional(body, key, errors.as_date)
    for key in ("purchase_order_number", "note", "profile"):
        if key in body:
            changes[key] = _optional(body, key, errors.as_string)
    if "sent" in body:
        changes["sent"] = bool(body["sent"])
    if body.get("amount") is not None:
        changes["amount"] = errors.as_amount(body["amount"], "amount")
    return jsonify({"data": operations.update_invoice(current(), ident, changes)})


@bp.post("/invoices/<ident>/payments")
def register_payment(ident: str) -> tuple[Response, int]:
    """A payment as registered in the Teamleader UI: ``{amount?, paid_at?,
    payment_method_id?}`` (default: what is due, now); fires invoice.paymentRegistered."""
    em, body = current(), _body()
    with em.store.lock:
        invoice = em.store.data.invoices.get(ident)
        if invoice is None:
            raise errors.invalid("id", "id does not refer to an existing invoice")
        due, currency = invoice["total"]["due"]["amount"], invoice["currency"]
    amount = _optional(body, "amount", errors.as_amount) or due
    paid_at = _optional(body, "paid_at", errors.as_datetime) or em.clock.now()
    method_id = _optional(body, "payment_method_id", errors.as_string)
    return _created(operations.register_payment(em, ident, amount, currency, paid_at, method_id))


@bp.delete("/invoices/<ident>/payments")
def remove_payments(ident: str) -> Response:
    """Remove all payments; fires invoice.paymentRemoved."""
    return jsonify({"data": operations.remove_payments(current(), ident)})


@bp.post("/credit-notes")
def book_credit_note() -> tuple[Response, int]:
    """Credit an invoice: ``{invoice_id, amount?}`` (no amount: in full).

    Fires creditNote.booked.
    """
    body = _body()
    invoice_id = errors.as_string(errors.require(body, "invoice_id"), "invoice_id")
    amount = _optional(body, "amount", errors.as_amount)
    return _created(operations.book_credit_note(current(), invoice_id, amount))


@bp.patch("/<any(contacts, companies):collection>/<ident>")
def update_customer(collection: str, ident: str) -> Response:
    """Edit a contact/company (names, email, invoicing_email, language, iban, bic,
    vat_number); fires contact.updated / company.updated."""
    body = _body()
    for key, value in body.items():
        if value is not None and not isinstance(value, str):
            raise errors.invalid(key, f"{key} must be a string or null")
    kind = "contact" if collection == "contacts" else "company"
    return jsonify({"data": operations.update_customer(current(), kind, ident, body)})


@bp.post("/events")
def fire_event() -> tuple[Response, int]:
    """Fire any webhook event: ``{type, subject: {type, id}}``."""
    body = _body()
    kind = errors.as_enum(body.get("type"), "type", EVENT_TYPES)
    subject = errors.as_object(errors.require(body, "subject"), "subject")
    subject_type = errors.as_string(subject.get("type"), "subject.type")
    subject_id = errors.as_string(subject.get("id"), "subject.id")
    return jsonify({"data": {"deliveries": current().fire(kind, subject_type, subject_id)}}), 202


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def manage_faults() -> Response | tuple[Response, int]:
    """POST ``{kind: latency|error|rate_limit, endpoint?, count?, ms?, status?}``; GET lists;
    DELETE clears. ``endpoint`` is an RPC method name or ``oauth2.access_token``."""
    em = current()
    if request.method == "DELETE":
        with em.store.lock:
            em.store.faults.clear()
        return Response(status=204)
    if request.method == "GET":
        with em.store.lock:
            return jsonify({"data": [dict(f) for f in em.store.faults]})
    body = _body()
    kind = errors.as_enum(body.get("kind"), "kind", faults.KINDS)
    endpoint = _optional(body, "endpoint", errors.as_string)
    count = _optional(body, "count", errors.as_int)
    if count is None and kind != "latency":
        count = 1
    ms = errors.as_int(body.get("ms", 0), "ms", minimum=0)
    status = errors.as_int(body.get("status", 500), "status", minimum=500)
    if status > 599:
        raise errors.invalid("status", "status must be a 5xx code")
    return _created(faults.add(em.store, kind, endpoint, count, ms, status))


@bp.route("/files/faults", methods=["GET", "POST", "DELETE"])
def manage_file_faults() -> Response | tuple[Response, int]:
    """POST ``{kind: expired|not_pdf|oversized|foreign_host, count?, bytes?}``: the next
    ``count`` download links misbehave (see ``files.py``); GET lists; DELETE clears."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.file_faults.clear()
            return Response(status=204)
        if request.method == "GET":
            return jsonify({"data": [dict(f) for f in em.store.file_faults]})
    body = _body()
    kind = errors.as_enum(body.get("kind"), "kind", faults.FILE_KINDS)
    count = errors.as_int(body.get("count", 1), "count")
    size = errors.as_int(body.get("bytes", faults.OVERSIZED_BYTES), "bytes")
    return _created(faults.add_file(em.store, kind, count, size))


@bp.route("/calls", methods=["GET", "DELETE"])
def calls() -> Response:
    """Per-endpoint call counters (``invoices.list``, ``oauth2.access_token``,
    ``files.download``, …); DELETE resets them."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.calls.clear()
            return Response(status=204)
        return jsonify({"data": dict(sorted(em.store.calls.items()))})


@bp.route("/registrations", methods=["GET", "DELETE"])
def registrations() -> Response:
    """Every ``invoices.registerPayment`` the API accepted, in order: ``invoice_id``,
    ``amount`` and ``received_at`` (unix seconds, wall clock, not the emulator's clock);
    DELETE clears the list."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.registrations.clear()
            return Response(status=204)
        return jsonify({"data": [dict(r) for r in em.store.registrations]})


@bp.get("/webhooks")
def webhooks() -> Response:
    """Registrations of every integration."""
    em = current()
    with em.store.lock:
        rows = [
            {"client_id": client, "url": url, "types": sorted(types)}
            for client, hooks in sorted(em.store.webhooks.items())
            for url, types in sorted(hooks.items())
        ]
    return jsonify({"data": rows})


@bp.route("/webhooks/deliveries", methods=["GET", "DELETE"])
def deliveries() -> Response:
    """Delivery log (url, type, payload, status or error). ``?wait=1`` first waits until
    queued events are delivered. DELETE clears the log."""
    em = current()
    if request.method == "GET" and request.args.get("wait"):
        em.webhooks.wait_idle(timeout=2 * em.settings["WEBHOOK_TIMEOUT"] + 1)
    with em.store.lock:
        if request.method == "DELETE":
            em.store.deliveries.clear()
            return Response(status=204)
        return jsonify({"data": [dict(d) for d in em.store.deliveries]})


@bp.post("/revoke")
def revoke() -> Response:
    """Invalidate every code and token, as when the user uninstalls the integration."""
    tokens.revoke_all(current().store)
    return Response(status=204)
