"""The runtime's models: one row per background job; what needs a person and the
digests that tell the admins of it."""

from collector.runtime.models.digest_recipient import DigestRecipient
from collector.runtime.models.job_run import JobRun, JobStatus
from collector.runtime.models.operator_alert import OperatorAlert
from collector.runtime.models.operator_digest import OperatorDigest

__all__ = ["DigestRecipient", "JobRun", "JobStatus", "OperatorAlert", "OperatorDigest"]
