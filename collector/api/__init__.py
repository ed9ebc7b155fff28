"""The JSON API under /api/v1, authenticated by API key (``Authorization: Bearer``).

Every answer is JSON, errors included: ``{"message": ..., "errors": {field: [...]}}``.
"""

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException

from collector.accounts import users
from collector.core.errors import Conflict, Invalid, NotFound
from collector.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(message: str, status: int, errors: dict | None = None):
    return jsonify(message=message, errors=errors or {}), status


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    api_key = users.key_for(key.strip())
    if api_key is None:
        return _unauthorized("Unknown or revoked API key.")
    g.api_key = api_key
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
