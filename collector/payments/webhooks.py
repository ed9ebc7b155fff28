"""The payment provider's webhook receiver, ``/webhooks/provider/<token>``. A
Mollie-style provider does not sign its calls: the secret token in the path
authenticates, and the body names a payment id that a job fetches and applies."""

import hmac
import logging

from flask import Blueprint, current_app, request

from collector.extensions import csrf
from collector.payments import checkout
from collector.payments import jobs as payments_jobs
from collector.payments import setup as payments_setup
from collector.runtime.views import WEBHOOK_MAX_BODY, json_error

bp = Blueprint("provider_webhooks", __name__, url_prefix="/webhooks/provider")
log = logging.getLogger(__name__)


@bp.post("/<token>")
@csrf.exempt
def receive(token: str):
    """The provider says payment ``id`` changed. Only the id is used: a job fetches the
    payment and applies what the fetch says. An id that is not ours is logged and
    ignored, with the same answer, so probing learns nothing."""
    if not hmac.compare_digest(token, payments_setup.webhook_token(current_app)):
        return json_error("No such webhook.", 404)
    if (request.content_length or 0) > WEBHOOK_MAX_BODY:
        return json_error("The body is too large.", 413)
    provider_id = request.form.get("id", "")
    if checkout.known(provider_id):
        current_app.extensions["jobs"].enqueue(
            payments_jobs.handle_provider_webhook, provider_id, queue="high"
        )
    else:
        log.warning("provider webhook for an unknown payment id ignored: %.64r", provider_id)
    return "", 200
