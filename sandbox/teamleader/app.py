"""Application factory of the Teamleader Focus emulator."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import control, files, oauth, rpc
from .clock import iso_datetime
from .emulator import DEFAULTS, EXTENSION, Emulator


class EmulatorJSONProvider(DefaultJSONProvider):
    """Money as JSON numbers (like the fixtures), dates ISO, keys in record order."""

    sort_keys = False

    @staticmethod
    def default(o: object) -> object:
        """Serialise ``Decimal``, ``datetime`` and ``date`` the way Teamleader does."""
        if isinstance(o, Decimal):
            return int(o) if o.as_tuple().exponent >= 0 else float(o)
        if isinstance(o, datetime):
            return iso_datetime(o)
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(config: dict | None = None) -> Flask:
    """Build an emulator app; ``config`` overrides the defaults listed in the package doc."""
    settings = {**DEFAULTS, **(config or {})}
    app = Flask(__name__, static_folder=None)
    app.json = EmulatorJSONProvider(app)
    app.config.update(settings)
    app.extensions[EXTENSION] = Emulator(settings)
    for blueprint in (oauth.bp, files.bp, control.bp, rpc.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    return app


def _http_error(exc: HTTPException) -> Response:
    response = jsonify({"errors": [{"title": exc.name, "status": exc.code}]})
    response.status_code = exc.code or 500
    return response


def _server_error(exc: Exception) -> Response:
    # A bug in the emulator should look like Teamleader's 500 to the client, and be logged.
    from flask import current_app

    current_app.logger.exception("Unhandled error in the Teamleader emulator")
    response = jsonify({"errors": [{"title": "Internal Server Error", "status": 500}]})
    response.status_code = 500
    return response
