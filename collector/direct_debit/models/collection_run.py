"""A collection run: the direct debits of one pain.008 file, and what became of each.

A run is made with its file (``file_key`` in the document store). Until the file is
marked sent to the bank it can be cancelled, which puts its documents back to open.
Each ``Collection`` is one document collected on one mandate; the bank's answers (a
pain.002 reject, a camt settlement or return) find it by its end-to-end id.
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


class CollectionStatus(enum.StrEnum):
    PENDING = "pending"  # in a file, the bank has not answered
    SETTLED = "settled"  # the money came in: a payment on the document
    REJECTED = "rejected"  # refused or rejected before settlement: no money moved
    RETURNED = "returned"  # taken back after settlement (return, refund)
    CANCELLED = "cancelled"  # its run was cancelled before the file went out


class CollectionRun(db.Model):
    __tablename__ = "collection_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[MandateScheme] = mapped_column(enum_type(MandateScheme))
    status: Mapped[CollectionRunStatus] = mapped_column(
        enum_type(CollectionRunStatus), default=CollectionRunStatus.CREATED
    )
    # The file's GrpHdr/MsgId: a pain.002 names the file it answers by it.
    message_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    pain_version: Mapped[str] = mapped_column(sa.String(20))
    file_key: Mapped[str | None] = mapped_column(sa.String(64))
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


class Collection(db.Model):
    __tablename__ = "collection"
    __table_args__ = (sa.Index("ix_collection_invoice_id_status", "invoice_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("collection_run.id", ondelete="CASCADE"), index=True
    )
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandate.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    sequence_type: Mapped[str] = mapped_column(sa.String(4))  # FRST or RCUR
    collection_date: Mapped[date] = mapped_column(sa.Date)
    end_to_end_id: Mapped[str] = mapped_column(sa.String(35), unique=True)
    # The file's PmtInf/PmtInfId of its batch: banks that report a batch as one entry
    # name only this.
    payment_info_id: Mapped[str | None] = mapped_column(sa.String(35), index=True)
    status: Mapped[CollectionStatus] = mapped_column(
        enum_type(CollectionStatus), default=CollectionStatus.PENDING
    )
    reason_code: Mapped[str | None] = mapped_column(sa.String(8))
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    # The ledger row its settlement wrote.
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id", ondelete="SET NULL"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    run = relationship("CollectionRun", back_populates="collections")
    invoice = relationship("Invoice")
    mandate = relationship("Mandate")
    payment = relationship("Payment")

    def __repr__(self) -> str:
        return f"<Collection {self.end_to_end_id} {self.status.value}>"
