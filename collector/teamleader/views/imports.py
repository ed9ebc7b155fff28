"""Imports from Teamleader: the dialog, its progress, the history, resuming and deleting
an import."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from collector.core import clock
from collector.core.errors import Conflict, Invalid
from collector.documents import held_mail
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed_change, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l
from collector.teamleader import TeamleaderError, imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection, ensure_connected
from collector.teamleader.forms import ImportForm
from collector.teamleader.import_preview import ImportPreview, preview_import
from collector.teamleader.models import DocumentImport, ImportSource

bp = protect(Blueprint("imports", __name__, url_prefix="/imports"))
DEFAULT_DAYS = 30

# Who or what started an import, for its history.
SOURCES = {
    ImportSource.MANUAL: lazy_gettext("by hand"),
    ImportSource.API: lazy_gettext("through the API"),
    ImportSource.CLI: lazy_gettext("from the command line"),
    ImportSource.WEBHOOK: lazy_gettext("automatic, on a Teamleader notification"),
    ImportSource.SWEEP: lazy_gettext("automatic, periodic check"),
}
# What an import refuses with, and the reasons and errors it stores, in English.
TEXTS = Wordings(
    _l("Give the first day of the range."),
    _l("Give the last day of the range."),
    _l("The range ends before it starts."),
    _l("Choose a day after %(date)s."),
    _l("The range starts in the future."),
    _l("Import at most %(count)s days at once."),
    _l("Import #%(id)s is %(status)s: only a failed or interrupted import can be resumed."),
    _l("The import is still running; delete it when it has finished."),
    _l("This import was deleted already."),
    # why a document was skipped or failed
    _l("department not chosen for import"),
    _l("not booked (%(status)s)"),
    _l("no longer in Teamleader"),
    _l("booked invoice without an invoice date"),
    _l("booked credit note without a date"),
    _l("no currency on the document"),
    _l("no total on the document"),
    _l("no contact or company on the document"),
    # why an import stopped
    _l("%(reason)s What it imported stays; resume it or delete it."),
    _l("Teamleader failed: %(error)s. What was imported stays; run the import again."),
    _l("The worker running this import stopped."),
    _l(
        "The worker running this job stopped (killed, out of memory or its machine went "
        "away) and it was not run again."
    ),
    _l("The job queue lost this job (Redis was emptied or restarted)."),
)


@bp.route("/", methods=["GET", "POST"])
def index():
    """The dialog: a range is first previewed (what it would mail), then started."""
    form = ImportForm()
    if not form.is_submitted():
        today = clock.local_today()
        form.date_from.data, form.date_to.data = today - timedelta(days=DEFAULT_DAYS), today
    done: list = []
    step = _start if form.step.data == "start" else _preview
    act = TEXTS.refusals(lambda d: done.append(step(d)))
    if form.validate_on_submit() and saved(form, act):
        if isinstance(done[0], DocumentImport):
            flash(_("Import #%(id)s started.", id=done[0].id), "success")
            return redirect(url_for("imports.detail", import_id=done[0].id))
        form.step.data = "start"  # the person has seen what it would mail
        return _index_page(form, done[0])
    form.step.data = "preview"
    return _index_page(form, None)


def _index_page(form: ImportForm, preview: ImportPreview | None):
    automatic = request.args.get("automatic") == "1"
    connection = current_connection()
    return render_template(
        "teamleader/imports/index.html",
        form=form,
        preview=preview,
        history=imports.recent_imports(100, include_automatic=automatic),
        automatic=automatic,
        connection=connection,
        hold_after_days=connection.hold_mail_after_days if connection else 14,
        held=held_mail.held_count(),
        sources=SOURCES,
    ), (400 if form.errors else 200)


def _preview(data: dict) -> ImportPreview:
    imports.validate_range(data["date_from"], data["date_to"], clock.local_today())
    try:
        connection = ensure_connected(current_connection())
        return preview_import(
            teamleader_setup.client(current_app, connection),
            connection,
            data["date_from"],
            data["date_to"],
            today=clock.local_today(),
            mail_old=data["mail_old_documents"],
        )
    except (Conflict, TeamleaderError) as exc:
        message = _(
            "Teamleader could not be read to count what the import would mail: %(error)s",
            error=str(exc),
        )
        raise Invalid({"date_from": [message]}) from exc


def _start(data: dict) -> DocumentImport:
    imp = imports.create_import(
        ImportSource.MANUAL,
        user=current_user,
        date_from=data["date_from"],
        date_to=data["date_to"],
        mail_old_documents=data["mail_old_documents"],
    )
    teamleader_jobs.start_import(imp, current_user)
    return imp


@bp.get("/<int:import_id>")
def detail(import_id: int):
    return _detail_page(db.get_or_404(DocumentImport, import_id))


@bp.post("/<int:import_id>/delete")
def delete(import_id: int):
    imp = db.get_or_404(DocumentImport, import_id)

    @TEXTS.refusals
    def delete_import() -> str:
        imports.delete_import(imp, current_user)
        return _(
            "Import #%(id)s deleted: %(removed)s documents removed, %(kept)s kept because "
            "something happened to them since.",
            id=imp.id,
            removed=imp.deleted_documents,
            kept=imp.kept_documents,
        )

    back = url_for("imports.detail", import_id=imp.id)
    return confirmed_change(delete_import, back, lambda status: _detail_page(imp, status))


@bp.post("/<int:import_id>/resume")
def resume(import_id: int):
    imp = db.get_or_404(DocumentImport, import_id)

    @TEXTS.refusals
    def resume_import() -> str:
        teamleader_jobs.start_import(imports.resume_import(imp), current_user)
        return _("Import #%(id)s resumed: what it imported before is skipped.", id=imp.id)

    back = url_for("imports.detail", import_id=imp.id)
    return confirmed_change(resume_import, back, lambda status: _detail_page(imp, status))


def _detail_page(imp: DocumentImport, status: int = 200):
    page = render_template(
        "teamleader/imports/detail.html",
        imp=imp,
        mail=held_mail.mail_of_import(imp.id),
        confirm=ConfirmForm(),
        resumable=imp.status in imports.RESUMABLE,
        sources=SOURCES,
        reworded=TEXTS,
    )
    return page, status
