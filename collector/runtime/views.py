"""What every blueprint shares: the login and role guards, saving a form through an
operation, the buttons that confirm a change, list pages and their arguments, 404s for
what an operation did not find, PDFs inline and files to download, the content security
policy."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from collector.core.errors import Conflict, Invalid, NotFound
from collector.extensions import db, login_manager
from collector.runtime.forms import ConfirmForm

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A posted form is refused mostly because its CSRF token expired: the page stood open long.
EXPIRED = _l("The form expired; please try again.")
T = TypeVar("T")


def protect(bp: Blueprint) -> Blueprint:
    """Every route of ``bp`` needs a login; changing anything needs the admin role."""

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if request.method not in SAFE_METHODS and not current_user.is_admin:
            abort(403, _("Your role (viewer) can look but not change anything."))
        return None

    return bp


def admin_required(view):
    """For pages that exist only to change something (a "new" form): admins only."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, _("Your role (viewer) can look but not change anything."))
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


def form_change(
    form: FlaskForm, save: Callable[[dict], object], done: Callable[[], T], page: Callable[..., T]
) -> T:
    """A posted form that changes one thing through ``saved``. Saved: ``done()``, which says
    so and redirects. Not valid or refused by a rule (``Invalid``): ``page(400, form)``, the
    errors on its fields. Refused by the state of things (``Conflict``): ``page(409)``, the
    reason flashed. What ``save`` cannot find is a 404."""
    try:
        if form.validate_on_submit() and saved(form, save):
            return done()
    except NotFound as exc:
        abort(404, str(exc))
    except Conflict as exc:
        flash(str(exc), "error")
        return page(409)
    return page(400, form)


def confirmed(form: FlaskForm | None = None, expired: str | LazyString = EXPIRED) -> bool:
    """Whether ``form`` (a bare ``ConfirmForm`` button when not given) was posted back
    valid; when not, ``expired`` is flashed (in the reader's language: the session keeps
    text, not a lazy string)."""
    if (form or ConfirmForm()).validate_on_submit():
        return True
    flash(str(expired), "error")
    return False


def confirmed_change(change: Callable[[], str], back: str, page: Callable[[int], T]):
    """A posted button that changes one thing: ``change()`` does it and says what it did,
    which is flashed on the way ``back`` (a URL). A refusal (``Conflict``) is rolled back
    and its reason shown on ``page(409)``; an expired form goes ``back`` saying so."""
    if not confirmed():
        return redirect(back)
    try:
        done = change()
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return page(409)
    flash(done, "success")
    return redirect(back)


# What names a page rather than the list: a page link sets these itself.
PAGING = ("page", "after", "before")


def list_args() -> dict[str, str]:
    """The filled-in query arguments but the page and a page's position (``after``,
    ``before``): what a page link must carry."""
    return {k: v for k, v in request.args.items() if k not in PAGING and v.strip()}


def list_page(template: str, search: Callable[[Mapping[str, str]], object], **context):
    """A filtered list: ``search(request.args)`` rendered as ``result``, with the arguments
    to refill the filter form (``values``) and for the page links (``query``). Arguments
    the search refuses (``Invalid``) render the form with their ``errors`` and a 400."""
    try:
        result, errors = search(request.args), {}
    except Invalid as exc:
        result, errors = None, exc.errors
    page = render_template(
        template, result=result, errors=errors, values=request.args, query=list_args(), **context
    )
    return page, 400 if errors else 200


def or_404(find: Callable[..., T], *args) -> T:
    """``find(*args)``; the page is a 404 with the message when it raises ``NotFound``."""
    try:
        return find(*args)
    except NotFound as exc:
        abort(404, str(exc))


def content_security_policy(
    *, inline_styles: bool = False, form_targets: str = "", oauth_hosts: bool = True
) -> str:
    """The app's policy; a view that shows styled email may allow inline styles, one
    whose form redirects elsewhere names the sources in ``form_targets``; a public page
    with no "Connect" button leaves out the OAuth hosts (``oauth_hosts=False``)."""
    # Browsers apply form-action to the redirect after a POST too, so the OAuth
    # hosts we send a "Connect" form on to must be listed.
    keys = ("TEAMLEADER_AUTH_URL",) if oauth_hosts else ()
    oauth = " ".join(_origin(current_app.config[k]) for k in keys)
    targets = f"{oauth} {form_targets}".strip()
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'self'; img-src 'self' data:; style-src {styles}; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {targets}"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def pdf_response(content: bytes, filename: str) -> Response:
    """A stored PDF, shown inline; the detail and payment pages may frame it."""
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def download_response(content: bytes | str, filename: str, mimetype: str) -> Response:
    """A file to save rather than show (a pain.008, a CSV template), under ``filename``: a
    name we made, plain ASCII. Never cached: it may be private or change."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# A webhook delivery names an event and a record; anything big is not one.
WEBHOOK_MAX_BODY = 64 * 1024


def bounded_body(limit: int = WEBHOOK_MAX_BODY) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes. At most
    ``limit`` + 1 bytes are read, whether the body has a Content-Length or comes chunked
    (then only its end says how long it is)."""
    if (request.content_length or 0) > limit:
        return None
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def json_or_none(body: bytes) -> object:
    """``body`` read as JSON, or None when it is not JSON. Nesting deep enough to exhaust
    the parser's recursion (``"[" * 50000``) is not JSON we take either."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def json_error(message: str, status: int, errors: dict | None = None):
    """An error answer in the JSON API's shape: ``{message, errors}``."""
    return jsonify(message=message, errors=errors or {}), status
