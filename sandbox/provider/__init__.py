"""Payment provider emulator in the shape of Mollie's Payments API v2, plus a hosted
checkout page and a control API.

Amounts are ``{currency, value}`` with the value a string of two decimals; errors are
``application/hal+json`` ``{status, title, detail, field?}``; webhooks POST the form body
``id=tr_…`` and nothing else, so the receiver fetches the payment. Everything lives in
memory behind one lock.

``create_app(config)`` keys (defaults in ``emulator.DEFAULTS``):

=================  ====================================================================
API_KEY            "test_sandbox" — the only key ``Authorization: Bearer`` accepts
PUBLIC_URL         None — base of the links a browser follows (checkout, dashboard);
                   None: the host and prefix the API was called on
EXPIRY_MINUTES     15 — ``expiresAt`` of a new payment (expiry itself: control API only)
IDEMPOTENCY_MINUTES 60 — how long an ``Idempotency-Key`` and its answer are kept
WEBHOOK_TIMEOUT    10 — seconds per webhook POST
PAYMENT_METHOD     "ideal" — the ``method`` a payment gets when paid or failed
ALLOW_LOCAL_WEBHOOKS False — accept a ``webhookUrl`` on localhost or a private address
                   (real Mollie answers 422 "unreachable from Mollie's point of view")
REVERSED_CHARGEBACKS_IN_TOTAL True — ``amountChargedBack`` keeps reversed chargebacks
CANCELED_REFUNDS_IN_TOTAL False — ``amountRefunded`` keeps cancelled refunds
=================  ====================================================================

Routes: ``POST /v2/payments``, ``GET /v2/payments`` (newest first, ``limit``),
``GET /v2/payments/<id>``, ``GET/POST
/v2/payments/<id>/refunds``, ``GET /v2/payments/<id>/chargebacks`` (see ``api.py``); POSTs
honour ``Idempotency-Key`` (see ``idempotency.py``); ``GET/POST /checkout/<id>`` (see
``checkout.py``); ``/_control/…`` (emulator only, see ``control.py``).

Not emulated: automatic expiry, a refund's later progress (it stays ``pending``), other
resources (orders, customers, mandates), real rate limits (inject 429s with
``/_control/faults``).
"""

from .app import create_app

__all__ = ["create_app"]
