"""Who is paid: the creditor's name and bank account, shown for bank transfers.

One row. (The SEPA creditor identifier and pre-notification come with direct debit.)
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.extensions import db
from collector.models.types import UTCDateTime, utcnow


class Creditor(db.Model):
    __tablename__ = "creditor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(140), default="")
    # Stored compact and upper case (schwifty's form); shown grouped by four.
    iban: Mapped[str | None] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Creditor {self.name}>"
