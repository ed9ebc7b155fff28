"""A collection run: the direct debits of one pain.008 file.

A run is made with its file (``file_key`` in the document store). Until the file is
marked sent to the bank it can be cancelled, which puts its documents back to open.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.direct_debit.models.mandate import MandateScheme
from collector.extensions import db


class CollectionRunStatus(enum.StrEnum):
    CREATED = "created"  # the file is ready to download; the bank has not had it
    SENT = "sent"  # marked as sent to the bank: no cancelling any more
    CANCELLED = "cancelled"


class CollectionRun(db.Model):
    scheme: Mapped[MandateScheme] = mapped_column(enum_type(MandateScheme))
    status: Mapped[CollectionRunStatus] = mapped_column(
        enum_type(CollectionRunStatus), default=CollectionRunStatus.CREATED
    )
    # The file's GrpHdr/MsgId: a pain.002 names the file it answers by it.
    message_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    pain_version: Mapped[str] = mapped_column(sa.String(20))
    file_key: Mapped[str | None] = mapped_column(sa.String(64))
    # The creditor account the file credits (one file per account): which bank it goes to.
    creditor_name: Mapped[str | None] = mapped_column(sa.String(140))
    creditor_iban: Mapped[str | None] = mapped_column(sa.String(34))
    count: Mapped[int] = mapped_column(default=0)
    total: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    # The latest collection date the run took documents up to.
    collect_until: Mapped[date] = mapped_column(sa.Date)
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_by: Mapped[str | None] = mapped_column(sa.String(128))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(128))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))

    collections = relationship(
        "Collection", back_populates="run", order_by="Collection.id", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<CollectionRun {self.id} {self.status.value}>"
