"""The shell of the finance UI: it registers every domain's blueprints, wires the
login, the template filters, the error pages and the security headers."""

from __future__ import annotations

import importlib

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException

from collector.accounts.views import login
from collector.extensions import login_manager
from collector.runtime.views import content_security_policy
from collector.web import errors, filters, i18n

# Where the blueprints live: each domain's views, then the shell's own pages.
VIEWS = (
    "collector.accounts.views",
    "collector.documents.views",
    "collector.teamleader.views",
    "collector.payments.views",
    "collector.direct_debit.views",
    "collector.dunning.views",
    "collector.dunning.hold_views",
    "collector.exact.views",
    "collector.mail.views",
    "collector.portal.views",
    "collector.web.pages",
    "collector.web.health",
)


def blueprints() -> list:
    """Every blueprint, read from the ``BLUEPRINTS`` of the modules in ``VIEWS``."""
    found = []
    for name in VIEWS:
        found.extend(importlib.import_module(name).BLUEPRINTS)
    return found


def register_web(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.session_protection = "strong"
    login_manager.user_loader(login.load_user)

    for bp in blueprints():
        app.register_blueprint(bp)
    filters.register(app)
    i18n.init_app(app)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)


def _http_error(exc: HTTPException):
    if request.path.startswith("/api/"):
        response = jsonify(message=exc.description or exc.name, errors={})
        return response, exc.code
    page = render_template(
        "errors/error.html",
        error=exc,
        title=errors.title(exc),
        description=errors.description(exc),
    )
    return page, exc.code


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    if _strict_transport():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


# A year; not includeSubDomains: the company's other hosts are not ours to pin to https.
HSTS = "max-age=31536000"


def _strict_transport() -> bool:
    """HSTS only in production behind https: the request came over TLS, here or at the
    proxy in front (X-Forwarded-Proto; a forged one only earns a header that browsers
    ignore over plain http), and the public address is https."""
    config = current_app.config
    if config["ENV"] != "production" or not config["PUBLIC_BASE_URL"].startswith("https://"):
        return False
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"
