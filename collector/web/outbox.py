"""The outbox (demo only): the emails the mail sink kept instead of sending, to read back."""

from flask import Blueprint, abort, current_app, render_template, request

from collector import clients
from collector.services import outbox
from collector.services.errors import Invalid, NotFound
from collector.web import list_args, protect

bp = protect(Blueprint("outbox", __name__, url_prefix="/outbox"))

# The detail page's policy: the app's own, but with inline styles. The email is shown in a
# sandboxed srcdoc frame, which inherits this page's policy, and emails are styled inline
# (style="..."); without this they render unstyled. Scripts stay off (the sandbox has no
# allow-scripts, script-src is 'self') and nothing loads from elsewhere (img-src, default-src).
DETAIL_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


@bp.before_request
def _sink_only():
    # With an SMTP server the mail went out and that server's log is the record; what the
    # service sent to customers is then not something to browse here. Only the demo's sink,
    # whose rows are the only delivery there is, gets a screen.
    if clients.mailer(current_app).delivers:
        abort(404)


@bp.app_context_processor
def _mail_sink() -> dict:
    # Every page's nav asks, so this reads the setting rather than building a mailer.
    return {"mail_sink": not current_app.config["MAIL_HOST"]}


@bp.get("/")
def index():
    try:
        result, errors = outbox.search_messages(**outbox.parse_query(request.args)), {}
    except Invalid as exc:
        result, errors = None, exc.errors
    page = render_template(
        "outbox/index.html",
        result=result,
        errors=errors,
        values=request.args,
        query=list_args(),
        kinds=outbox.message_kinds(),
    )
    return page, 400 if errors else 200


@bp.get("/<int:message_id>")
def detail(message_id: int):
    try:
        message = outbox.get_message(message_id)
    except NotFound as exc:
        abort(404, str(exc))
    page = render_template("outbox/detail.html", message=message)
    # The app's after_request only sets the policy when the view has not.
    return page, 200, {"Content-Security-Policy": DETAIL_POLICY}
