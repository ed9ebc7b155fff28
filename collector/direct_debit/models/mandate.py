"""A signed SEPA direct-debit mandate: a customer's permission to collect from an account.

The reference (UMR) identifies it together with our creditor identifier; it is unique
here and never reused, even once revoked, and not case-sensitive (reference §2.3), so
``reference_key`` (upper case) carries the unique index.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class MandateScheme(enum.StrEnum):
    CORE = "CORE"
    B2B = "B2B"


class MandateStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # by an admin, with a reason
    LAPSED = "lapsed"  # not used for 36 months (reference §2.3)


class Mandate(db.Model):
    __table_args__ = (
        sa.Index("ix_mandate_customer_id_status", "customer_id", "status"),
        # The mandates list's search by a part of the reference, account holder or IBAN.
        *(
            sa.Index(
                f"ix_mandate_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
            for column in ("reference", "debtor_name", "iban")
        ),
    )

    reference: Mapped[str] = mapped_column(sa.String(35))
    reference_key: Mapped[str] = mapped_column(sa.String(35), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profile.id"), index=True)
    # The debtor's account, compact and upper case; the BIC given or derived from the IBAN.
    iban: Mapped[str] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    # The account holder as the collection names them (pain.008 Dbtr/Nm, ≤70).
    debtor_name: Mapped[str] = mapped_column(sa.String(70))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    signed_on: Mapped[date] = mapped_column(sa.Date)
    scheme: Mapped[MandateScheme] = mapped_column(enum_type(MandateScheme))
    status: Mapped[MandateStatus] = mapped_column(
        enum_type(MandateStatus), default=MandateStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(sa.String(300))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Used once a collection on it stands (not cancelled, not rejected): the next one is
    # RCUR instead of FRST. Kept by the collection runs.
    used: Mapped[bool] = mapped_column(default=False)
    # The last collection's date, even a rejected or returned one: a mandate lapses 36
    # months after it (or after signing, if never used).
    last_collected_on: Mapped[date | None] = mapped_column(sa.Date)
    upload_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mandate_upload.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    customer = relationship("Customer")
    profile = relationship("Profile")

    @property
    def active(self) -> bool:
        return self.status == MandateStatus.ACTIVE

    @property
    def sequence_type(self) -> str:
        """What its next collection is: FRST on first use, RCUR after."""
        return "RCUR" if self.used else "FRST"

    def __repr__(self) -> str:
        return f"<Mandate {self.reference} {self.status.value}>"
