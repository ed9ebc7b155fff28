"""A pause on one document or on a whole customer: nothing is chased (reminders, any
dunning step) and nothing is debited (collection runs) while it stands.

A hold stands until a person lifts it; a promise to pay also ends by itself after its
date (``until``: the day the customer promised to pay by), without anyone writing to the
row: the policy compares the date, so no job has to run for chasing to resume. Rows are
never deleted, so who held what, when and why stays known.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db


class HoldReason(enum.StrEnum):
    DISPUTED = "disputed"  # the customer contests the invoice
    PROMISE = "promise"  # the customer promised to pay by ``until``
    PAYMENT_PLAN = "payment_plan"  # paid in instalments agreed outside collector


class Hold(db.Model):
    __table_args__ = (
        # Either a document or a customer, never both, never neither.
        sa.CheckConstraint("(invoice_id IS NULL) <> (customer_id IS NULL)", name="one_subject"),
        sa.CheckConstraint("reason <> 'promise' OR until IS NOT NULL", name="promise_date"),
        # What the policy asks for every document of a list or a run: the standing ones.
        sa.Index(
            "ix_hold_standing_invoice",
            "invoice_id",
            postgresql_where=sa.text("lifted_at IS NULL AND invoice_id IS NOT NULL"),
            sqlite_where=sa.text("lifted_at IS NULL AND invoice_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_hold_standing_customer",
            "customer_id",
            postgresql_where=sa.text("lifted_at IS NULL AND customer_id IS NOT NULL"),
            sqlite_where=sa.text("lifted_at IS NULL AND customer_id IS NOT NULL"),
        ),
    )

    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE")
    )
    reason: Mapped[HoldReason] = mapped_column(enum_type(HoldReason))
    until: Mapped[date | None] = mapped_column(sa.Date)  # a promise: chased again after it
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # why, in the person's words
    placed_by: Mapped[str] = mapped_column(sa.String(128))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(sa.String(128))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lift_note: Mapped[str | None] = mapped_column(sa.String(500))
    # A promise whose day passed: when the timeline was told chasing resumed (the policy
    # does not wait for it; ``holds.tell_resumed`` writes it once).
    resume_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    invoice = relationship("Invoice")
    customer = relationship("Customer")

    def stands_on(self, today: date) -> bool:
        """Whether the hold still pauses chasing and debiting on ``today``."""
        if self.lifted_at is not None:
            return False
        return self.until is None or today <= self.until

    def lapsed_on(self, today: date) -> bool:
        """A promise whose day passed and that nobody lifted: chasing resumed by itself."""
        return self.lifted_at is None and self.until is not None and today > self.until

    def __repr__(self) -> str:
        subject = (
            f"invoice {self.invoice_id}" if self.invoice_id else f"customer {self.customer_id}"
        )
        return f"<Hold {self.reason.value} on {subject}>"
