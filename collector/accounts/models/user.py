"""A person who logs in to the finance UI."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"  # may change anything
    VIEWER = "viewer"  # may look at everything, change nothing


class User(UserMixin, db.Model):
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The UI locale this person picked ("nl_BE", see accounts.languages); None follows
    # their browser.
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    # Stored in each session at login and compared on every request: bumping it (logout,
    # a new password, deactivation) ends every session of this person at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """False for a person invited who has not chosen a password yet."""
        return bool(self.password_hash)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
