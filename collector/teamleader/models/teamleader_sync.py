"""The outbox towards Teamleader: one row per document whose payments Teamleader must show.

A change to a document's payments bumps ``wanted`` in the same transaction as the
change itself; a worker that brings Teamleader in line sets ``done`` to the version it
worked from. Delivering means "make Teamleader's payments match ours": register or
remove what differs from what Teamleader holds — known from the last delivery
(``entries``) when every earlier one recorded its outcome, else read first — so a
redelivery after a crash finds the work done and does nothing: never lost
(``wanted > done`` until it succeeds), never doubled.

One row per document, claimed with one conditional UPDATE (``lease_until``), so two
workers never push the same document at once; a worker that dies leaves a lease that
runs out, and the sweep takes the row again.
"""

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, OutboxRow, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class SyncStatus(enum.StrEnum):
    PENDING = "pending"  # to deliver now
    RETRYING = "retrying"  # Teamleader was down or busy; ``next_attempt_at`` says when
    SYNCED = "synced"
    FAILED = "failed"  # Teamleader refused it (4xx): a person must look; a sync problem
    SKIPPED = "skipped"  # not sent, and why is in ``last_error`` (strict mode off…)


# Statuses the sweep leaves alone: someone must send the document again.
NEEDS_A_PERSON = (SyncStatus.FAILED, SyncStatus.SKIPPED)


class TeamleaderSync(OutboxRow, db.Model):
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), unique=True
    )
    wanted: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    status: Mapped[SyncStatus] = mapped_column(enum_type(SyncStatus), default=SyncStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What Teamleader held of our payments at the last read; with invoice.teamleader_due
    # (read at the same moment) it tells what Teamleader counts that we count too.
    held: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    # Set (and committed) before ``removePayments``, cleared once every standing payment
    # is registered again: a crash in between must finish the job, and must not take
    # the payments made in Teamleader by hand, removed by us, for removed by a person.
    restoring: Mapped[bool] = mapped_column(default=False)
    # Teamleader's payments of the document as the outbox knows them ([amount, day]),
    # kept by each delivery: a delivery that trusts them registers without reading
    # first. None: not known (a person or another read changed them), read first.
    entries: Mapped[list | None] = mapped_column(sa.JSON)
    # Deliveries claimed whose effect on Teamleader is not recorded yet: the claim adds
    # one (committed before any write), a delivery's recorded outcome sets it to zero. A
    # claim that finds one (a crash, a timeout after the write) reads before it writes.
    unsettled: Mapped[int] = mapped_column(default=0)
    # Admins are emailed once per failure, not once per retry.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    invoice = relationship("Invoice", back_populates="teamleader_sync")

    @property
    def outstanding(self) -> bool:
        return self.wanted > self.done

    def __repr__(self) -> str:
        return f"<TeamleaderSync {self.invoice_id} {self.status.value} {self.done}/{self.wanted}>"
