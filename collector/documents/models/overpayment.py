"""Money received beyond what a document asked for, and what a person decided about it.

The amount is derived from the ledger (``amounts.overpaid``): the payments that stand,
less what was payable and what credit notes credit. Two checkouts both paid, or a
payment online after a bank transfer settled the document, leave money the customer may
want back; ``amount_due`` stops at zero, so without this row the surplus would be
silent. An ``open`` row waits for an admin: refund it through the provider, or keep it
with a reason. Rows are never deleted, so the document keeps its history.
"""

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class OverpaymentStatus(enum.StrEnum):
    OPEN = "open"  # waits for a person: refund or keep
    REFUNDED = "refunded"  # refunded through the payment provider
    KEPT = "kept"  # acknowledged and kept, with the admin's reason
    CLEARED = "cleared"  # no longer overpaid before anyone acted (a chargeback, a removal)


class Overpayment(db.Model):
    __table_args__ = (
        # One surplus waiting per document: tracking runs under the document's lock, and
        # this keeps a second open row out even if it did not.
        sa.Index(
            "ix_overpayment_open_invoice",
            "invoice_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        ),
    )

    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[OverpaymentStatus] = mapped_column(
        enum_type(OverpaymentStatus), default=OverpaymentStatus.OPEN
    )
    # Refunded: the online payment the money went back through, and the provider's refund.
    online_payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("online_payment.id", ondelete="SET NULL")
    )
    refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Kept: why (a credit for the next invoice, refunded by hand at the bank…).
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    invoice = relationship("Invoice")
    online_payment = relationship("OnlinePayment")

    def __repr__(self) -> str:
        return f"<Overpayment {self.amount} {self.currency} {self.status.value}>"
