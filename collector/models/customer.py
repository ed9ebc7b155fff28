"""A customer, linked one-to-one to a Teamleader contact or company."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.extensions import db
from collector.models.types import UTCDateTime, enum_type, utcnow


class CustomerKind(enum.StrEnum):
    CONTACT = "contact"
    COMPANY = "company"


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The link to Teamleader, never edited: the contact/company UUID.
    teamleader_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The customer number *is* that UUID too (mandate files and the payment
    # provider know customers by it); if someone edits it here, the next import
    # resets it, which it can only do because ``teamleader_id`` kept the link.
    customer_number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[CustomerKind] = mapped_column(enum_type(CustomerKind))
    name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    language: Mapped[str | None] = mapped_column(sa.String(8))
    address_line: Mapped[str | None] = mapped_column(sa.String(255))
    postal_code: Mapped[str | None] = mapped_column(sa.String(32))
    city: Mapped[str | None] = mapped_column(sa.String(128))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    vat_number: Mapped[str | None] = mapped_column(sa.String(32))
    # Chosen here, never by an import (except the default a new customer gets).
    profile_id: Mapped[int | None] = mapped_column(sa.ForeignKey("profile.id"), index=True)
    teamleader_url: Mapped[str | None] = mapped_column(sa.String(500))
    teamleader_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    profile = relationship("Profile")

    @property
    def number_is_linked(self) -> bool:
        """False when someone changed the customer number here (an import resets it)."""
        return self.customer_number == self.teamleader_id

    def __repr__(self) -> str:
        return f"<Customer {self.customer_number} {self.name}>"
