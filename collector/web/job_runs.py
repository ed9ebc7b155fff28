"""Background jobs: history, progress (polled by the page), and housekeeping on demand."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from collector.extensions import db
from collector.runtime import jobs as runtime_jobs
from collector.runtime.forms import ConfirmForm
from collector.runtime.models import JobRun
from collector.runtime.views import confirmed, protect

bp = protect(Blueprint("job_runs", __name__, url_prefix="/jobs"))


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
    flash("Housekeeping started.", "success")
    return redirect(url_for("job_runs.show", job_id=run.job_id))
