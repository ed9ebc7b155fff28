"""Housekeeping: keep the job history, and what other domains keep only for a while,
bounded."""

from datetime import timedelta

import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus


def prune_older(column, keep_days: int, *where: sa.ColumnElement[bool]) -> int:
    """Delete the rows of ``column``'s table whose ``column`` is older than ``keep_days``
    (and that match ``where``); return how many. Commits."""
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(sa.delete(column.class_).where(column < cutoff, *where))
    db.session.commit()
    return result.rowcount


def prune_job_runs(keep_days: int = 90) -> int:
    """Delete finished or failed job runs older than ``keep_days``; return how many."""
    done = JobRun.status.in_([JobStatus.FINISHED, JobStatus.FAILED])
    return prune_older(JobRun.created_at, keep_days, done)
