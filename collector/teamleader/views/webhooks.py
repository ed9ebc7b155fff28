"""Teamleader's webhook receiver, ``/webhooks/teamleader/<token>``. Teamleader does not
sign its calls (reference §12): the secret token in the path authenticates, and the
body is only a hint that a job re-reads through the API."""

from flask import Blueprint, jsonify, request

from collector.core.errors import Invalid, NotFound
from collector.extensions import csrf
from collector.runtime import inbox
from collector.runtime.views import WEBHOOK_MAX_BODY, json_error
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import notifications
from collector.teamleader.models import DeliveryStatus

bp = Blueprint("teamleader_webhooks", __name__, url_prefix="/webhooks/teamleader")


@bp.post("/<token>")
@csrf.exempt
def receive(token: str):
    """Store the delivery and answer once it is stored; a job on the high queue acts on
    it (the runtime's inbox: one that never started is started by its dispatcher)."""
    if (request.content_length or 0) > WEBHOOK_MAX_BODY:
        return json_error("The body is too large.", 413)
    try:
        body = request.get_json(force=True, silent=True)
        delivery = notifications.receive(token, body)
    except NotFound:
        return json_error("No such webhook.", 404)
    except notifications.Forbidden as exc:
        return json_error(str(exc), 403)
    except Invalid as exc:
        return json_error("Malformed delivery.", 400, exc.errors)
    if delivery.status == DeliveryStatus.RECEIVED:
        inbox.hand_over(teamleader_jobs.DELIVERIES, delivery)
    return jsonify(received=delivery.id), 202
