"""The connection to one Exact Online administration, and how documents are booked there."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from collector.core.columns import UTCDateTime, enum_type, utcnow
from collector.extensions import db
from collector.runtime.models.oauth_tokens import OAuthTokens


class EntryNumbering(enum.StrEnum):
    EXACT = "exact"  # Exact assigns the next free number of the journal
    INVOICE = "invoice"  # the digits of the Teamleader number (EntryNumber is an Int32)


class ExactConnection(OAuthTokens, db.Model):
    # Every country runs its own Exact (reference §1.1): auth, token and API live on the
    # host chosen at connect, for good.
    country: Mapped[str] = mapped_column(sa.String(8))
    host: Mapped[str] = mapped_column(sa.String(255))
    exact_user_id: Mapped[str] = mapped_column(sa.String(64))
    user_name: Mapped[str] = mapped_column(sa.String(255), default="")
    user_email: Mapped[str | None] = mapped_column(sa.String(254))
    # The administration, chosen once and stored: current/Me's CurrentDivision follows
    # whatever the user last opened in Exact (reference §1.6).
    division: Mapped[int | None] = mapped_column()
    division_name: Mapped[str | None] = mapped_column(sa.String(255))
    # When the stored access token was issued (OAuthTokens calls it token_issued_at).
    access_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token_issued_at = synonym("access_issued_at")

    # The lists the settings choose from, read from Exact (and Teamleader's tax rates).
    choices: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    choices_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Settings. Journals are codes (SalesEntries.Journal takes the code, not the GUID).
    invoice_journal: Mapped[str | None] = mapped_column(sa.String(20))
    credit_note_journal: Mapped[str | None] = mapped_column(sa.String(20))
    department_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Teamleader VAT rate ("0.21") → Exact VAT code (as Exact spells it, padding kept).
    vat_codes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Teamleader VAT rate → revenue G/L account GUID, for lines without an account.
    gl_accounts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Teamleader payment term ("after_invoice_date:30") → Exact payment condition code.
    payment_conditions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    sync_credit_notes: Mapped[bool] = mapped_column(default=True)
    only_sent: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date | None] = mapped_column(sa.Date)
    skip_email_match: Mapped[bool] = mapped_column(default=False)
    entry_numbers: Mapped[EntryNumbering] = mapped_column(
        enum_type(EntryNumbering), default=EntryNumbering.EXACT
    )
    read_payments: Mapped[bool] = mapped_column(default=False)
    # Forwarding runs only once the settings were saved: before that nothing is mapped.
    forwarding: Mapped[bool] = mapped_column(default=False)
    # A document failing this many runs in a row is mailed to the admins, once.
    alert_after: Mapped[int] = mapped_column(default=3)
    # One forwarding run at a time per connection: a run holds this lease and renews it as
    # it goes; a run that died leaves a lease that simply runs out.
    run_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    connected_by = relationship("User")

    def __repr__(self) -> str:
        return f"<ExactConnection {self.country} {self.division} {self.status.value}>"
