"""Application factory of the Exact Online emulator."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from . import api, control, oauth
from .emulator import DEFAULTS, EXTENSION, Emulator
from .errors import ExactError
from .faults import GENERIC
from .render import ExactJSONProvider


def create_app(config: dict | None = None) -> Flask:
    """Build an emulator app; ``config`` overrides the defaults listed in the package doc."""
    settings = {**DEFAULTS, **(config or {})}
    app = Flask(__name__, static_folder=None)
    app.json = ExactJSONProvider(app)
    app.config.update(settings)
    app.extensions[EXTENSION] = Emulator(settings)
    for blueprint in (oauth.bp, api.bp, control.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    return app


def _http_error(exc: HTTPException) -> Response:
    response = jsonify(ExactError(exc.code or 500, exc.description or exc.name).body())
    response.status_code = exc.code or 500
    return response


def _server_error(exc: Exception) -> Response:
    # A bug in the emulator should look like Exact's generic 500 to the client, and be logged.
    current_app.logger.exception("Unhandled error in the Exact Online emulator")
    response = jsonify(ExactError(500, GENERIC).body())
    response.status_code = 500
    return response
