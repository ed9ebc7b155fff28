"""The direct debit domain's rq jobs: checking and storing uploaded mandates, and
lapsing mandates left unused.

Thin: each reads its arguments, calls one operation and records the outcome on its
JobRun.
"""

from __future__ import annotations

from flask import current_app

from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict
from collector.direct_debit import mandate_upload, mandates
from collector.extensions import db
from collector.runtime import jobs as runtime_jobs
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import Periodic, Progress, check_actor, tracked


@tracked
def check_mandate_upload(upload_id: int, *, progress: Progress) -> str:
    """Check an uploaded mandates CSV into its preview."""
    store = runtime_setup.document_store(current_app)
    today = mandates.latest_today(utcnow())
    upload = mandate_upload.check(upload_id, store, today=today, progress=progress)
    return mandate_upload.summary(upload)


@tracked
def commit_mandate_upload(upload_id: int, actor: str, *, progress: Progress) -> str:
    """Store a checked upload's new mandates, all or none."""
    progress.say("Checking the file again and storing its mandates…")
    store = runtime_setup.document_store(current_app)
    today = mandates.latest_today(utcnow())
    try:
        upload = mandate_upload.commit(upload_id, store, today=today, actor=check_actor(actor))
    except Conflict as exc:
        return str(exc)  # a second click: the first commit has it, nothing went wrong
    return mandate_upload.summary(upload)


def start_mandate_job(func, upload_id: int, *args, user=None) -> JobRun:
    """Queue the check or the commit of a mandates upload."""
    return current_app.extensions["jobs"].enqueue(func, upload_id, *args, user=user)


@tracked
def lapse_mandates(*, progress: Progress) -> str:
    """The daily run: mandates unused for 36 months lapse."""
    count = mandates.lapse_unused(clock.local_today())
    return f"{count} mandate(s) lapsed"


def _restart_stopped() -> int:
    """Start again the checks and commits of mandate uploads whose job stopped: both are
    safe to redo (a commit is one transaction, stored whole or not at all)."""
    live = db.session.scalars(
        db.select(JobRun).where(
            JobRun.name.in_([check_mandate_upload.job_name, commit_mandate_upload.job_name]),
            JobRun.status.in_([JobStatus.QUEUED, JobStatus.STARTED]),
        )
    ).all()
    checking = {r.args[0] for r in live if r.name == check_mandate_upload.job_name and r.args}
    committing = {r.args[0] for r in live if r.name == commit_mandate_upload.job_name and r.args}
    checks, commits = mandate_upload.stopped(checking, committing, utcnow())
    for upload in checks:
        start_mandate_job(check_mandate_upload, upload.id)
    for upload in commits:
        start_mandate_job(commit_mandate_upload, upload.id, _committer(upload))
    return len(checks) + len(commits)


def _committer(upload) -> str:
    """Who asked for the commit: the actor of its last commit job, else the uploader."""
    runs = db.session.scalars(
        db.select(JobRun)
        .where(JobRun.name == commit_mandate_upload.job_name)
        .order_by(JobRun.id.desc())
        .limit(200)
    )
    return next((r.args[1] for r in runs if r.args[:1] == [upload.id]), upload.actor)


def connect() -> None:
    """Recovery restarts the mandate uploads whose job stopped."""
    runtime_jobs.recover_along("mandate uploads restarted", _restart_stopped)


PERIODIC = (
    # Mandates unused for 36 months lapse (reference §2.3), once a day.
    Periodic(lapse_mandates, "low", cron="20 0 * * *"),
)
