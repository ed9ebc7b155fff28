"""The connection to one Teamleader Focus account, and the integration settings."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from collector.core.columns import UTCDateTime, utcnow
from collector.core.oauth import ConnectionStatus
from collector.extensions import db
from collector.runtime.models.oauth_tokens import OAuthTokens

__all__ = ["ConnectionStatus", "TeamleaderConnection"]


class TeamleaderConnection(OAuthTokens, db.Model):
    account_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_name: Mapped[str] = mapped_column(sa.String(255), default="")
    user_email: Mapped[str | None] = mapped_column(sa.String(254))
    # When the stored access token was issued (OAuthTokens calls it token_issued_at).
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_issued_at = synonym("refreshed_at")
    # Teamleader signs nothing (reference §12): the unguessable path token *is* the
    # webhook's authentication, together with the account id in the body.
    webhook_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))

    # What Teamleader told us on connect, to offer as choices.
    departments: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{id, name, currency}]
    custom_fields: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{id, label, context}]
    payment_methods: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{id, name, status}]

    # Integration settings.
    import_department_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    default_profile_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("profile.id", ondelete="SET NULL")
    )
    auto_import: Mapped[bool] = mapped_column(default=False)
    # An import (by hand or automatic) holds the invitations of documents overdue or dated
    # more than this many days ago: a person chooses which of those go out.
    hold_mail_after_days: Mapped[int] = mapped_column(default=14, server_default="14")
    invoice_profile_field_id: Mapped[str | None] = mapped_column(sa.String(64))
    subscription_profile_field_id: Mapped[str | None] = mapped_column(sa.String(64))
    strict_mode_confirmed: Mapped[bool] = mapped_column(default=False)
    # The Teamleader payment method our payments are registered with (paymentMethods.list).
    payment_method_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The updated_since sweep asks for changes after this moment (less a margin).
    last_swept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    default_profile = relationship("Profile")
    connected_by = relationship("User")

    def custom_fields_for(self, context: str) -> list[dict]:
        return [f for f in self.custom_fields or [] if f.get("context") == context]

    def __repr__(self) -> str:
        return f"<TeamleaderConnection {self.account_id} {self.status.value}>"
