"""A URL an admin registered to be told of every state change of a document.

Each change becomes one ``CallbackDelivery`` per active endpoint, POSTed with an
HMAC-SHA256 signature made with the endpoint's secret.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class CallbackEndpoint(db.Model):
    url: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # The signing secret, Fernet-encrypted like the Teamleader tokens (collector.core.crypto).
    secret_enc: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    deliveries = relationship(
        "CallbackDelivery",
        back_populates="endpoint",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallbackDelivery.id.desc()",
        lazy="dynamic",
    )

    def __repr__(self) -> str:
        return f"<CallbackEndpoint {self.url}>"
