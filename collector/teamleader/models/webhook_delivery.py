"""A webhook call received from Teamleader, kept as it arrived.

Teamleader documents neither the payload nor a signature (reference §12), so the
raw body is stored first and acted on by a job that re-fetches the subject.
"""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import enum_type
from collector.extensions import db
from collector.runtime.inbox import InboxRow


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"  # nothing to do (automatic import off, a subject we do not hold)
    FAILED = "failed"


class WebhookDelivery(InboxRow, db.Model):
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("teamleader_connection.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(sa.String(64))
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.RECEIVED
    )
    outcome: Mapped[str] = mapped_column(sa.String(500), default="")

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.event_type} {self.subject_id} {self.status.value}>"
