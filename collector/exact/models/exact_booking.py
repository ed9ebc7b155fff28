"""What became of one document in Exact Online: its sales entry."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class BookingStatus(enum.StrEnum):
    WAITING = "waiting"  # not ready yet (no PDF, not sent): no error, tried again next run
    FAILED = "failed"  # the last attempt failed; tried again next run
    BOOKED = "booked"  # the sales entry exists in Exact


class ExactBooking(db.Model):
    """One per forwarded document. ``entry_id`` is the proof a sales entry exists: Exact has
    no duplicate check (reference §5.6), so nothing is posted for a row that has one."""

    __table_args__ = (sa.Index("ix_exact_booking_status", "status"),)

    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), unique=True
    )
    division: Mapped[int] = mapped_column()
    status: Mapped[BookingStatus] = mapped_column(
        enum_type(BookingStatus), default=BookingStatus.WAITING
    )
    journal: Mapped[str | None] = mapped_column(sa.String(20))
    account_id: Mapped[str | None] = mapped_column(sa.String(36))
    # The Exact document holding the PDF, stored as soon as it exists so a retry reuses it.
    document_id: Mapped[str | None] = mapped_column(sa.String(36))
    attachment_id: Mapped[str | None] = mapped_column(sa.String(36))
    entry_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    entry_number: Mapped[int | None] = mapped_column()
    # Runs in a row that failed, and whether the admins were told.
    failures: Mapped[int] = mapped_column(default=0)
    alerted: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Payment status read back from Exact's receivables.
    paid_in_exact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    invoice = relationship("Invoice", backref=db.backref("exact_booking", uselist=False))

    def __repr__(self) -> str:
        return f"<ExactBooking invoice={self.invoice_id} {self.status.value}>"
