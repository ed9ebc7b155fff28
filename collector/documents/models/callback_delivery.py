"""One outbound status callback owed to an endpoint: the outbox row and its delivery log.

Every state change of a document becomes one row per active endpoint, written in the
same transaction as the change (the outbox), then POSTed with an HMAC-SHA256
signature by a worker, with retries; the rows are the delivery log.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import OutboxRow, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class CallbackStatus(enum.StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry: a sync problem


class CallbackDelivery(OutboxRow, db.Model):
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("callback_endpoint.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    # The receiver's de-duplication key: the same event keeps its id across retries.
    event_id: Mapped[str] = mapped_column(sa.String(36))
    event: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[CallbackStatus] = mapped_column(
        enum_type(CallbackStatus), default=CallbackStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # Each attempt: {at, status_code, error, ms}; the newest ten.
    log: Mapped[list] = mapped_column(sa.JSON, default=list)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    endpoint = relationship("CallbackEndpoint", back_populates="deliveries")
    invoice = relationship("Invoice")

    @property
    def attempt_log(self) -> list[dict]:
        """The log for a page, newest first: each ``at`` (ISO text in the JSON) as an aware
        datetime, so the page shows it in the company's zone and the reader's way."""
        return [
            {**entry, "at": datetime.fromisoformat(entry["at"])}
            for entry in reversed(self.log or [])
        ]

    def __repr__(self) -> str:
        return f"<CallbackDelivery {self.event} → {self.endpoint_id} {self.status.value}>"
