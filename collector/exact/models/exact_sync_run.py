"""One forwarding run towards Exact Online, for the sync history."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class SyncTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    EVENT = "event"
    MANUAL = "manual"


class ExactSyncRun(db.Model):
    """One forwarding run, for the sync history (kept 7 days)."""

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
