"""A mail text the team edited: subject and body templates for one profile, one slot
(the invitation or one dunning step) and one language. Without a row, the default text
(today's letter) goes out; deleting the row is "reset to the default"."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db

INVITATION_SLOT = "invitation"
# The mail to a customer whose mandate a failed direct debit showed unusable.
MANDATE_UNUSABLE_SLOT = "mandate_unusable"
LANGUAGES = ("nl", "fr", "en")  # a text per language the letters speak
MAX_SUBJECT = 300
MAX_BODY = 10_000


def step_slot(step_id: int) -> str:
    """The slot of a dunning step's text."""
    return f"step:{step_id}"


class MailText(db.Model):
    __table_args__ = (
        sa.UniqueConstraint(
            "profile_id", "slot", "language", name="uq_mail_text_profile_id_slot_language"
        ),
    )

    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(sa.String(32))  # INVITATION_SLOT or step_slot(id)
    # Set for a step's text, so deleting the step deletes its texts.
    step_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("dunning_step.id", ondelete="CASCADE")
    )
    language: Mapped[str] = mapped_column(sa.String(2))  # nl, fr or en
    subject: Mapped[str] = mapped_column(sa.String(MAX_SUBJECT))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.String(128), default="system")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<MailText {self.slot} {self.language} of {self.profile_id}>"
