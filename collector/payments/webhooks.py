"""The payment provider's webhook receiver, ``/webhooks/provider/<token>``. A
Mollie-style provider does not sign its calls: the secret token in the path
authenticates, and the body names a payment id that a job fetches and applies.

The call is stored before it is answered (``payments.notifications``), so an answered
call is never lost: not to a Redis outage, nor to a worker that dies."""

import hmac
import logging

from flask import Blueprint, current_app, request

from collector.extensions import csrf
from collector.payments import checkout, notifications
from collector.payments import jobs as payments_jobs
from collector.payments import setup as payments_setup
from collector.runtime import inbox
from collector.runtime.views import WEBHOOK_MAX_BODY, json_error

bp = Blueprint("provider_webhooks", __name__, url_prefix="/webhooks/provider")
log = logging.getLogger(__name__)


@bp.post("/<token>")
@csrf.exempt
def receive(token: str):
    """The provider says payment ``id`` changed. Only the id is used: it is stored, then a
    job fetches the payment and applies what the fetch says. An id that is not ours is
    logged and ignored, with the same answer, so probing learns nothing."""
    if not hmac.compare_digest(token, payments_setup.webhook_token(current_app)):
        return json_error("No such webhook.", 404)
    if (request.content_length or 0) > WEBHOOK_MAX_BODY:
        return json_error("The body is too large.", 413)
    provider_id = request.form.get("id", "")
    if checkout.known(provider_id):
        inbox.hand_over(payments_jobs.PROVIDER, notifications.receive(provider_id))
    else:
        log.warning("provider webhook for an unknown payment id ignored: %.64r", provider_id)
    return "", 200
