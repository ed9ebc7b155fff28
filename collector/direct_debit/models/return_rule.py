"""What a profile does with a failed direct debit, per reason code, where it differs from
the defaults (``direct_debit.return_rules.DEFAULTS``)."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class ReturnAction(enum.StrEnum):
    RETRY = "retry"  # presented again in a later run, announced again
    MANDATE_UNUSABLE = "mandate_unusable"  # the mandate is ended; the customer is mailed
    REFUND_CLAIMED = "refund_claimed"  # back to collect, with a note for the team
    BACK_TO_COLLECT = "back_to_collect"  # open again, for a person or the next invitation


class ReturnRule(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("profile_id", "code", name="uq_return_rule_profile_id_code"),
    )

    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(8))
    action: Mapped[ReturnAction] = mapped_column(enum_type(ReturnAction))
    updated_by: Mapped[str] = mapped_column(sa.String(128), default="system")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ReturnRule {self.profile_id} {self.code} {self.action.value}>"
