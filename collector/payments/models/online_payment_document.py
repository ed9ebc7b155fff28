"""One document an online payment pays, when a customer paid several at once from their
portal (``payments.split``): the payment's amount is split over these rows' documents
in the documented order when the provider says it is paid."""

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money
from collector.extensions import db


class OnlinePaymentDocument(db.Model):
    __table_args__ = (
        # Named by their first column: a document once per payment, one per position.
        sa.UniqueConstraint("invoice_id", "online_payment_id"),
        sa.UniqueConstraint("position", "online_payment_id"),
    )

    online_payment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("online_payment.id", ondelete="CASCADE")
    )
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    # 0, 1, 2… in the split's order (oldest due date first, then number).
    position: Mapped[int] = mapped_column(sa.Integer)
    # What was open on the document when the checkout was made (what the customer saw).
    amount: Mapped[Decimal] = mapped_column(Money())

    online_payment = relationship("OnlinePayment", back_populates="documents")
    invoice = relationship("Invoice")

    def __repr__(self) -> str:
        return f"<OnlinePaymentDocument {self.online_payment_id}#{self.position}>"
