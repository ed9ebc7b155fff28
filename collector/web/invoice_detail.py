"""A document's page, as the finance team reads it: what every domain knows of one
invoice or credit note (its ledger, online payments, direct debits, where Teamleader and
Exact Online stand), for the web and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from collector.core.attributes import from_attributes
from collector.core.errors import NotFound
from collector.direct_debit.models import Collection
from collector.documents import ledger, overpayments, timeline
from collector.documents.models import (
    DocumentKind,
    Invoice,
    InvoiceEvent,
    InvoiceState,
    Overpayment,
    OverpaymentStatus,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.payments import checkout
from collector.payments.models import OnlinePayment, OnlinePaymentDocument
from collector.teamleader.models import NEEDS_A_PERSON, SyncStatus
from collector.web import history, states

SOURCE_LABELS = {
    PaymentSource.PROVIDER: _l("online"),
    PaymentSource.TEAMLEADER: "Teamleader",
    PaymentSource.MANUAL: _l("marked as paid"),
    PaymentSource.BANK: _l("bank"),
    PaymentSource.EXACT: "Exact",
}
KIND_LABELS = {
    PaymentKind.PAYMENT: _l("payment"),
    PaymentKind.REFUND: _l("refund"),
    PaymentKind.CHARGEBACK: _l("chargeback"),
    PaymentKind.RETURN: _l("return"),
}
# The timeline's event kinds as the page names them (their messages, stored in English,
# are shown in the reader's language by ``history``).
EVENT_LABELS = {
    timeline.IMPORTED: _l("imported"),
    timeline.STATE_CHANGED: _l("state changed"),
    timeline.PROFILE_NOT_FOUND: _l("profile not found"),
    timeline.PAYMENT_TERM_ZERO: _l("no payment term"),
    timeline.CREDITED: _l("credited"),
    timeline.CREDIT_NOTE_LINKED: _l("credit note linked"),
    timeline.CREDITED_INVOICE_MISSING: _l("credited invoice missing"),
    timeline.CREDIT_NOTE_REMOVED: _l("credit note removed"),
    timeline.CHANGED_IN_TEAMLEADER: _l("changed in Teamleader"),
    timeline.TEAMLEADER_PAYMENT: _l("payment state in Teamleader"),
    timeline.PDF_FETCHED: _l("PDF fetched"),
    timeline.PDF_REFUSED: _l("PDF refused"),
    timeline.INVITATION_SENT: _l("invitation sent"),
    timeline.REMINDER_SENT: _l("reminder sent"),
    timeline.MAIL_FAILED: _l("mail failed"),
    timeline.MAIL_UNCERTAIN: _l("mail maybe sent"),
    timeline.MAIL_CANCELLED: _l("mail cancelled"),
    timeline.DUNNING_HAND_OFF: _l("to hand off"),
    timeline.MAIL_HELD: _l("mail held"),
    timeline.MAIL_RELEASED: _l("mail released"),
    timeline.PAYMENT_RECEIVED: _l("payment received"),
    timeline.PAYMENT_REVERSED: _l("payment reversed"),
    timeline.PAYMENT_CANCELLED: _l("payment cancelled"),
    timeline.ONLINE_PAYMENT: _l("online payment"),
    timeline.OVERPAID: _l("overpaid"),
    timeline.OVERPAYMENT_RESOLVED: _l("overpayment resolved"),
    timeline.TEAMLEADER_SYNCED: _l("Teamleader in line"),
    timeline.TEAMLEADER_SYNC_FAILED: _l("Teamleader refused"),
    timeline.TEAMLEADER_SYNC_SKIPPED: _l("not sent to Teamleader"),
    timeline.HOLD_PLACED: _l("put on hold"),
    timeline.HOLD_LIFTED: _l("hold lifted"),
    timeline.CHASING_RESUMED: _l("chasing resumed"),
    timeline.NOTE_ADDED: _l("note"),
    timeline.MANDATE_SIGNED: _l("mandate signed"),
    timeline.MANDATE_REVOKED: _l("mandate revoked"),
    timeline.DEBIT_FAILED: _l("direct debit failed"),
    timeline.MANDATE_MAIL_SENT: _l("mandate unusable mail sent"),
    timeline.DOUBLE_PAYMENT: _l("possible double payment"),
}
SYNC_BADGES = {
    SyncStatus.SYNCED: "synced",
    SyncStatus.PENDING: "waiting",
    SyncStatus.RETRYING: "retrying",
    SyncStatus.FAILED: "refused",
    SyncStatus.SKIPPED: "not sent",
}
NOT_OWED = "—"


def get_invoice(invoice_id: int) -> Invoice:
    """The document with this id, with what its detail shows loaded; else ``NotFound``."""
    invoice = db.session.scalar(
        sa.select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(
            joinedload(Invoice.customer),
            joinedload(Invoice.profile),
            joinedload(Invoice.credited_invoice),
            joinedload(Invoice.document_import),
        )
    )
    if invoice is None:
        raise NotFound(f"No invoice or credit note with id {invoice_id}.")
    return invoice


@dataclass(frozen=True)
class PaymentLine:
    """One row of a document's payment ledger, as people read it: the ``Payment``'s own
    fields, but for the reason, which names its code too."""

    id: int
    occurred_at: datetime
    source: PaymentSource
    kind: PaymentKind
    amount: Decimal  # signed: a refund, chargeback or return is negative
    currency: str
    reference: str | None
    reason: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    reason_code: str | None = None
    stored_reason: str | None = None  # ``reason`` as written, without its code

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language, its code after it ("fonds insuffisants
        (AM04)"); ``reason`` stays English for the API."""
        reason = history.reason_text(self.stored_reason)
        if self.reason_code:
            return f"{reason} ({self.reason_code})" if reason else self.reason_code
        return reason

    @property
    def shown_cancel_reason(self) -> str:
        return history.reason_text(self.cancel_reason)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def counts(self) -> bool:
        return self.cancelled_at is None


@dataclass(frozen=True)
class InvoiceDetail:
    invoice: Invoice
    events: list[InvoiceEvent]  # newest first
    credit_notes: list[Invoice]  # the credit notes offset against this invoice
    payments: list[PaymentLine] = field(default_factory=list)  # newest last
    online_payments: list[OnlinePayment] = field(default_factory=list)  # newest last
    collections: list[Collection] = field(default_factory=list)  # direct debits, newest last
    teamleader_sync: str = NOT_OWED  # ``teamleader_sync_state``
    may_mark_paid: bool = False
    may_archive: bool = False
    may_resend: bool = False  # Teamleader refused it, or it was not sent
    overpayments: list[Overpayment] = field(default_factory=list)  # oldest first
    overpayment: Overpayment | None = None  # the one waiting for a decision
    may_refund: bool = False  # an online payment can carry the waiting one back


def invoice_detail(invoice_id: int) -> InvoiceDetail:
    """A document with its timeline (newest first), the credit notes against it, its
    payments and where Teamleader stands with them."""
    invoice = get_invoice(invoice_id)
    events = db.session.scalars(
        sa.select(InvoiceEvent)
        .where(InvoiceEvent.invoice_id == invoice.id)
        .order_by(InvoiceEvent.occurred_at.desc(), InvoiceEvent.id.desc())
    )
    credit_notes = db.session.scalars(
        sa.select(Invoice)
        .where(Invoice.credited_invoice_id == invoice.id)
        .order_by(Invoice.invoice_date, Invoice.id)
    )
    online = db.session.scalars(
        sa.select(OnlinePayment)
        .where(
            # Its own, and the portal's payments of several that include it.
            (OnlinePayment.invoice_id == invoice.id)
            | OnlinePayment.id.in_(
                sa.select(OnlinePaymentDocument.online_payment_id).where(
                    OnlinePaymentDocument.invoice_id == invoice.id
                )
            )
        )
        .order_by(OnlinePayment.created_at, OnlinePayment.id)
    )
    collections = db.session.scalars(
        sa.select(Collection)
        .where(Collection.invoice_id == invoice.id)
        .options(joinedload(Collection.mandate))
        .order_by(Collection.id)
    )
    sync = invoice.teamleader_sync
    surplus = overpayments.of(invoice)
    waiting = next((r for r in surplus if r.status == OverpaymentStatus.OPEN), None)
    return InvoiceDetail(
        invoice=invoice,
        events=list(events),
        credit_notes=list(credit_notes),
        payments=payments_of(invoice),
        online_payments=list(online),
        collections=list(collections),
        teamleader_sync=teamleader_sync_state(invoice),
        may_mark_paid=may_mark_paid(invoice),
        may_archive=invoice.state != InvoiceState.ARCHIVED,
        may_resend=sync is not None and sync.status in NEEDS_A_PERSON,
        overpayments=surplus,
        overpayment=waiting,
        may_refund=waiting is not None and checkout.refundable(invoice, waiting.amount) is not None,
    )


def payments_of(invoice: Invoice) -> list[PaymentLine]:
    """The document's ledger, oldest first, cancelled rows included."""
    rows = sorted(invoice.payments, key=lambda p: (p.occurred_at, p.id))
    return [_line(p) for p in rows]


def _line(payment: Payment) -> PaymentLine:
    reason = payment.reason
    if payment.reason_code:
        reason = f"{reason} ({payment.reason_code})" if reason else payment.reason_code
    return from_attributes(PaymentLine, payment, reason=reason, stored_reason=payment.reason)


def may_mark_paid(invoice: Invoice) -> bool:
    """Whether "mark as paid" applies: an open invoice with something due."""
    return (
        invoice.kind == DocumentKind.INVOICE
        and invoice.state in ledger.PAYABLE
        and invoice.amount_due > ledger.ZERO
    )


def teamleader_sync_state(invoice: Invoice) -> str:
    """Where Teamleader stands with the document's payments, in a few words: "in line",
    "waiting", "retrying (why)", "refused (why)", "not sent (why)", or "—" when
    Teamleader was never owed anything (credit notes, no payments yet)."""
    sync = invoice.teamleader_sync
    if invoice.kind != DocumentKind.INVOICE or sync is None:
        return NOT_OWED
    if sync.status == SyncStatus.SYNCED:
        return _("in line")
    label = states.label(SYNC_BADGES[sync.status])
    if sync.status == SyncStatus.PENDING or not sync.last_error:
        return label
    return _("%(state)s (%(why)s)", state=label, why=sync.last_error)
