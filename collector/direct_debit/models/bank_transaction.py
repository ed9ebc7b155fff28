"""One bank fact read from a bank file: a collection settled, rejected or returned, or
a transfer received.

A transaction is known by a key naming the bank fact (``collection:<end-to-end id>``,
``return:<end-to-end id>``, ``transfer:<hash>``), so a camt.054 and the camt.053 that
repeats it count it once.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class BankTransactionKind(enum.StrEnum):
    COLLECTION = "collection"  # a direct debit of ours settled
    REJECT = "reject"  # a direct debit of ours refused before settlement
    RETURN = "return"  # a direct debit of ours taken back after settlement
    TRANSFER = "transfer"  # money received by transfer


class BankTransactionStatus(enum.StrEnum):
    MATCHED = "matched"  # applied to a document
    UNMATCHED = "unmatched"  # waiting for an admin to match it by hand
    DISMISSED = "dismissed"  # an admin said it is not for a document here
    # A transfer naming a document already paid: a person decides (refund or keep).
    DOUBLE_PAYMENT = "double_payment"
    REFUNDED = "refunded"  # a double payment a person sends back to the payer
    KEPT = "kept"  # a double payment kept as a credit for the customer


class BankTransaction(db.Model):
    __table_args__ = (sa.Index("ix_bank_transaction_status", "status"),)

    bank_file_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bank_file.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[BankTransactionKind] = mapped_column(enum_type(BankTransactionKind))
    status: Mapped[BankTransactionStatus] = mapped_column(enum_type(BankTransactionStatus))
    amount: Mapped[Decimal] = mapped_column(Money())  # positive; the kind says which way
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    booked_on: Mapped[date | None] = mapped_column(sa.Date)
    end_to_end_id: Mapped[str | None] = mapped_column(sa.String(35))
    reference: Mapped[str | None] = mapped_column(sa.String(64))  # structured reference
    remittance: Mapped[str | None] = mapped_column(sa.String(140))  # unstructured text
    counterparty_name: Mapped[str | None] = mapped_column(sa.String(140))
    counterparty_iban: Mapped[str | None] = mapped_column(sa.String(34))
    bank_reference: Mapped[str | None] = mapped_column(sa.String(64))  # AcctSvcrRef
    reason_code: Mapped[str | None] = mapped_column(sa.String(8))
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    collection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("collection.id", ondelete="SET NULL"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank_file = relationship("BankFile", back_populates="transactions")
    invoice = relationship("Invoice")
    collection = relationship("Collection")
    payment = relationship("Payment")

    def __repr__(self) -> str:
        return f"<BankTransaction {self.key} {self.status.value}>"
