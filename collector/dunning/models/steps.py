"""One step of a profile's dunning schedule: what happens so many days after the due date.

A reminder or a final notice is a mail (``DocumentMail`` keyed ``reminder:<days>``, so
each step goes out once per document); a hand-off sends nothing and shows the document
as "to hand off" to a person.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class StepKind(enum.StrEnum):
    REMINDER = "reminder"
    FINAL_NOTICE = "final_notice"
    HAND_OFF = "hand_off"  # no mail: a person takes over


class DunningStep(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("profile_id", "days", name="uq_dunning_step_profile_id_days"),
    )

    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"))
    kind: Mapped[StepKind] = mapped_column(enum_type(StepKind), default=StepKind.REMINDER)
    # Days after the due date, 1 to 365; the steps of a profile run in this order.
    days: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    profile = relationship(
        "Profile",
        backref=backref(
            "dunning_steps",
            order_by="DunningStep.days",
            cascade="all, delete-orphan",
            passive_deletes=True,
        ),
    )

    @property
    def sends_mail(self) -> bool:
        """A reminder or final notice is mailed; a hand-off is not."""
        return self.kind != StepKind.HAND_OFF

    def __repr__(self) -> str:
        return f"<DunningStep {self.kind.value} +{self.days} of {self.profile_id}>"
