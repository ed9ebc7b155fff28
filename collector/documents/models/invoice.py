"""An invoice or a credit note imported from Teamleader (one table for both)."""

import enum
import secrets
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collector.core.columns import Money, UTCDateTime, enum_type, utcnow
from collector.extensions import db


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceState(enum.StrEnum):
    """Twikey's states (see reference/twikey-and-peers.md)."""

    BOOKED = "BOOKED"  # open, waiting for payment
    PENDING = "PENDING"  # a collection is under way
    PAID = "PAID"
    EXPIRED = "EXPIRED"  # past its due date, unpaid
    ARCHIVED = "ARCHIVED"  # closed without payment, or fully credited


def new_payment_token() -> str:
    """256 random bits, URL-safe: the only key to a document's payment page."""
    return secrets.token_urlsafe(32)


# An invoice still owed (see ``ix_invoice_open_due``).
OWED = "kind = 'invoice' AND state IN ('BOOKED', 'EXPIRED', 'PENDING') AND amount_due > 0"
# A credit note offset against no invoice (``documents.receivables``' unapplied credit).
UNAPPLIED = (
    "kind = 'credit_note' AND credited_invoice_id IS NULL"
    " AND credited_teamleader_id IS NULL AND teamleader_paid_at IS NULL"
)
PDF_REFUSED = "pdf_key IS NULL AND pdf_failures > 0"
# The list's sort keys "amount" and "overdue" (``web.invoice_query``): an index serves an
# ORDER BY only on the identical expression (tests/test_list_indexes.py). Written as
# PostgreSQL reads them back, casts aside, so the migrations test compares them equal;
# the migration creates them (SQLite's too) from the plain spelling.
SIGNED_AMOUNT = (
    "(\nCASE\n    WHEN kind = 'credit_note' THEN - total_incl_vat\n    ELSE total_incl_vat\nEND)"
)
PDF = "(pdf_key IS NOT NULL)"
OVERDUE = (
    "(\nCASE\n    WHEN kind = 'invoice' AND (state = ANY (ARRAY['BOOKED', 'EXPIRED', 'PENDING']))"
    " AND amount_due > 0.00 THEN due_date\n    ELSE NULL\nEND)"
)


class Invoice(db.Model):
    __table_args__ = (
        sa.Index("ix_invoice_state_due_date", "state", "due_date"),
        # The sales of the last 90 days (the dashboard's DSO), from the index alone.
        sa.Index(
            "ix_invoice_kind_invoice_date",
            "kind",
            "invoice_date",
            postgresql_include=["payable", "total_incl_vat", "currency", "department_id"],
        ),
        # The overview's default order, and its paging.
        sa.Index("ix_invoice_invoice_date_id", "invoice_date", "id"),
        sa.Index("ix_invoice_number", "number"),
        # The PDF schedule's queue: documents without a PDF, oldest first.
        sa.Index(
            "ix_invoice_missing_pdf",
            "invoice_date",
            "id",
            postgresql_where=sa.text("pdf_key IS NULL"),
            sqlite_where=sa.text("pdf_key IS NULL"),
        ),
        # The list's search box (a part of the number) and its sort keys, with paging.
        sa.Index(
            "ix_invoice_number_trgm",
            "number",
            postgresql_using="gin",
            postgresql_ops={"number": "gin_trgm_ops"},
        ),
        sa.Index("ix_invoice_due_date_id", "due_date", "id"),
        sa.Index("ix_invoice_amount_due_id", "amount_due", "id"),
        sa.Index("ix_invoice_signed_amount_id", sa.text(SIGNED_AMOUNT), "id"),
        sa.Index("ix_invoice_overdue_id", sa.text(OVERDUE), sa.text("id DESC")),
        # The list's other sorts, paged by position: (value, id) in one index each; the
        # sort by profile reads each profile's documents in id order.
        sa.Index("ix_invoice_kind_id", "kind", "id"),
        sa.Index("ix_invoice_state_id", "state", "id"),
        sa.Index("ix_invoice_pdf_id", sa.text(PDF), "id"),
        sa.Index("ix_invoice_profile_id_id", "profile_id", "id"),
        # The dashboard's invoices still owed (aging, announced debits) and the list's
        # totals of them, from the index alone.
        sa.Index(
            "ix_invoice_open_due",
            "due_date",
            postgresql_include=[
                "amount_due",
                "customer_id",
                "profile_id",
                "department_id",
                "currency",
                "state",
                "id",
                "kind",
                "total_incl_vat",
            ],
            postgresql_where=sa.text(OWED),
            sqlite_where=sa.text(OWED),
        ),
        sa.Index(
            "ix_invoice_unapplied_credit",
            "currency",
            postgresql_include=["total_incl_vat", "department_id"],
            postgresql_where=sa.text(UNAPPLIED),
            sqlite_where=sa.text(UNAPPLIED),
        ),
        sa.Index(
            "ix_invoice_pdf_refused",
            "id",
            postgresql_where=sa.text(PDF_REFUSED),
            sqlite_where=sa.text(PDF_REFUSED),
        ),
        # One company entity's documents (the dashboard's money in per entity).
        sa.Index("ix_invoice_department_id_id", "department_id", "id"),
        # The list's totals per currency, read from the index alone.
        sa.Index(
            "ix_invoice_currency_totals",
            "currency",
            postgresql_include=["kind", "total_incl_vat", "amount_due"],
        ),
    )

    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind))
    # Credit notes carry "CN" + their Teamleader number. Numbers may repeat
    # across departments in Teamleader, so the Teamleader UUID is the key.
    number: Mapped[str] = mapped_column(sa.String(64))
    teamleader_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    department_id: Mapped[str | None] = mapped_column(sa.String(64))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    profile_id: Mapped[int | None] = mapped_column(sa.ForeignKey("profile.id"))
    credited_invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="SET NULL"), index=True
    )
    # A credit note's invoice in Teamleader, kept even while that invoice is not
    # here, so it can be linked when it arrives.
    credited_teamleader_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    subscription_teamleader_id: Mapped[str | None] = mapped_column(sa.String(64))
    import_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_import.id", ondelete="SET NULL"), index=True
    )
    invoice_date: Mapped[date] = mapped_column(sa.Date)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    total_excl_vat: Mapped[Decimal] = mapped_column(Money())
    total_vat: Mapped[Decimal] = mapped_column(Money())
    total_incl_vat: Mapped[Decimal] = mapped_column(Money())
    # Teamleader's total.payable: what the customer owes before payments and credit
    # notes (the total with VAT less withheld taxes).
    payable: Mapped[Decimal | None] = mapped_column(Money())
    # What is still to be collected: the total less payments and credit notes.
    amount_due: Mapped[Decimal] = mapped_column(Money())
    # True: no payment nor overpayment row was ever written for it (set at import, cleared
    # by the ledger's first settling), so a first payment skips reading them. False: not
    # known (made by other means, or settled once): they are read.
    ledger_empty: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    payment_reference: Mapped[str | None] = mapped_column(sa.String(64))
    # What Teamleader said last (list shape: status, total.due, paid_at, updated_at):
    # the import decides from it, change detection compares against it, and the
    # payments work reads the payment state recorded here.
    teamleader_status: Mapped[str | None] = mapped_column(sa.String(16))
    teamleader_due: Mapped[Decimal | None] = mapped_column(Money())
    teamleader_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teamleader_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teamleader_url: Mapped[str | None] = mapped_column(sa.String(500))
    # The stored PDF's key in the document store; None: not fetched yet.
    pdf_key: Mapped[str | None] = mapped_column(sa.String(128))
    pdf_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Failed fetches in a row, and when the schedule may try again (backoff).
    pdf_failures: Mapped[int] = mapped_column(default=0)
    pdf_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The secret in the payment page's address (/pay/<token>): unguessable, one per document.
    payment_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=lambda: new_payment_token()
    )
    state: Mapped[InvoiceState] = mapped_column(
        enum_type(InvoiceState), default=InvoiceState.BOOKED
    )
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    customer = relationship("Customer")
    profile = relationship("Profile")
    credited_invoice = relationship("Invoice", remote_side="Invoice.id")
    document_import = relationship("DocumentImport")
    events = relationship(
        "InvoiceEvent",
        back_populates="invoice",
        # The id breaks ties: events of one transaction share their moment.
        order_by="(InvoiceEvent.occurred_at, InvoiceEvent.id)",
        # Events go with their document (deleting an import): deleted, never orphaned.
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    mails = relationship(
        "DocumentMail",
        back_populates="invoice",
        order_by="DocumentMail.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    payments = relationship(
        "Payment",
        back_populates="invoice",
        order_by="Payment.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    teamleader_sync = relationship(
        "TeamleaderSync",
        back_populates="invoice",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    @property
    def pdf_available(self) -> bool:
        return self.pdf_key is not None

    def __repr__(self) -> str:
        return f"<Invoice {self.kind.value} {self.number} {self.state.value}>"
