"""Webhook receivers. Neither Teamleader (reference §12) nor a Mollie-style provider
signs its calls: a secret token in the path authenticates, and the body is only a hint
that a job re-checks through the API."""

import hmac
import logging

from flask import Blueprint, current_app, jsonify, request

from collector.core.errors import Invalid, NotFound
from collector.extensions import csrf
from collector.payments import checkout
from collector.payments import jobs as payments_jobs
from collector.payments import setup as payments_setup
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import notifications
from collector.teamleader.models import DeliveryStatus

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # a delivery names an event and a record; anything big is not one


@bp.post("/teamleader/<token>")
@csrf.exempt
def teamleader(token: str):
    """Store the delivery and answer at once; a job on the high queue acts on it."""
    if (request.content_length or 0) > MAX_BODY:
        return _error("The body is too large.", 413)
    try:
        body = request.get_json(force=True, silent=True)
        delivery = notifications.receive(token, body)
    except NotFound:
        return _error("No such webhook.", 404)
    except notifications.Forbidden as exc:
        return _error(str(exc), 403)
    except Invalid as exc:
        return _error("Malformed delivery.", 400, exc.errors)
    if delivery.status == DeliveryStatus.RECEIVED:
        current_app.extensions["jobs"].enqueue(
            teamleader_jobs.handle_teamleader_delivery, delivery.id, queue="high"
        )
    return jsonify(received=delivery.id), 202


@bp.post("/provider/<token>")
@csrf.exempt
def provider(token: str):
    """The payment provider says payment ``id`` changed. Only the id is used: a job
    fetches the payment and applies what the fetch says. An id that is not ours is
    logged and ignored, with the same answer, so probing learns nothing."""
    if not hmac.compare_digest(token, payments_setup.webhook_token(current_app)):
        return _error("No such webhook.", 404)
    if (request.content_length or 0) > MAX_BODY:
        return _error("The body is too large.", 413)
    provider_id = request.form.get("id", "")
    if checkout.known(provider_id):
        current_app.extensions["jobs"].enqueue(
            payments_jobs.handle_provider_webhook, provider_id, queue="high"
        )
    else:
        log.warning("provider webhook for an unknown payment id ignored: %.64r", provider_id)
    return "", 200


def _error(message: str, status: int, errors: dict | None = None):
    return jsonify(message=message, errors=errors or {}), status
