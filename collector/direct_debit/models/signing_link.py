"""A customer's signing link: one unguessable token per customer, the address of their
mandate page (``/mandate/<token>``, ``direct_debit.signing``). It stays the same once
made, so the mails that carried it keep working."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class SigningLink(db.Model):
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    created_by: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer = relationship("Customer")

    def __repr__(self) -> str:
        return f"<SigningLink customer={self.customer_id}>"
