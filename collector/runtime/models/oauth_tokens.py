"""The columns every stored OAuth connection shares (Teamleader's, Exact Online's): what
``collector.runtime.oauth_connection`` reads and writes."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.core.oauth import ConnectionStatus


class OAuthTokens:
    """Mixin for a connection model: where it stands, who connected it, and its token pair
    at rest. The model adds ``token_issued_at``, when the stored access token was issued (a
    column, or a synonym of the column it keeps that in)."""

    status: Mapped[ConnectionStatus] = mapped_column(
        enum_type(ConnectionStatus), default=ConnectionStatus.CONNECTED
    )
    # Tokens are Fernet-encrypted (collector.core.crypto); never stored or logged in clear.
    access_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    connected_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    # Why a user must connect again, once the refresh token was refused.
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
