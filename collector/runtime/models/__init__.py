"""The runtime's models: one row per background job."""

from collector.runtime.models.job_run import JobRun, JobStatus

__all__ = ["JobRun", "JobStatus"]
