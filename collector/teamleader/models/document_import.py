"""One import of documents from Teamleader: by hand, through the API or CLI, or
automatically (webhook, sweep). Its history row, counts and problems."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class ImportSource(enum.StrEnum):
    MANUAL = "manual"  # the import dialog
    API = "api"
    CLI = "cli"
    WEBHOOK = "webhook"
    SWEEP = "sweep"  # the periodic updated_since sweep


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"  # stopped part-way; what it imported stands, a rerun completes it
    # Its worker stopped mid-way (killed, the machine went away) and was not redone: what
    # it imported stands; it can be resumed or deleted.
    INTERRUPTED = "interrupted"
    DELETED = "deleted"  # its untouched documents were removed afterwards


class DocumentImport(db.Model):
    source: Mapped[ImportSource] = mapped_column(enum_type(ImportSource))
    status: Mapped[ImportStatus] = mapped_column(
        enum_type(ImportStatus), default=ImportStatus.QUEUED
    )
    # A range of document dates (both inclusive), or the Teamleader ids to import.
    date_from: Mapped[date | None] = mapped_column(sa.Date)
    date_to: Mapped[date | None] = mapped_column(sa.Date)
    teamleader_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The person who started it chose to mail overdue and older documents too; otherwise
    # their invitations are held (``documents.held_mail``).
    mail_old_documents: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    job_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job_run.id", ondelete="SET NULL"))
    # {"imported": n, "not_collected": n, "skipped": n, "failed": n,
    #  "customers_created": n, "customers_updated": n}
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Skipped and failed documents with their reason: [{teamleader_id, number, outcome, reason}]
    problems: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Teamleader calls this import made, per endpoint.
    api_calls: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    deleted_documents: Mapped[int | None] = mapped_column()
    kept_documents: Mapped[int | None] = mapped_column()

    user = relationship("User", foreign_keys=[user_id])
    deleted_by = relationship("User", foreign_keys=[deleted_by_id])
    job_run = relationship("JobRun")

    def count(self, name: str) -> int:
        return (self.counts or {}).get(name, 0)

    @property
    def done(self) -> bool:
        return self.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def api_call_total(self) -> int:
        return sum((self.api_calls or {}).values())

    def __repr__(self) -> str:
        return f"<DocumentImport {self.id} {self.source.value} {self.status.value}>"
