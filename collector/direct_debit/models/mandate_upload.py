"""An uploaded mandates CSV: checked into a preview, then committed all at once.

The file itself stays in the upload folder under ``file_key`` (its SHA-256) so the
commit reads the very bytes the preview checked, streaming, without holding them.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class MandateUploadStatus(enum.StrEnum):
    CHECKING = "checking"  # the preview is being made
    INVALID = "invalid"  # rows with errors (or an unreadable file): nothing can be stored
    READY = "ready"  # checked, no errors: can be committed
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"  # the check or the commit stopped on an unexpected error


class MandateUpload(db.Model):
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[MandateUploadStatus] = mapped_column(
        enum_type(MandateUploadStatus), default=MandateUploadStatus.CHECKING
    )
    # A problem with the file as a whole (encoding, header, no rows).
    file_error: Mapped[str | None] = mapped_column(sa.String(500))
    rows: Mapped[int] = mapped_column(default=0)
    new_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    # The first problems, each {"row": n, "column": name, "message": text, "level":
    # "error"|"warning"}; the counts say how many there were in all.
    problems: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_count: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    committed_by: Mapped[str | None] = mapped_column(sa.String(128))

    def __repr__(self) -> str:
        return f"<MandateUpload {self.filename} {self.status.value}>"
