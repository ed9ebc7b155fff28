"""Application factory of the payment provider emulator."""

from __future__ import annotations

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from . import api, checkout, control
from .emulator import DEFAULTS, EXTENSION, Emulator
from .errors import ApiError
from .resources import hal


def create_app(config: dict | None = None) -> Flask:
    """Build an emulator app; ``config`` overrides the defaults listed in the package doc."""
    settings = {**DEFAULTS, **(config or {})}
    app = Flask(__name__, static_folder=None)
    app.json.sort_keys = False  # keep Mollie's key order, easier to read side by side
    app.config.update(settings)
    app.extensions[EXTENSION] = Emulator(settings)
    for blueprint in (api.bp, checkout.bp, control.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    return app


def _api_error(exc: ApiError) -> Response:
    response = hal(exc.body(), exc.status)
    response.headers.update(exc.headers)
    return response


def _http_error(exc: HTTPException) -> Response:
    return _api_error(ApiError(exc.code or 500, exc.description or exc.name))


def _server_error(exc: Exception) -> Response:
    # A bug in the emulator should look like a provider 500 to the client, and be logged.
    current_app.logger.exception("Unhandled error in the payment provider emulator")
    return _api_error(ApiError(500, "Internal server error (sandbox)."))
