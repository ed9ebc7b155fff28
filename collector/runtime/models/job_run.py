"""One row per background job, keyed by its rq job id: progress and outcome.

The UI reads progress from here, so it never needs to ask Redis, and the history
survives Redis being flushed.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"


class JobRun(db.Model):
    job_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128), index=True)
    queue: Mapped[str] = mapped_column(sa.String(32), default="default")
    status: Mapped[JobStatus] = mapped_column(
        enum_type(JobStatus),
        default=JobStatus.QUEUED,
    )
    args: Mapped[list] = mapped_column(sa.JSON, default=list)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # e.g. {"imported": 12}
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    error: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == JobStatus.FINISHED else None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def done(self) -> bool:
        return self.status in (JobStatus.FINISHED, JobStatus.FAILED)

    def __repr__(self) -> str:
        return f"<JobRun {self.name} {self.job_id} {self.status.value}>"
