"""The JSON API under /api/v1, authenticated by API key (``Authorization: Bearer``).

Every answer is JSON, errors included: ``{"message": ..., "errors": {field: [...]}}``.
A key may only do what its scopes allow: reading needs ``read``, each write names its own
scope with ``@requires``; a write that names none is refused to every key (fail closed).
"""

from collections.abc import Callable

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException

from collector.accounts import api_keys
from collector.accounts.models.api_key import READ
from collector.core import clock
from collector.core.errors import Conflict, Invalid, NotFound
from collector.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(message: str, status: int, errors: dict | None = None, **extra):
    return jsonify(message=message, errors=errors or {}, **extra), status


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    api_key = api_keys.find_key(key.strip())
    state = api_keys.state_of(api_key, clock.local_today()) if api_key else None
    if state is None:
        return _unauthorized("Unknown API key.")
    if state == api_keys.REVOKED:
        return _unauthorized("This API key was revoked.")
    if state == api_keys.EXPIRED:
        last_day = api_key.expires_on.isoformat()
        return _unauthorized(f"This API key expired: its last day was {last_day}.")
    api_keys.mark_used(api_key)
    g.api_key = api_key
    return _authorize(api_key)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def requires(scope: str) -> Callable:
    """Mark a view that writes as needing ``scope`` on the caller's key."""

    def mark(view):
        view.api_scope = scope
        return view

    return mark


def _authorize(api_key):
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None  # an unknown URL: the 404 handler answers
    default = READ if request.method in SAFE_METHODS else None
    needed = getattr(view, "api_scope", default)
    if needed is None:
        return error("This endpoint is not open to API keys.", 403)
    if not api_key.allows(needed):
        return error(
            f"This API key lacks the scope '{needed}'; create a key that has it.",
            403,
            missing_scope=needed,
        )
    return None


def _unauthorized(message: str):
    response, status = error(message, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="collector"'
    return response, status


def paged(result, schema):
    """The JSON of one page of a list: ``{items, page, per_page, total}``."""
    return jsonify(
        items=schema.dump(result.items, many=True),
        page=result.page,
        per_page=result.per_page,
        total=result.total,
    )


def json_body() -> dict:
    """The request's JSON object, or a 400 with a clear message."""
    if not request.is_json:
        raise BadRequest("Send a JSON body with 'Content-Type: application/json'.")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


@bp.errorhandler(ValidationError)
def _schema_error(exc: ValidationError):
    return error("The request has invalid fields.", 400, exc.messages)


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    db.session.rollback()
    return error(str(exc), 400, exc.errors)


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict):
    return error(str(exc), 409)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound):
    return error(str(exc), 404)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return error(exc.description or exc.name, exc.code)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    # Never a stack trace or an HTML page: log it, answer a plain JSON 500.
    current_app.logger.exception("API error")
    db.session.rollback()
    return error("Internal error; it has been logged.", 500)


from collector.api import (  # noqa: E402,F401  (registers the routes)
    customers,
    imports,  # noqa: E402,F401
    invoices,
    profiles,
)
