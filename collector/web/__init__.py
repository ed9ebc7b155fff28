"""The finance UI: blueprints, login wiring, template filters and error pages."""

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from collector.extensions import db, login_manager
from collector.models import User
from collector.services.errors import Invalid
from collector.web import filters

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def protect(bp: Blueprint) -> Blueprint:
    """Every route of ``bp`` needs a login; changing anything needs the admin role."""

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if request.method not in SAFE_METHODS and not current_user.is_admin:
            abort(403, "Your role (viewer) can look but not change anything.")
        return None

    return bp


def admin_required(view):
    """For pages that exist only to change something (a "new" form): admins only."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, "Your role (viewer) can look but not change anything.")
        return view(*args, **kwargs)

    return wrapped


def saved(form, save) -> bool:
    """Run ``save(form.to_data())``; on a business-rule refusal, roll back and put
    each message on its field (or the first field) and return False."""
    try:
        save(form.to_data())
    except Invalid as exc:
        db.session.rollback()
        first = next(f for f in form if f.name != "csrf_token")
        for name, messages in exc.errors.items():
            field = form[name] if name in form else first  # noqa: SIM401 (Form has no .get)
            field.errors = list(field.errors) + messages
        return False
    return True


def list_args() -> dict[str, str]:
    """The filled-in query arguments but the page: what a page link must carry."""
    return {k: v for k, v in request.args.items() if k != "page" and v.strip()}


def register_web(app: Flask) -> None:
    from collector.web import (
        auth,
        bank_files,
        callbacks,
        collections,
        customers,
        exact,
        home,
        imports,
        integrations,
        invoices,
        job_runs,
        mandates,
        outbox,
        pay,
        problems,
        profiles,
        settings,
        webhooks,
    )

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)

    app.register_blueprint(auth.bp)
    blueprints = (home, profiles, integrations, job_runs, invoices, customers, imports, webhooks)
    for module in (*blueprints, exact, callbacks, problems, settings, outbox, pay):
        app.register_blueprint(module.bp)
    app.register_blueprint(mandates.bp)
    app.register_blueprint(collections.bp)
    app.register_blueprint(bank_files.bp)
    filters.register(app)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)


def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _http_error(exc: HTTPException):
    if request.path.startswith("/api/"):
        response = jsonify(message=exc.description or exc.name, errors={})
        return response, exc.code
    return render_template("errors/error.html", error=exc), exc.code


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    return response


def content_security_policy(*, inline_styles: bool = False, form_targets: str = "") -> str:
    """The app's policy; a view that shows styled email may allow inline styles, one
    whose form redirects elsewhere names the sources in ``form_targets``."""
    # Browsers apply form-action to the redirect after a POST too, so the OAuth
    # hosts we send a "Connect" form on to must be listed.
    oauth_hosts = " ".join(_origin(current_app.config[k]) for k in ("TEAMLEADER_AUTH_URL",))
    targets = f"{oauth_hosts} {form_targets}".strip()
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'self'; img-src 'self' data:; style-src {styles}; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {targets}"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
