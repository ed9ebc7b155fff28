"""Webhook receivers. Teamleader signs nothing (reference §12): the per-connection
token in the path authenticates, and the body is only a hint the job re-checks."""

from flask import Blueprint, current_app, jsonify, request

from collector import jobs
from collector.extensions import csrf
from collector.models import DeliveryStatus
from collector.services import teamleader_events
from collector.services.errors import Invalid, NotFound

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_BODY = 64 * 1024  # a delivery names an event and a record; anything big is not one


@bp.post("/teamleader/<token>")
@csrf.exempt
def teamleader(token: str):
    """Store the delivery and answer at once; a job on the high queue acts on it."""
    if (request.content_length or 0) > MAX_BODY:
        return _error("The body is too large.", 413)
    try:
        body = request.get_json(force=True, silent=True)
        delivery = teamleader_events.receive(token, body)
    except NotFound:
        return _error("No such webhook.", 404)
    except teamleader_events.Forbidden as exc:
        return _error(str(exc), 403)
    except Invalid as exc:
        return _error("Malformed delivery.", 400, exc.errors)
    if delivery.status == DeliveryStatus.RECEIVED:
        current_app.extensions["jobs"].enqueue(
            jobs.handle_teamleader_delivery, delivery.id, queue="high"
        )
    return jsonify(received=delivery.id), 202


def _error(message: str, status: int, errors: dict | None = None):
    return jsonify(message=message, errors=errors or {}), status
