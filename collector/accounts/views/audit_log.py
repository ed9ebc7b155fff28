"""Settings → Audit log (admins only): who did what, newest first, filtered by group of
actions, actor and company-local dates, a page at a time; and the filtered rows as CSV."""

from flask import Blueprint, Response, abort, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from collector.accounts import audit_log, audit_wording
from collector.core.errors import Invalid
from collector.runtime.views import list_args, list_page, protect

bp = protect(Blueprint("audit", __name__, url_prefix="/settings/audit"))

# A target "kind:id" links to the page of that thing.
TARGET_PAGES: dict[str, tuple[str, str | None]] = {
    "invoice": ("invoices.detail", "invoice_id"),
    "customer": ("customers.detail", "customer_id"),
    "profile": ("profiles.edit", "profile_id"),
    "mandate": ("mandates.detail", "mandate_id"),
    "mandate_upload": ("mandates.upload", "upload_id"),
    "collection_run": ("collections.detail", "run_id"),
    "bank_file": ("bank_files.detail", "file_id"),
    "callback_endpoint": ("callbacks.detail", "endpoint_id"),
    "department": ("entities.edit", "department_id"),
    "api_key": ("api_keys.index", None),  # the list: a key has no page of its own
    # The users' pages come with user management; until then a user target is plain text.
    "user": ("users.edit", "user_id"),
}


@bp.before_request
def _admins_only():
    if not current_user.is_admin:
        abort(403, _("Only an admin can read the audit log."))


@bp.get("")
def index():
    return list_page(
        "accounts/settings/audit.html",
        audit_log.search,
        groups=audit_wording.GROUPS,
        describe=audit_wording.describe,
        area=audit_wording.area,
        details_text=audit_wording.details_text,
        target_url=target_url,
        filters={k: v for k, v in list_args().items() if k not in ("before", "after")},
    )


@bp.get("/export.<any(csv):file_format>")
def export(file_format: str):
    try:
        rows = audit_log.rows_for_export(request.args)
    except Invalid:
        abort(400, _("The filter has invalid arguments."))
    body = audit_log.events_csv(rows, audit_wording.header())
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def target_url(target: str) -> str | None:
    """The page of an event's target ("invoice:12"), or None when it has none."""
    kind, _sep, ident = (target or "").partition(":")
    page = TARGET_PAGES.get(kind)
    if page is None or not ident:
        return None
    endpoint, argument = page
    if argument is None:
        return url_for(endpoint)
    if kind != "department":
        if not ident.isdigit():
            return None
        ident = int(ident)
    try:
        return url_for(endpoint, **{argument: ident})
    except BuildError:
        return None
