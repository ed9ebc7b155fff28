"""A key for the JSON API. Only a SHA-256 hash of the key is stored."""

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


def hash_key(key: str) -> str:
    """Keys carry 256 random bits, so a fast hash is enough to make a stolen
    table useless; a slow password hash would only slow down every API call."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(db.Model):
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # shown in lists to tell keys apart
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<ApiKey {self.name} {self.prefix}…>"
