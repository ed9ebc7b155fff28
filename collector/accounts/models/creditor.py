"""Who is paid: the creditor's name and bank account (shown for bank transfers, credited
by direct debits), its SEPA creditor identifier and how it pre-notifies debtors, and how
it shows itself to customers (address, logo, contact details, the mail's sender).

One row per company entity (Teamleader department) that collects as itself, and one
without a department: the company default, for every entity without a row of its own.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db

# The pain.008 versions sepaxml writes that a bank may ask for (reference §2.1): .02 is
# what EPC's guidelines long used and what most banks still take; .08 is the 2019 one.
PAIN_VERSIONS = ("pain.008.001.02", "pain.008.001.08")
DEFAULT_PRENOTIFICATION_DAYS = 14


class Creditor(db.Model):
    # The Teamleader department this creditor collects for; None: the company default.
    department_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(140), default="")
    # Stored compact and upper case (schwifty's form); shown grouped by four.
    iban: Mapped[str | None] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    # SEPA creditor identifier (AT-02), compact: BE69ZZZ050D000000008.
    creditor_identifier: Mapped[str | None] = mapped_column(sa.String(35))
    # Calendar days between the pre-notification (the invitation) and the collection.
    prenotification_days: Mapped[int] = mapped_column(default=DEFAULT_PRENOTIFICATION_DAYS)
    pain_version: Mapped[str] = mapped_column(sa.String(20), default=PAIN_VERSIONS[0])
    # What customers see: on the payment page and in the mails.
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    # The From of this entity's customer mails; empty: the service's MAIL_FROM.
    sender_name: Mapped[str] = mapped_column(sa.String(140), default="")
    sender_email: Mapped[str] = mapped_column(sa.String(254), default="")
    # The logo in the document store (PNG or JPEG, checked on upload) and its type.
    logo_key: Mapped[str | None] = mapped_column(sa.String(128))
    logo_type: Mapped[str | None] = mapped_column(sa.String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def can_collect(self) -> bool:
        """Whether direct debits can be written: a pain.008 needs all of these."""
        return bool(self.name and self.iban and self.creditor_identifier)

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in (self.address or "").splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<Creditor {self.name}>"
