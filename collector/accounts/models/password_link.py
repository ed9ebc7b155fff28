"""A one-time link that lets a person choose a password: the invitation of a new user, or
a reset. Only a SHA-256 hash of the link's token is stored, so the table cannot be used to
log in; a link works once, until it expires, and a newer link retires the older ones."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.accounts.models.user import User
from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class LinkPurpose(enum.StrEnum):
    INVITATION = "invitation"  # a new user chooses their first password
    RESET = "reset"  # a user chooses a new one (asked by an admin or by themself)


class PasswordLink(db.Model):
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_type(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the link was used, or retired by a newer one: it never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordLink {self.purpose.value} user {self.user_id}>"
