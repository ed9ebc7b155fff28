"""An admin a digest is owed to. ``mailed_at`` is set in the transaction that writes
their ``MailMessage`` row, so a digest is mailed to each admin at most once, and one not
yet mailed when its worker died is still owed (``mailed_at`` empty)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime
from collector.extensions import db


class DigestRecipient(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("digest_id", "user_id", name="uq_digest_recipient_digest_id_user_id"),
    )

    digest_id: Mapped[int] = mapped_column(sa.ForeignKey("operator_digest.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<DigestRecipient digest {self.digest_id} user {self.user_id}>"
