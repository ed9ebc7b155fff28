"""The evidence of a mandate signed online: when (UTC), from which IP address and
browser, who signed, the exact mandate text they were shown and its language, the
creditor it was given to and the PDF made of it — and, when the customer revoked it from
the same page, when and from where."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime
from collector.extensions import db


class MandateSignature(db.Model):
    mandate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mandate.id", ondelete="CASCADE"), unique=True
    )
    # The creditor named in the text (its own details are copied into the text itself).
    creditor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("creditor.id", ondelete="SET NULL"), index=True
    )
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(500), default="")
    language: Mapped[str] = mapped_column(sa.String(2))
    # The mandate text exactly as the page showed it when the customer pressed Sign.
    mandate_text: Mapped[str] = mapped_column(sa.Text)
    signatory_name: Mapped[str] = mapped_column(sa.String(70))
    signatory_email: Mapped[str] = mapped_column(sa.String(254))
    # The debtor's address as given on the form, one line per part.
    debtor_address: Mapped[str] = mapped_column(sa.String(300))
    # The signed mandate as a PDF in the document store.
    pdf_key: Mapped[str] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    revoked_user_agent: Mapped[str | None] = mapped_column(sa.String(500))

    mandate = relationship("Mandate")

    def __repr__(self) -> str:
        return f"<MandateSignature mandate={self.mandate_id}>"
