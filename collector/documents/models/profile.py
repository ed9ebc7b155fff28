"""A payment profile: how the customers on it may pay and how they are invited."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class Profile(db.Model):
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    allow_direct_debit: Mapped[bool] = mapped_column(default=False)
    # Customers may sign a SEPA B2B mandate online (businesses only: no refund right).
    allow_b2b_mandates: Mapped[bool] = mapped_column(default=False)
    allow_payment_link: Mapped[bool] = mapped_column(default=False)
    allow_bank_transfer: Mapped[bool] = mapped_column(default=True)
    send_invitation_on_import: Mapped[bool] = mapped_column(default=False)
    invitation_requires_pdf: Mapped[bool] = mapped_column(default=False)
    # A direct debit refused for a reason worth retrying (``direct_debit.return_rules``)
    # is presented again at most this many times, this many days after it came back.
    debit_retries: Mapped[int] = mapped_column(default=1, server_default="1")
    debit_retry_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # The dunning schedule is ``dunning_steps`` (collector.dunning.models.DunningStep).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def payment_methods(self) -> list[str]:
        """The allowed methods, in the order the payment page offers them."""
        flags = [
            ("direct_debit", self.allow_direct_debit),
            ("payment_link", self.allow_payment_link),
            ("bank_transfer", self.allow_bank_transfer),
        ]
        return [name for name, allowed in flags if allowed]

    def __repr__(self) -> str:
        return f"<Profile {self.name}>"
