"""Recovery: every ``JobRun`` that is not over ends, or runs again.

A job's own wrapper (``queue.tracked``) records its outcome, but not when its worker is
SIGKILLed, its machine goes away or Redis forgets it. Recovery, on the schedule and when a
worker starts, compares the runs that are not over with what the backend knows:

- rq's own cleanup first (``clean_registries``): a started job whose worker's heartbeat
  expired is run again by its ``Retry`` or moved to the failed registry as abandoned;
- a run whose job is waiting to run again is shown as queued, with why;
- a queued run the backend does not know (Redis was down when it was queued, or lost
  it) is handed over again — the work was never done;
- a started run the backend does not know, or whose job was abandoned, is marked failed
  with the reason, and its domain hears of it (``queue.job_lost``): an import becomes
  "interrupted" and can be resumed;
- a run whose job is over in rq but not here (the database went away as it ended) gets
  rq's outcome.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import operator_alerts, queue
from collector.runtime.models import JobRun, JobStatus

log = logging.getLogger(__name__)

# A run younger than this is left alone: it may be being queued or started right now.
GRACE = timedelta(seconds=60)
# How many times recovery hands a run the backend lost over again before giving up.
MAX_HANDOVERS = 5
BATCH = 1000
REQUEUED = "queued again"  # counted on the run

STOPPED = (
    "The worker running this job stopped (killed, out of memory or its machine went away) "
    "and it was not run again."
)
LOST = "The job queue lost this job (Redis was emptied or restarted)."


def recover(jobs: queue.Jobs, now: datetime | None = None) -> dict[str, int]:
    """Bring every run that is not over in line with its job; return what was done."""
    now = now or utcnow()
    jobs.backend.clean()
    runs = db.session.scalars(
        sa.select(JobRun)
        .where(JobRun.status.in_([JobStatus.QUEUED, JobStatus.STARTED]))
        .where(JobRun.created_at < now - GRACE)
        .order_by(JobRun.id)
        .limit(BATCH)
        # Two recoveries at once (two workers starting) never both hand a run over.
        .with_for_update(skip_locked=True)
    ).all()
    states = jobs.backend.states([run.job_id for run in runs])
    counts = {"requeued": 0, "failed": 0, "waiting": 0, "settled": 0}
    lost = []
    for run in runs:
        outcome = _recover_run(jobs, run, states[run.job_id], now)
        if outcome == "failed":
            lost.append(run)
        if outcome:
            counts[outcome] += 1
    db.session.commit()
    for run in lost:
        queue.job_lost.send(run)
    return counts


def _recover_run(jobs: queue.Jobs, run: JobRun, state: str, now: datetime) -> str | None:
    if state == queue.WAITING:
        if run.status == JobStatus.STARTED:
            # rq's Retry took it back after its worker stopped.
            run.status = JobStatus.QUEUED
            run.message = "Its worker stopped; it runs again shortly."
            return "waiting"
        return None
    if state == queue.RUNNING:
        return None
    if state == queue.FINISHED:
        return _settle(run, JobStatus.FINISHED, None, now)
    if state == queue.FAILED:
        return _settle(run, JobStatus.FAILED, "The job failed; its outcome was not recorded.", now)
    if state == queue.MISSING:
        # Never run, or lost mid-way: every job is safe to run again (``queue.tracked``).
        return _hand_over_again(jobs, run) or _settle(run, JobStatus.FAILED, LOST, now)
    return _settle(run, JobStatus.FAILED, STOPPED, now)


def _hand_over_again(jobs: queue.Jobs, run: JobRun) -> str | None:
    func = queue.job_named(run.name)
    counts = dict(run.counts or {})
    if func is None or counts.get(REQUEUED, 0) >= MAX_HANDOVERS:
        return None
    counts[REQUEUED] = counts.get(REQUEUED, 0) + 1
    run.counts = counts
    run.status = JobStatus.QUEUED
    run.message = "Queued again: the job queue had lost it."
    # Not committed yet: the row stays locked, so the job, if it starts at once, records
    # that it started after this.
    return "requeued" if jobs.submit(run, func) else "waiting"


def _settle(run: JobRun, status: JobStatus, error: str | None, now: datetime) -> str:
    run.status = status
    run.finished_at = now
    if error:
        run.error = error
        log.warning("job %s (%s): %s", run.job_id, run.name, error)
    if status == JobStatus.FAILED:
        operator_alerts.failed_run(run, now)
    return "failed" if status == JobStatus.FAILED else "settled"
