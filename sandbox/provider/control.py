"""The control API under ``/_control/`` — exists only in the emulator, never at Mollie.

JSON in and out, no auth: it is a test tool. It acts as the payer (``status``, like the
checkout buttons), as the merchant's dashboard (``refund``) and as the payer's bank
(``chargeback``, ``reverse``; ``cancel`` a refund) — each calls the payment's webhook, as
Mollie would — and it sets whether the totals keep what was undone (``totals``), re-sends
webhooks (``{times, concurrent}`` for duplicate-delivery tests), injects faults,
forgets idempotency keys, reads call counters and the delivery log, and resets everything.
Errors use the API's hal+json shape.
"""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, jsonify, render_template_string, request

from . import errors, faults, idempotency, payments, resources, webhooks
from .emulator import Emulator, current

bp = Blueprint("control", __name__, url_prefix="/_control")
STATUSES = ("pending", "paid", "failed", "canceled", "expired")
REFUND_STATUSES = ("pending", "refunded")
# SEPA R-transaction reason codes a bank attaches to a chargeback.
REASONS = {
    "AC01": "Account identifier incorrect",
    "AC04": "Account closed",
    "AC06": "Account blocked",
    "AM04": "Insufficient funds",
    "MD01": "No mandate",
    "MD06": "Refund request by end customer",
    "MS02": "Refusal by debtor",
    "SL01": "Specific service offered by the debtor agent",
}
INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provider sandbox</title></head>
<body><h1>Provider sandbox</h1>
<p>{{ summary.payments|length }} payments, {{ summary.deliveries }} webhook calls.</p>
<table>
  <tr><th>id</th><th>status</th><th>amount</th><th>description</th></tr>
  {% for p in summary.payments %}
  <tr><td><a href="{{ url_for('control.payment', payment_id=p.id) }}">{{ p.id }}</a></td>
      <td>{{ p.status }}</td><td>{{ p.amount.currency }} {{ p.amount.value }}</td>
      <td>{{ p.description }}</td></tr>
  {% endfor %}
</table></body></html>
"""


def _body() -> dict:
    if not request.get_data().strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.ApiError(400, "The request body must be a JSON object.")
    return body


def _data(data: object, status: int = 200) -> tuple[Response, int]:
    return jsonify({"data": data}), status


def _outcome(em: Emulator, payment_id: str, **extra: object) -> tuple[Response, int]:
    """Call the webhook after a change; answer with the payment and the delivery."""
    payment = payments.get(em.store, payment_id)
    delivery = webhooks.send(em, payment)
    rendered = resources.payment(payment, em.mode)
    return _data({**extra, "payment": rendered, "webhook": delivery})


@bp.get("/")
def summary() -> Response | tuple[Response, int] | str:
    """Payments by status, webhook calls, faults; an HTML table for a browser."""
    em = current()
    rendered = [resources.payment(p, em.mode) for p in payments.every(em.store)]
    with em.store.lock:
        deliveries, pending_faults = len(em.store.deliveries), len(em.store.faults)
    data = {
        "mode": em.mode,
        "statuses": dict(Counter(p["status"] for p in rendered)),
        "payments": rendered,
        "deliveries": deliveries,
        "faults": pending_faults,
    }
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return render_template_string(INDEX, summary=data)
    return _data(data)


@bp.post("/reset")
def reset() -> Response:
    """Forget every payment, delivery, fault and call count."""
    current().store.reset()
    return Response(status=204)


@bp.get("/payments")
def payment_list() -> tuple[Response, int]:
    """Every payment as the API renders it, oldest first."""
    em = current()
    return _data([resources.payment(p, em.mode) for p in payments.every(em.store)])


@bp.get("/payments/<payment_id>")
def payment(payment_id: str) -> tuple[Response, int]:
    """One payment with its refunds, chargebacks and webhook calls (the "dashboard")."""
    em = current()
    record = payments.get(em.store, payment_id)
    with em.store.lock:
        calls = [dict(d) for d in em.store.deliveries if d["payment_id"] == payment_id]
    currency = record["currency"]
    return _data(
        {
            "payment": resources.payment(record, em.mode),
            "refunds": [resources.refund(r, currency) for r in record["refunds"]],
            "chargebacks": [resources.chargeback(c, currency) for c in record["chargebacks"]],
            "webhooks": calls,
        }
    )


@bp.post("/payments/<payment_id>/status")
def set_status(payment_id: str) -> tuple[Response, int]:
    """``{status: pending|paid|failed|canceled|expired, method?}``, then the webhook."""
    em, body = current(), _body()
    status = errors.choice(body.get("status"), "status", STATUSES)
    method = errors.optional_string(body, "method", em.settings["PAYMENT_METHOD"])
    before = payments.get(em.store, payment_id)["status"]
    if payments.transition(em.store, payment_id, status, method) is None:
        raise errors.invalid("status", f"A {before} payment cannot become {status}.")
    return _outcome(em, payment_id)


@bp.post("/payments/<payment_id>/refund")
def refund(payment_id: str) -> tuple[Response, int]:
    """``{amount?, status? = refunded}`` (default amount: all that is left), then the webhook."""
    em, body = current(), _body()
    amount = errors.control_amount(body["amount"]) if body.get("amount") is not None else None
    status = errors.choice(body.get("status", "refunded"), "status", REFUND_STATUSES)
    record = payments.refund(em.store, payment_id, amount, status)
    currency = payments.get(em.store, payment_id)["currency"]
    return _outcome(em, payment_id, refund=resources.refund(record, currency))


@bp.post("/payments/<payment_id>/chargeback")
def chargeback(payment_id: str) -> tuple[Response, int]:
    """``{amount?, reason_code? = AM04, reason_description?}``, then the webhook."""
    em, body = current(), _body()
    amount = errors.control_amount(body["amount"]) if body.get("amount") is not None else None
    code = errors.optional_string(body, "reason_code", "AM04")
    description = errors.optional_string(body, "reason_description", REASONS.get(code))
    record = payments.chargeback(em.store, payment_id, amount, code, description)
    currency = payments.get(em.store, payment_id)["currency"]
    return _outcome(em, payment_id, chargeback=resources.chargeback(record, currency))


@bp.post("/chargebacks/<chargeback_id>/reverse")
def reverse(chargeback_id: str) -> tuple[Response, int]:
    """The bank undoes the chargeback (``reversedAt`` set), then the webhook."""
    em = current()
    record = payments.reverse(em.store, chargeback_id)
    currency = payments.get(em.store, record["payment_id"])["currency"]
    rendered = resources.chargeback(record, currency)
    return _outcome(em, record["payment_id"], chargeback=rendered)


@bp.post("/refunds/<refund_id>/cancel")
def cancel_refund(refund_id: str) -> tuple[Response, int]:
    """The merchant cancels a refund not paid out yet, then the webhook."""
    em = current()
    record = payments.cancel_refund(em.store, refund_id)
    currency = payments.get(em.store, record["payment_id"])["currency"]
    return _outcome(em, record["payment_id"], refund=resources.refund(record, currency))


@bp.route("/totals", methods=["GET", "POST"])
def totals() -> tuple[Response, int]:
    """Whether the payment's totals keep what was undone: POST ``{reversed_chargebacks?:
    bool, canceled_refunds?: bool}`` (true: ``amountChargedBack`` still counts reversed
    chargebacks, ``amountRefunded`` cancelled refunds). Mollie does not document which."""
    em, body = current(), _body()
    keys = {
        "reversed_chargebacks": "REVERSED_CHARGEBACKS_IN_TOTAL",
        "canceled_refunds": "CANCELED_REFUNDS_IN_TOTAL",
    }
    with em.store.lock:
        for name, setting in keys.items():
            if name in body:
                if not isinstance(body[name], bool):
                    raise errors.invalid(name, f"{name} must be true or false")
                em.settings[setting] = body[name]
        return _data({name: em.settings[setting] for name, setting in keys.items()})


@bp.post("/payments/<payment_id>/webhook")
def resend(payment_id: str) -> tuple[Response, int]:
    """Call the webhook again: ``{times? = 1, concurrent? = false}``."""
    em, body = current(), _body()
    times = errors.positive_int(body.get("times", 1), "times", webhooks.MAX_TIMES)
    record = payments.get(em.store, payment_id)
    if not record["webhook_url"]:
        raise errors.invalid("webhookUrl", "The payment has no webhook URL.")
    sent = webhooks.send_many(em, record, times, bool(body.get("concurrent")))
    return _data({"deliveries": sent})


@bp.route("/webhooks", methods=["GET", "DELETE"])
def deliveries() -> Response | tuple[Response, int]:
    """The webhook call log (url, status or error, time); DELETE clears it."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.deliveries.clear()
            return Response(status=204)
        return _data([dict(d) for d in em.store.deliveries])


@bp.delete("/idempotency-keys")
def forget_idempotency_keys() -> tuple[Response, int]:
    """Forget every Idempotency-Key, as when their retention has passed."""
    return _data({"forgotten": idempotency.forget(current().store)})


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def manage_faults() -> Response | tuple[Response, int]:
    """POST ``{kind: error|rate_limit|lost|latency, count? = 1, status? = 503, retry_after?,
    ms?}``: the next ``count`` API calls answer ``status`` (error; lost: after doing their
    work) or 429, or (latency) wait ``ms`` milliseconds first; GET lists; DELETE clears."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.faults.clear()
            return Response(status=204)
        if request.method == "GET":
            return _data([dict(f) for f in em.store.faults])
    body = _body()
    kind = errors.choice(body.get("kind"), "kind", faults.KINDS)
    count = errors.positive_int(body.get("count", 1), "count", 10_000)
    status = errors.positive_int(body.get("status", 503), "status", 599)
    if status < 500:
        raise errors.invalid("status", "status must be a 5xx code")
    retry_after = body.get("retry_after")
    if retry_after is not None:
        retry_after = errors.positive_int(retry_after, "retry_after", 3600)
    ms = 0
    if kind == "latency":
        ms = errors.positive_int(body.get("ms"), "ms", faults.MAX_LATENCY_MS)
    return _data(faults.add(em.store, kind, count, status, retry_after, ms), 201)


@bp.route("/calls", methods=["GET", "DELETE"])
def calls() -> Response | tuple[Response, int]:
    """API calls counted by ``METHOD /v2/path-template``; DELETE resets the counts."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.calls.clear()
            return Response(status=204)
        return _data(dict(sorted(em.store.calls.items())))
