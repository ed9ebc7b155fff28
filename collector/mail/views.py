"""The outbox (demo only): the emails the mail sink kept instead of sending, to read back."""

from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l

from collector.mail import sent, text_views, upcoming
from collector.mail import setup as mail_setup
from collector.runtime.views import content_security_policy, list_page, or_404, protect

bp = protect(Blueprint("outbox", __name__, url_prefix="/outbox"))

# A message keeps its kind as a key ("import_summary"); the outbox names it for the reader.
KINDS = {
    "invitation": _l("Invitation"),
    "reminder": _l("Reminder"),
    "import_summary": _l("Import summary"),
    "sync_problem": _l("Teamleader refusal"),
    "exact_failures": _l("Exact Online failures"),
    "provider_refused": _l("Payment provider refusal"),
    "operator_digest": _l("Admins' digest"),
    "user_invitation": _l("Invitation to log in"),
    "password_reset": _l("Password reset"),
}


def kind_label(kind: str) -> str:
    """The reader's name of a message kind; the key itself for one not listed."""
    known = KINDS.get(kind)
    return str(known) if known is not None else kind.replace("_", " ")


@bp.before_request
def _sink_only():
    # With an SMTP server the mail went out and that server's log is the record; what the
    # service sent to customers is then not something to browse here. Only the demo's sink,
    # whose rows are the only delivery there is, gets a screen.
    if not mail_setup.uses_sink(current_app):
        abort(404)


@bp.app_context_processor
def _mail_sink() -> dict:
    return {"mail_sink": mail_setup.uses_sink(current_app)}


@bp.context_processor
def _kind_label() -> dict:
    return {"kind_label": kind_label}


@bp.get("/")
def index():
    kinds = sent.message_kinds()
    return list_page("mail/outbox/index.html", sent.search_messages, kinds=kinds)


@bp.get("/<int:message_id>")
def detail(message_id: int):
    message = or_404(sent.get_message, message_id)
    page = render_template("mail/outbox/detail.html", message=message)
    # The email is shown in a sandboxed srcdoc frame, which inherits this page's policy, and
    # emails are styled inline: allow inline styles here only. Scripts stay off (no
    # allow-scripts, script-src 'self'). The app's after_request keeps a policy a view set.
    policy = content_security_policy(inline_styles=True)
    return page, 200, {"Content-Security-Policy": policy}


BLUEPRINTS = (bp, text_views.bp, upcoming.bp)
