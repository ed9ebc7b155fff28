"""Teamleader's webhook receiver, ``/webhooks/teamleader/<token>``. Teamleader does not
sign its calls (reference §12): the secret token in the path authenticates, and the
body is only a hint that a job re-reads through the API."""

from flask import Blueprint, jsonify

from collector.core.errors import Invalid, NotFound
from collector.extensions import csrf
from collector.runtime import inbox
from collector.runtime.views import bounded_body, json_error, json_or_none
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import notifications
from collector.teamleader.models import DeliveryStatus

bp = Blueprint("teamleader_webhooks", __name__, url_prefix="/webhooks/teamleader")


@bp.post("/<token>")
@csrf.exempt
def receive(token: str):
    """Store the delivery and answer once it is stored; a job on the high queue acts on
    it (the runtime's inbox: one that never started is started by its dispatcher). The
    token is checked before a byte of the body is read."""
    try:
        connection = notifications.connection_for_token(token)
    except NotFound:
        return json_error("No such webhook.", 404)
    body = bounded_body()
    if body is None:
        return json_error("The body is too large.", 413)
    try:
        delivery = notifications.store(connection, json_or_none(body))
    except notifications.Forbidden as exc:
        return json_error(str(exc), 403)
    except Invalid as exc:
        return json_error("Malformed delivery.", 400, exc.errors)
    if delivery.status == DeliveryStatus.RECEIVED:
        inbox.hand_over(teamleader_jobs.DELIVERIES, delivery)
    return jsonify(received=delivery.id), 202
