"""What we last learnt of the connection to the payment provider: one row, or none yet.

A refused API key (401) or a webhook address the provider will not call (422 on
``webhookUrl``) stops online payment for every customer at once, so it is a state of the
connection that admins see, not a log line per click. ``alerted_at`` is when the current problem
was handed to the admins' digest (``runtime.operator_alerts``): once per outage.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db
from collector.runtime.wordings import known as _l


class ProviderProblem(enum.StrEnum):
    KEY_REJECTED = "key_rejected"  # 401: the API key is wrong or revoked
    WEBHOOK_REFUSED = "webhook_refused"  # 422 on webhookUrl: PUBLIC_BASE_URL

    @property
    def headline(self) -> str:
        """What admins are told, in one sentence, in the reader's language (``HEADLINES``
        keeps the English, for the log)."""
        return gettext(HEADLINES[self])

    @property
    def to_do(self) -> str:
        """What admins are to do about it, in the reader's language."""
        return gettext(TO_DO[self])


HEADLINES = {
    ProviderProblem.KEY_REJECTED: _l(
        "Online payments are refused by the provider: the API key was rejected"
    ),
    ProviderProblem.WEBHOOK_REFUSED: _l(
        "Online payments are refused by the provider: it cannot reach this service's "
        "webhook address"
    ),
}
TO_DO = {
    ProviderProblem.KEY_REJECTED: _l(
        "Customers who click “Pay online” are asked to try again in a few minutes. Copy a "
        "valid API key from the provider's dashboard (Mollie: Developers › API keys) into "
        "PAYMENT_PROVIDER_API_KEY and restart collector. The schedule checks the key every "
        "few minutes (or use “Check the API key now” under Settings › Online payments); "
        "this notice goes away once the provider accepts it."
    ),
    ProviderProblem.WEBHOOK_REFUSED: _l(
        "Customers who click “Pay online” are asked to try again in a few minutes. The "
        "provider only creates payments whose webhook address it can call from the "
        "internet: set PUBLIC_BASE_URL to the https address at which the internet reaches "
        "collector (not localhost or a private address) and restart. This notice goes "
        "away with the next payment the provider accepts."
    ),
}


class ProviderStatus(db.Model):
    # None: online payments work as far as we know.
    problem: Mapped[ProviderProblem | None] = mapped_column(enum_type(ProviderProblem))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The provider's own words (title and detail), never the key.
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ProviderStatus {self.problem or 'ok'}>"
