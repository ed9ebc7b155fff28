"""The hosted checkout page: where ``_links.checkout`` sends the payer.

Three buttons (``#pay``, ``#fail``, ``#cancel``) each POST ``action=paid|failed|canceled``.
Only an open payment changes; then the webhook is called (its failure is logged, not
shown) and the browser is sent to the payment's redirectUrl with a 303, as after a real
checkout. A second POST on a finished payment just redirects.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template_string, request

from . import payments, webhooks
from .emulator import current
from .errors import ApiError

bp = Blueprint("checkout", __name__, url_prefix="/checkout")
ACTIONS = ("paid", "failed", "canceled")

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sandbox checkout</title></head>
<body>
<main>
  <h1>Sandbox checkout</h1>
  <p id="description">{{ payment.description }}</p>
  <p id="amount">{{ payment.currency }} {{ "%.2f"|format(payment.amount) }}</p>
  {% if payment.status == "open" %}
    {% for action, label, ident in buttons %}
      <form method="post" action="{{ url_for('checkout.page', payment_id=payment.id) }}">
        <input type="hidden" name="action" value="{{ action }}">
        <button type="submit" id="{{ ident }}">{{ label }}</button>
      </form>
    {% endfor %}
  {% else %}
    <p id="status">This payment is {{ payment.status }}.</p>
    <p><a href="{{ payment.redirect_url }}">Back to the merchant</a></p>
  {% endif %}
</main>
</body>
</html>
"""
BUTTONS = (("paid", "Pay", "pay"), ("failed", "Fail", "fail"), ("canceled", "Cancel", "cancel"))


@bp.get("/<payment_id>")
def page(payment_id: str) -> Response | tuple[str, int]:
    """The page with the payment's amount, description and the three buttons."""
    payment = _payment(payment_id)
    if payment is None:
        return "<!doctype html><h1>Payment not found</h1>", 404
    return render_template_string(PAGE, payment=payment, buttons=BUTTONS)


@bp.post("/<payment_id>")
def decide(payment_id: str) -> Response | tuple[str, int]:
    """Apply the payer's choice, call the webhook, send the browser back to the merchant."""
    em = current()
    action = request.form.get("action")
    if action not in ACTIONS:
        return "<!doctype html><h1>Unknown action</h1>", 400
    payment = _payment(payment_id)
    if payment is None:
        return "<!doctype html><h1>Payment not found</h1>", 404
    method = em.settings["PAYMENT_METHOD"]
    changed = payments.transition(em.store, payment_id, action, method, only_from=("open",))
    if changed is not None:
        webhooks.send(em, changed)
    return redirect(payment["redirect_url"], code=303)


def _payment(payment_id: str) -> dict | None:
    try:
        return payments.get(current().store, payment_id)
    except ApiError:
        return None
