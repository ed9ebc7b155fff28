"""Housekeeping: keep the job history bounded."""

from datetime import timedelta

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus


def prune_job_runs(keep_days: int = 90) -> int:
    """Delete finished or failed job runs older than ``keep_days``; return how many."""
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(
        db.delete(JobRun).where(
            JobRun.created_at < cutoff,
            JobRun.status.in_([JobStatus.FINISHED, JobStatus.FAILED]),
        )
    )
    db.session.commit()
    return result.rowcount
