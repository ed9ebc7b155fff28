"""What became of one document in Exact Online: its sales entry, and the customer's account."""

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

    __tablename__ = "exact_booking"
    __table_args__ = (sa.Index("ix_exact_booking_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
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


class ExactAccount(db.Model):
    """The Exact account a customer was booked on, per administration: found once (by
    e-mail, VAT number) or created, then always used (reference §4, "by stored GUID")."""

    __tablename__ = "exact_account"
    __table_args__ = (sa.UniqueConstraint("customer_id", "division"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    division: Mapped[int] = mapped_column()
    account_id: Mapped[str] = mapped_column(sa.String(36))
    code: Mapped[str | None] = mapped_column(sa.String(18))
    # How it was found: "email", "vat" or "created".
    matched_by: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    EVENT = "event"
    MANUAL = "manual"


class ExactSyncRun(db.Model):
    """One forwarding run, for the sync history (kept 7 days)."""

    __tablename__ = "exact_sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    division: Mapped[int] = mapped_column()
    trigger: Mapped[SyncTrigger] = mapped_column(enum_type(SyncTrigger))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked: Mapped[int] = mapped_column(default=0)
    found: Mapped[int] = mapped_column(default=0)  # already in Exact: linked, not posted
    failed: Mapped[int] = mapped_column(default=0)
    waiting: Mapped[int] = mapped_column(default=0)
    paid: Mapped[int] = mapped_column(default=0)  # marked paid from Exact's receivables
    calls: Mapped[int] = mapped_column(default=0)
    # [{invoice_id, number, reason}] for every document that failed in this run.
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Set when the run itself stopped (no connection, Exact unreachable).
    problem: Mapped[str | None] = mapped_column(sa.String(500))
