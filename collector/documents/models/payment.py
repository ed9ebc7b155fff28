"""The payment ledger of a document: money in, and what later took it back.

A payment is a positive row; a refund, a chargeback or a failed collection of it is a
negative row pointing at it (``reverses_id``). A row that stops counting — a chargeback
the provider reversed, a payment someone removed in Teamleader — gets ``cancelled_at``
instead of being deleted, so the ledger keeps its history. What is still due, and so
the document's state, is derived from the rows that count.

``key`` is unique: it names the outside fact a row stands for (``provider:tr_…``,
``provider:chb_…``, ``manual:<uuid>``), so a webhook delivered fifty times writes one row.
"""

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class PaymentSource(enum.StrEnum):
    PROVIDER = "provider"  # paid online through the payment provider
    TEAMLEADER = "teamleader"  # registered in Teamleader by hand: mirrored, never echoed
    MANUAL = "manual"  # "mark as paid" by an admin here
    BANK = "bank"  # a bank transfer or a direct debit, from a bank file
    EXACT = "exact"  # found paid in Exact Online


class PaymentKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    RETURN = "return"  # a direct debit returned or refused by the bank


class Payment(db.Model):
    __table_args__ = (
        # Money in per period (the dashboard), from the index alone.
        sa.Index(
            "ix_payment_occurred_at",
            "occurred_at",
            postgresql_include=[
                "id",
                "amount",
                "currency",
                "source",
                "cancelled_at",
                "reverses_id",
                "invoice_id",
            ],
        ),
    )

    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    source: Mapped[PaymentSource] = mapped_column(enum_type(PaymentSource))
    kind: Mapped[PaymentKind] = mapped_column(enum_type(PaymentKind))
    # Signed: payments positive, reversals negative.
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment.id", ondelete="CASCADE"), index=True
    )
    reason_code: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    # The outside reference shown to people: the provider's payment id, a bank reference.
    reference: Mapped[str | None] = mapped_column(sa.String(128))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    invoice = relationship("Invoice", back_populates="payments")
    reverses = relationship("Payment", remote_side="Payment.id")

    @property
    def counts(self) -> bool:
        return self.cancelled_at is None

    def __repr__(self) -> str:
        return f"<Payment {self.key} {self.amount} {self.currency}>"
