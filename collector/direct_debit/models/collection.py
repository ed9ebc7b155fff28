"""One document collected on one mandate in a collection run, and what became of it.

The bank's answers (a pain.002 reject, a camt settlement or return) find it by its
end-to-end id.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.direct_debit.models.return_rule import ReturnAction
from collector.extensions import db


class CollectionStatus(enum.StrEnum):
    PENDING = "pending"  # in a file, the bank has not answered
    SETTLED = "settled"  # the money came in: a payment on the document
    REJECTED = "rejected"  # refused or rejected before settlement: no money moved
    RETURNED = "returned"  # taken back after settlement (return, refund)
    CANCELLED = "cancelled"  # its run was cancelled before the file went out


class Collection(db.Model):
    __table_args__ = (
        sa.Index("ix_collection_invoice_id_status", "invoice_id", "status"),
        # The dashboard's collections by status: still to collect, came back.
        sa.Index(
            "ix_collection_status_date",
            "status",
            "collection_date",
            postgresql_include=["invoice_id", "amount", "run_id"],
        ),
    )

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
    # Which presentation of the document this is: 1, then 2 for its first retry...
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    # What its failure led to (``direct_debit.return_rules``), and for a retry the first
    # day it may be collected again.
    next_step: Mapped[ReturnAction | None] = mapped_column(enum_type(ReturnAction))
    retry_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    run = relationship("CollectionRun", back_populates="collections")
    invoice = relationship("Invoice")
    mandate = relationship("Mandate")
    payment = relationship("Payment")

    def __repr__(self) -> str:
        return f"<Collection {self.end_to_end_id} {self.status.value}>"
