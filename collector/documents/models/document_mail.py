"""An email a document owes its customer: the invitation, each reminder, a resend.

One row per (document, key) — ``invitation``, ``reminder:7``, ``invitation:again:2`` —
and the unique key is what makes "exactly once" hold: whoever inserts the row, or
moves it from ``waiting``/``failed`` to ``sending`` in one conditional UPDATE, is
the only one who sends it. The ``MailMessage`` it produced says what went out.
"""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class DocumentMailKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    # A direct debit came back for a reason that ends its mandate (``direct_debit.
    # return_rules``): the customer is asked to pay another way or sign a new mandate.
    MANDATE_UNUSABLE = "mandate_unusable"


class DocumentMailStatus(enum.StrEnum):
    WAITING = "waiting"  # to be sent (for a PDF-only invitation: once the PDF is here)
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"
    FAILED = "failed"  # the mail server refused it; retried with backoff
    UNCERTAIN = "uncertain"  # the worker stopped mid-send: maybe delivered, never resent blindly
    CANCELLED = "cancelled"  # no longer owed (paid, archived, no address…)
    # An import's invitation for an overdue or old document: sent only once a person
    # releases it (then ``waiting``).
    HELD = "held"


# A sent mail that announced a direct debit (see ``ix_document_mail_announced``).
ANNOUNCED = "status = 'sent' AND direct_debit_on IS NOT NULL"


class DocumentMail(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "key", name="uq_document_mail_invoice_id_key"),
        sa.Index("ix_document_mail_status_retry_at", "status", "retry_at"),
        # The direct debits announced: each document's latest sent announcement.
        sa.Index(
            "ix_document_mail_announced",
            "invoice_id",
            "sent_at",
            "id",
            postgresql_include=[
                "direct_debit_on",
                "direct_debit_mandate_id",
                "direct_debit_amount",
            ],
            postgresql_where=sa.text(ANNOUNCED),
            sqlite_where=sa.text(ANNOUNCED),
        ),
    )

    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    kind: Mapped[DocumentMailKind] = mapped_column(enum_type(DocumentMailKind))
    key: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[DocumentMailStatus] = mapped_column(
        enum_type(DocumentMailStatus), default=DocumentMailStatus.WAITING
    )
    # An invitation on a profile that sends "only with the PDF" waits for it.
    needs_pdf: Mapped[bool] = mapped_column(default=False)
    # For a reminder: the days after the due date it stands for.
    days_overdue: Mapped[int | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(sa.String(500))
    actor: Mapped[str] = mapped_column(sa.String(128), default="system")
    recipient: Mapped[str | None] = mapped_column(sa.String(254))
    mail_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mail_message.id", ondelete="SET NULL")
    )
    # The direct debit this mail announced (the SEPA pre-notification): the day and
    # the mandate. A collection run never collects before the announced day.
    direct_debit_on: Mapped[date | None] = mapped_column(sa.Date)
    direct_debit_mandate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mandate.id", ondelete="SET NULL")
    )
    # The amount announced: a run never collects more than the debtor was told.
    direct_debit_amount: Mapped[Decimal | None] = mapped_column(Money())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The job that claimed it for sending: when that job is over and the row is still
    # ``sending``, its worker stopped mid-send (``mail.invitations.mark_stalled``).
    claimed_by_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("job_run.id", ondelete="SET NULL")
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    invoice = relationship("Invoice", back_populates="mails")
    mail_message = relationship("MailMessage")

    def __repr__(self) -> str:
        return f"<DocumentMail {self.key} of {self.invoice_id} {self.status.value}>"
