"""A call the payment provider made to our webhook, kept before it is answered.

A Mollie-style webhook says only "payment ``id`` changed"; the row keeps that id until a
job has fetched the payment and applied what the provider says (``runtime.inbox``).
"""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import enum_type
from collector.extensions import db
from collector.runtime.inbox import InboxRow


class NotificationStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"  # not a payment of ours, or no provider configured


class ProviderNotification(InboxRow, db.Model):
    provider_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_type(NotificationStatus), default=NotificationStatus.RECEIVED
    )
    outcome: Mapped[str] = mapped_column(sa.String(500), default="")

    def __repr__(self) -> str:
        return f"<ProviderNotification {self.provider_id} {self.status.value}>"
