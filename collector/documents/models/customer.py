"""A customer, linked one-to-one to a Teamleader contact or company."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.core.vat import problem_text, read_vat
from collector.extensions import db


def new_portal_token() -> str:
    """256 random bits, URL-safe: the only key to a customer's portal (``/portal/<token>``)."""
    return secrets.token_urlsafe(32)


class CustomerKind(enum.StrEnum):
    CONTACT = "contact"
    COMPANY = "company"


class Customer(db.Model):
    __table_args__ = (
        # The lists' search by a part of the name, and their sort by name with paging.
        sa.Index(
            "ix_customer_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        sa.Index("ix_customer_name_id", "name", "id"),
    )

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
    # As typed in Teamleader, for people to read. ``vat_compact`` is its checked form
    # (``BE0477472701``), the only one we match or send; NULL when blank or not valid, and
    # then ``vat_problem`` says why (a warning, never a failed import). Both follow
    # ``vat_number`` and ``country`` by themselves (``_read_vat``).
    vat_number: Mapped[str | None] = mapped_column(sa.String(32))
    vat_compact: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    vat_problem: Mapped[str | None] = mapped_column(sa.String(16))
    # Chosen here, never by an import (except the default a new customer gets).
    profile_id: Mapped[int | None] = mapped_column(sa.ForeignKey("profile.id"), index=True)
    teamleader_url: Mapped[str | None] = mapped_column(sa.String(500))
    # The secret in the customer's portal address (/portal/<token>): unguessable, one per
    # customer, kept as is (like a document's payment token) because mails carry it.
    # Rotating it (``portal.links.rotate``) makes the old address a 404.
    portal_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=lambda: new_portal_token()
    )
    teamleader_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    profile = relationship("Profile")

    @property
    def number_is_linked(self) -> bool:
        """False when someone changed the customer number here (an import resets it)."""
        return self.customer_number == self.teamleader_id

    @property
    def vat_warning(self) -> str | None:
        """Why the VAT number is not valid, in words; None when it is valid or blank."""
        reason = problem_text(self.vat_problem)
        return f"The VAT number {self.vat_number} is not valid: {reason}." if reason else None

    @validates("vat_number", "country")
    def _read_vat(self, key: str, value: str | None) -> str | None:
        # The compact form can never disagree with what was typed, whoever sets it (an
        # import, a test factory): a number without prefix is read with the country.
        typed, country = (value, self.country) if key == "vat_number" else (self.vat_number, value)
        vat = read_vat(typed, country)
        self.vat_compact, self.vat_problem = vat.compact, vat.problem
        return value

    def __repr__(self) -> str:
        return f"<Customer {self.customer_number} {self.name}>"
