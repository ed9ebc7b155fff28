"""Imports from Teamleader: the dialog, its progress, the history, resuming and deleting
an import."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from collector.core import clock
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed_change, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.connection import current_connection
from collector.teamleader.forms import ImportForm
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
    form = ImportForm()
    if not form.is_submitted():
        today = clock.local_today()
        form.date_from.data, form.date_to.data = today - timedelta(days=DEFAULT_DAYS), today
    started: list[DocumentImport] = []
    start = TEXTS.refusals(lambda d: started.append(_start(d)))
    if form.validate_on_submit() and saved(form, start):
        flash(_("Import #%(id)s started.", id=started[0].id), "success")
        return redirect(url_for("imports.detail", import_id=started[0].id))
    automatic = request.args.get("automatic") == "1"
    return render_template(
        "teamleader/imports/index.html",
        form=form,
        history=imports.recent_imports(100, include_automatic=automatic),
        automatic=automatic,
        connection=current_connection(),
        sources=SOURCES,
    ), (400 if form.errors else 200)


def _start(data: dict) -> DocumentImport:
    imp = imports.create_import(
        ImportSource.MANUAL, user=current_user, date_from=data["date_from"], date_to=data["date_to"]
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
        confirm=ConfirmForm(),
        resumable=imp.status in imports.RESUMABLE,
        sources=SOURCES,
        reworded=TEXTS,
    )
    return page, status
