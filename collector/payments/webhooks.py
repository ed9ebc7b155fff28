"""The payment provider's webhook receiver, ``/webhooks/provider/<token>``. A
Mollie-style provider does not sign its calls: the secret token in the path
authenticates, and the body names a payment id that a job fetches and applies.

The call is stored before it is answered (``payments.notifications``), so an answered
call is never lost: not to a Redis outage, nor to a worker that dies."""

import hmac
import logging
from urllib.parse import parse_qs

from flask import Blueprint, current_app

from collector.extensions import csrf
from collector.payments import checkout, notifications
from collector.payments import jobs as payments_jobs
from collector.payments import setup as payments_setup
from collector.runtime import inbox
from collector.runtime.views import bounded_body, json_error

bp = Blueprint("provider_webhooks", __name__, url_prefix="/webhooks/provider")
log = logging.getLogger(__name__)


@bp.post("/<token>")
@csrf.exempt
def receive(token: str):
    """The provider says payment ``id`` changed. Only the id is used: it is stored, then a
    job fetches the payment and applies what the fetch says. An id that is not ours is
    logged and ignored, with the same answer, so probing learns nothing."""
    expected = payments_setup.webhook_token(current_app)
    # Compared as bytes: compare_digest refuses a str that is not ASCII.
    if not inbox.webhook_token_shape(token) or not hmac.compare_digest(
        token.encode(), expected.encode()
    ):
        return json_error("No such webhook.", 404)
    body = bounded_body()
    if body is None:
        return json_error("The body is too large.", 413)
    # Mollie posts the form ``id=tr_…``; read from the bounded body, not request.form.
    provider_id = parse_qs(body.decode("utf-8", "replace")).get("id", [""])[0]
    if checkout.known(provider_id):
        inbox.hand_over(payments_jobs.PROVIDER, notifications.receive(provider_id))
    else:
        log.warning("provider webhook for an unknown payment id ignored: %.64r", provider_id)
    return "", 200
