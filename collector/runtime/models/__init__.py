"""TODO models"""

from collector.runtime.models.job_run import JobRun, JobStatus

__all__ = ["JobRun", "JobStatus"]
