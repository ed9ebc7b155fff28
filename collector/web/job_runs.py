"""Background jobs: history, progress (polled by the page), and housekeeping on demand."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from collector.extensions import db
from collector.runtime import jobs as runtime_jobs
from collector.runtime.forms import ConfirmForm
from collector.runtime.models import JobRun
from collector.runtime.views import confirmed, protect
from collector.web import states

bp = protect(Blueprint("job_runs", __name__, url_prefix="/jobs"))

# A run keeps its job's function name ("run_import"); the page says what the job does.
JOB_NAMES = {
    "check_mandate_upload": _l("Check a mandate upload"),
    "check_provider": _l("Check the payment provider"),
    "commit_mandate_upload": _l("Save a mandate upload"),
    "deliver_callbacks": _l("Deliver status callbacks"),
    "deliver_mail": _l("Send emails"),
    "expire_overdue": _l("Mark overdue documents"),
    "fetch_pdfs": _l("Fetch PDFs"),
    "fetch_scheduled_pdfs": _l("Fetch missing PDFs"),
    "forward_to_exact": _l("Book in Exact Online"),
    "handle_provider_webhook": _l("Handle a payment provider notification"),
    "handle_teamleader_delivery": _l("Handle a Teamleader webhook"),
    "lapse_mandates": _l("Lapse unused mandates"),
    "prune_job_runs": _l("Housekeeping"),
    "push_teamleader": _l("Send payment status to Teamleader"),
    "recover_jobs": _l("Recover interrupted jobs"),
    "reread_open_payments": _l("Re-read open online payments"),
    "run_import": _l("Teamleader import"),
    "send_invitations": _l("Send invitations"),
    "send_released": _l("Send held invitations"),
    "send_reminders": _l("Send reminders"),
    "sweep_teamleader": _l("Read changes from Teamleader"),
}


def job_name(name: str) -> str:
    """What the job ``name`` does, in the reader's language (its name for an unknown one)."""
    known = JOB_NAMES.get(name)
    return str(known) if known is not None else name.replace("_", " ").capitalize()


@bp.app_context_processor
def _job_name() -> dict:
    return {"job_name": job_name}


@bp.get("/")
def index():
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.created_at.desc()).limit(100))
    return render_template("job_runs/index.html", runs=runs.all(), confirm=ConfirmForm())


@bp.get("/<job_id>")
def show(job_id: str):
    run = db.first_or_404(db.select(JobRun).filter_by(job_id=job_id))
    return render_template("job_runs/show.html", run=run)


@bp.get("/<job_id>/progress")
def progress(job_id: str):
    run = db.first_or_404(db.select(JobRun).filter_by(job_id=job_id))
    return jsonify(
        job_id=run.job_id,
        name=run.name,
        status=run.status.value,
        # The page's badge, as ``status_badge`` words it (static/app.js).
        status_label=states.label(run.status.value),
        done=run.done,
        percent=run.percent,
        progress_done=run.progress_done,
        progress_total=run.progress_total,
        counts=run.counts,
        message=run.message,
        error=run.error,
    )


@bp.post("/housekeeping")
def housekeeping():
    if not confirmed():
        return redirect(url_for("job_runs.index"))
    run = current_app.extensions["jobs"].enqueue(
        runtime_jobs.prune_job_runs, 90, queue="low", user=current_user
    )
    flash(_("Housekeeping started."), "success")
    return redirect(url_for("job_runs.show", job_id=run.job_id))
