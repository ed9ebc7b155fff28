"""Imports from Teamleader: the dialog, its progress, the history, resuming and deleting
an import."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from collector.core import clock
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed_change, protect, saved
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.connection import current_connection
from collector.teamleader.forms import ImportForm
from collector.teamleader.models import DocumentImport, ImportSource

bp = protect(Blueprint("imports", __name__, url_prefix="/imports"))
DEFAULT_DAYS = 30


@bp.route("/", methods=["GET", "POST"])
def index():
    form = ImportForm()
    if not form.is_submitted():
        today = clock.local_today()
        form.date_from.data, form.date_to.data = today - timedelta(days=DEFAULT_DAYS), today
    started: list[DocumentImport] = []
    if form.validate_on_submit() and saved(form, lambda d: started.append(_start(d))):
        flash(f"Import #{started[0].id} started.", "success")
        return redirect(url_for("imports.detail", import_id=started[0].id))
    automatic = request.args.get("automatic") == "1"
    return render_template(
        "teamleader/imports/index.html",
        form=form,
        history=imports.recent_imports(100, include_automatic=automatic),
        automatic=automatic,
        connection=current_connection(),
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

    def delete_import() -> str:
        imports.delete_import(imp, current_user)
        return (
            f"Import #{imp.id} deleted: {imp.deleted_documents} documents removed, "
            f"{imp.kept_documents} kept because something happened to them since."
        )

    back = url_for("imports.detail", import_id=imp.id)
    return confirmed_change(delete_import, back, lambda status: _detail_page(imp, status))


@bp.post("/<int:import_id>/resume")
def resume(import_id: int):
    imp = db.get_or_404(DocumentImport, import_id)

    def resume_import() -> str:
        teamleader_jobs.start_import(imports.resume_import(imp), current_user)
        return f"Import #{imp.id} resumed: what it imported before is skipped."

    back = url_for("imports.detail", import_id=imp.id)
    return confirmed_change(resume_import, back, lambda status: _detail_page(imp, status))


def _detail_page(imp: DocumentImport, status: int = 200):
    page = render_template(
        "teamleader/imports/detail.html",
        imp=imp,
        confirm=ConfirmForm(),
        resumable=imp.status in imports.RESUMABLE,
    )
    return page, status
