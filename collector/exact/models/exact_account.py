"""The Exact account a customer was booked on, per administration."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class ExactAccount(db.Model):
    """The Exact account a customer was booked on, per administration: found once (by
    e-mail, VAT number) or created, then always used (reference §4, "by stored GUID")."""

    __table_args__ = (sa.UniqueConstraint("customer_id", "division"),)

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"))
    division: Mapped[int] = mapped_column()
    account_id: Mapped[str] = mapped_column(sa.String(36))
    code: Mapped[str | None] = mapped_column(sa.String(18))
    # How it was found: "email", "vat" or "created".
    matched_by: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
