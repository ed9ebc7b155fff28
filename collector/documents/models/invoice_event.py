"""The append-only timeline of a document: what happened, when, by whom or what."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class InvoiceEvent(db.Model):
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(64))  # e.g. "imported", "state_changed"
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "user:<email>", "api:<key name>", "job:<name>", "teamleader", "system" …
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    invoice = relationship("Invoice", back_populates="events")

    def __repr__(self) -> str:
        return f"<InvoiceEvent {self.kind} on {self.invoice_id}>"


@event.listens_for(InvoiceEvent, "before_update")
def _refuse_update(mapper, connection, target):
    # The timeline is evidence; a correction is a new event, never an edit.
    raise ValueError("invoice events are append-only")
