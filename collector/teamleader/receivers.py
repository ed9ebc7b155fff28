"""What the Teamleader domain does when other domains tell of documents
(``documents.signals``): owe Teamleader a sync when our payments change, and keep
the default profile of the integration."""

from __future__ import annotations

import sqlalchemy as sa

from collector.core.errors import Conflict
from collector.documents import signals
from collector.documents.models import Invoice, Payment, PaymentSource, Profile
from collector.extensions import db
from collector.teamleader import outbox
from collector.teamleader.models import TeamleaderConnection


def _payments_changed(invoice: Invoice, *, entry: Payment) -> None:
    # Payments mirrored from Teamleader never owe it anything back (no echo).
    if entry.source != PaymentSource.TEAMLEADER:
        outbox.owe_teamleader(invoice)


def _profile_deleting(profile: Profile) -> None:
    if db.session.scalar(
        sa.select(sa.func.count()).where(TeamleaderConnection.default_profile_id == profile.id)
    ):
        raise Conflict(
            f"Profile “{profile.name}” is the default for new customers; "
            "choose another default in the Teamleader settings first."
        )


def connect() -> None:
    """Owe Teamleader a sync, in the same transaction, whenever our payments change; keep
    the integration's default profile from being deleted."""
    signals.payments_changed.connect(_payments_changed, weak=False)
    signals.profile_deleting.connect(_profile_deleting, weak=False)
