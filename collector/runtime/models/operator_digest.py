"""One digest of what needs a person: the alerts it took (``OperatorAlert.digest_id``)
and the admins it is owed to (``DigestRecipient``), made in one transaction."""

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class OperatorDigest(db.Model):
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    items: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<OperatorDigest {self.id} {self.items} item(s)>"
