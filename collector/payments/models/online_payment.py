"""A payment started at the payment provider from a document's payment page.

The provider's webhook carries only the payment id; this row is how that id leads
back to one document. Its status is what the last fetch from the provider said —
never what a webhook or a browser claimed.
"""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, utcnow
from collector.extensions import db


class OnlinePayment(db.Model):
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The Idempotency-Key the payment was created with (``checkout.checkout_key``):
    # one attempt, one row, even if the provider's answer had to be asked for twice.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The provider's words: open, pending, authorized, paid, canceled, expired, failed.
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    checkout_url: Mapped[str | None] = mapped_column(sa.String(500))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount_refunded: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_charged_back: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # The document it pays; for a portal payment of several, the first of them in the
    # split's order, and ``documents`` lists them all (empty for a single document).
    invoice = relationship("Invoice")
    documents = relationship(
        "OnlinePaymentDocument",
        back_populates="online_payment",
        order_by="OnlinePaymentDocument.position",
    )

    def __repr__(self) -> str:
        return f"<OnlinePayment {self.provider_id} {self.status}>"
