"""Every email the service sends, as a row: what was sent, to whom, and how it went.

With no SMTP host configured (the demo) the row itself is the delivery: a mail
sink the UI can show.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # handed to the SMTP server
    STORED = "stored"  # kept in the demo mail sink instead
    FAILED = "failed"


class MailMessage(db.Model):
    kind: Mapped[str] = mapped_column(sa.String(32))  # e.g. "import_summary", "invitation"
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    # What was attached, for the record: [{filename, mimetype, size}] (not the bytes).
    attachments: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<MailMessage {self.kind} to {self.recipient} {self.status.value}>"
