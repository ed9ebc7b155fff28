"""A key for the JSON API. Only a SHA-256 hash of the key is stored; what the key may do
is its list of scopes, how long it may do it its expiry date."""

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db

# What a key may be allowed: reading everything, and each group of writes on its own, so
# an ERP that only marks invoices paid cannot start imports or add profiles.
READ = "read"
WRITE_PAYMENTS = "write:payments"  # mark a document paid, archive it
WRITE_IMPORTS = "write:imports"  # start or resume an import from Teamleader
WRITE_PROFILES = "write:profiles"  # create payment profiles
SCOPES = (READ, WRITE_PAYMENTS, WRITE_IMPORTS, WRITE_PROFILES)


def hash_key(key: str) -> str:
    """Keys carry 256 random bits, so a fast hash is enough to make a stolen
    table useless; a slow password hash would only slow down every API call."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(db.Model):
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # shown in lists to tell keys apart
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # A list of SCOPES; keys made before scopes existed were given all of them.
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last company-local day the key works; None: until revoked.
    expires_on: Mapped[date | None] = mapped_column(sa.Date())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def allows(self, scope: str) -> bool:
        return scope in (self.scopes or ())

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and today > self.expires_on

    def __repr__(self) -> str:
        return f"<ApiKey {self.name} {self.prefix}…>"
