"""Something that needs a person, as a row: a connection to reconnect, a document Exact
Online or Teamleader refuses, a job that failed. Written in the transaction that records
the failure; mailed to the admins in the next digest (``accounts.digest``), never one
mail per failure.

A failure seen again before the digest took it is the same row, counted again: fifty
refusals of one key in an hour are one line, "×50". ``digest_id`` says which digest took
it; the rows a digest has not yet taken are the work it owes.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class OperatorAlert(db.Model):
    __table_args__ = (
        # One waiting row per thing: a repeat counts on it (``operator_alerts.record``).
        sa.Index(
            "uq_operator_alert_waiting",
            "kind",
            "subject",
            unique=True,
            postgresql_where=sa.text("digest_id IS NULL"),
            sqlite_where=sa.text("digest_id IS NULL"),
        ),
    )

    kind: Mapped[str] = mapped_column(sa.String(32))  # operator_alerts.KINDS
    subject: Mapped[str] = mapped_column(sa.String(128))  # an invoice number, a service, a job
    fact: Mapped[str] = mapped_column(sa.String(500))  # the latest refusal, as it came
    endpoint: Mapped[str] = mapped_column(sa.String(64))  # the page where a person fixes it
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    count: Mapped[int] = mapped_column(default=1)
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operator_digest.id", ondelete="CASCADE"), index=True
    )

    def __repr__(self) -> str:
        return f"<OperatorAlert {self.kind} {self.subject} ×{self.count}>"
