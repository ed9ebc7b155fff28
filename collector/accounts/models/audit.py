"""One row per thing a person (or an API key) did that an admin may later be asked about:
a login or a failed one, a setting changed, a user or a key created or revoked, a document
marked paid or archived, a mandate changed, a collection run approved. Rows are only ever
added (no update, no delete from the app), so the log stays what happened."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class AuditEvent(db.Model):
    __table_args__ = (
        sa.Index("ix_audit_event_at", "at"),
        sa.Index("ix_audit_event_action_at", "action", "at"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who: "user:ann@example.com", "api:ERP", "system"; for a failed login the email typed.
    actor: Mapped[str] = mapped_column(sa.String(254))
    # What, as a dotted name a filter can group ("login.failed", "user.deactivated",
    # "settings.changed", "invoice.marked_paid"); the page words it per language.
    action: Mapped[str] = mapped_column(sa.String(64))
    # On what: "user:3", "invoice:120", "profile:2", "" when nothing in particular.
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    # The facts that tell this event from the next: changed fields, counts, a reason. Never
    # a secret: ``audit.record`` drops keys that name one.
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(45))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} by {self.actor}>"
