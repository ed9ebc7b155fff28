"""A bank file we were given: a statement (camt.053, CODA or MT940), a camt.054
notification or a pain.002 status report.

A file is known by its SHA-256, so the same file twice changes nothing; what it said
is in its ``BankTransaction`` rows.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class BankFileKind(enum.StrEnum):
    CAMT053 = "camt.053"
    CAMT054 = "camt.054"
    PAIN002 = "pain.002"
    CODA = "CODA"
    MT940 = "MT940"


class BankFile(db.Model):
    kind: Mapped[BankFileKind] = mapped_column(enum_type(BankFileKind))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    file_key: Mapped[str] = mapped_column(sa.String(64))
    message_id: Mapped[str | None] = mapped_column(sa.String(35))
    account_iban: Mapped[str | None] = mapped_column(sa.String(34))
    # What applying it did: {"settled": n, "rejected": n, "returned": n, "matched": n,
    # "unmatched": n, "known": n (seen in an earlier file), "skipped": n}.
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transactions = relationship(
        "BankTransaction", back_populates="bank_file", order_by="BankTransaction.id"
    )

    def __repr__(self) -> str:
        return f"<BankFile {self.kind.value} {self.filename}>"
