"""rq entry points: thin, they take plain arguments, call one service and
record the outcome on their JobRun (see ``collector.queue.tracked``)."""

from collector.queue import tracked
from collector.services import housekeeping


@tracked
def prune_job_runs(keep_days: int = 90, *, progress) -> str:
    """Delete old job history."""
    progress.total(1)
    deleted = housekeeping.prune_job_runs(keep_days)
    progress.advance(deleted=deleted)
    return f"Deleted {deleted} job runs older than {keep_days} days"
