"""The documents overview and a document's page, as the finance team reads them: what
every domain knows of a document (its ledger, online payments, direct debits, where
Teamleader and Exact Online stand), filtered and paged for the web and the API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import joinedload, selectinload

from collector.core.attributes import from_attributes
from collector.core.errors import NotFound
from collector.direct_debit.models import Collection
from collector.documents import ledger, overpayments
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
from collector.exact.models import ExactBooking
from collector.extensions import db
from collector.payments import checkout
from collector.payments.models import OnlinePayment
from collector.runtime.listing import (
    DEFAULT_PER_PAGE,
    ROW_ID,
    Page,
    PageArgsSchema,
    QueryArgsSchema,
    contains,
    load_args,
    paginate,
)
from collector.teamleader.models import NEEDS_A_PERSON, SyncStatus, TeamleaderSync

UUID_LENGTH = 36  # the hyphenated form; uuid.UUID() also takes other spellings
SYNC_PROBLEMS = "problems"  # the overview's filter: Teamleader refused it, or it was not sent
SOURCE_LABELS = {
    PaymentSource.PROVIDER: "online",
    PaymentSource.TEAMLEADER: "Teamleader",
    PaymentSource.MANUAL: "marked as paid",
    PaymentSource.BANK: "bank",
    PaymentSource.EXACT: "Exact",
}
SYNC_BADGES = {
    SyncStatus.SYNCED: "synced",
    SyncStatus.PENDING: "waiting",
    SyncStatus.RETRYING: "retrying",
    SyncStatus.FAILED: "refused",
    SyncStatus.SKIPPED: "not sent",
}
NOT_OWED = "—"


@dataclass(frozen=True)
class InvoiceFilter:
    """What the overview shows; ``None`` means "any"."""

    kind: DocumentKind | None = None
    state: InvoiceState | None = None
    profile_id: int | None = None
    customer_id: int | None = None
    department_id: str | None = None  # the Teamleader department id
    date_from: date | None = None  # invoice date, inclusive
    date_to: date | None = None  # invoice date, inclusive
    q: str | None = None  # part of the number, or a whole Teamleader id
    pdf: bool | None = None
    teamleader: str | None = None  # SYNC_PROBLEMS: refused by Teamleader or not sent


class InvoiceFilterSchema(QueryArgsSchema):
    kind = fields.Enum(DocumentKind, by_value=True)
    state = fields.Enum(InvoiceState, by_value=True)
    profile_id = fields.Integer(validate=ROW_ID)
    customer_id = fields.Integer(validate=ROW_ID)
    department_id = fields.String(validate=validate.Length(max=64))
    date_from = fields.Date()
    date_to = fields.Date()
    q = fields.String(validate=validate.Length(max=64))
    pdf = fields.Boolean()
    teamleader = fields.String(validate=validate.OneOf([SYNC_PROBLEMS]))

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(
                f"The end date comes before the start date ({start.isoformat()}).", "date_to"
            )


class InvoiceQueryArgsSchema(InvoiceFilterSchema, PageArgsSchema):
    """The overview's and the API's query string: the filter and the page."""


def parse_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as keyword arguments for ``search_invoices``
    (``criteria``, ``page``, ``per_page``); raises ``Invalid`` per argument."""
    data = load_args(InvoiceQueryArgsSchema(), args)
    page, per_page = data.pop("page"), data.pop("per_page")
    return {"criteria": InvoiceFilter(**data), "page": page, "per_page": per_page}


def search_invoices(
    criteria: InvoiceFilter, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    """One page of the documents matching ``criteria``, newest invoice date first,
    with their customer, profile and Teamleader sync loaded."""
    conditions = _conditions(criteria)
    query = (
        sa.select(Invoice)
        .where(*conditions)
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
        # selectin: one extra query per page for each, however deep the page
        # (a join would be made for every row the OFFSET skips).
        .options(
            selectinload(Invoice.customer),
            selectinload(Invoice.profile),
            selectinload(Invoice.teamleader_sync),
            selectinload(Invoice.exact_booking),
        )
    )
    count = sa.select(sa.func.count()).select_from(Invoice).where(*conditions)
    return paginate(query, count, page, per_page)


def _conditions(criteria: InvoiceFilter) -> list:
    c = criteria
    equal = {
        Invoice.kind: c.kind,
        Invoice.state: c.state,
        Invoice.profile_id: c.profile_id,
        Invoice.customer_id: c.customer_id,
        Invoice.department_id: c.department_id,
    }
    conditions = [column == value for column, value in equal.items() if value is not None]
    if c.date_from is not None:
        conditions.append(Invoice.invoice_date >= c.date_from)
    if c.date_to is not None:
        conditions.append(Invoice.invoice_date <= c.date_to)
    if c.q and c.q.strip():
        conditions.append(_number_or_teamleader_id(c.q.strip()))
    if c.pdf is not None:
        conditions.append(Invoice.pdf_key.is_not(None) if c.pdf else Invoice.pdf_key.is_(None))
    if c.teamleader == SYNC_PROBLEMS:
        # Few rows, found through the (status, next_attempt_at) index.
        refused = sa.select(TeamleaderSync.invoice_id).where(
            TeamleaderSync.status.in_(NEEDS_A_PERSON)
        )
        conditions.append(Invoice.id.in_(refused))
    return conditions


def _number_or_teamleader_id(q: str):
    if _is_uuid(q):
        # Teamleader ids are UUIDs and no document number looks like one: the unique
        # index answers at once, where a substring search reads every number.
        return Invoice.teamleader_id == q
    return sa.or_(Invoice.number.ilike(contains(q), escape="\\"), Invoice.teamleader_id == q)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == UUID_LENGTH


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

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def kind_label(self) -> str:
        return self.kind.value

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
        .where(OnlinePayment.invoice_id == invoice.id)
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
    return from_attributes(PaymentLine, payment, reason=reason)


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
        return "in line"
    label = SYNC_BADGES[sync.status]
    if sync.status == SyncStatus.PENDING or not sync.last_error:
        return label
    return f"{label} ({sync.last_error})"


def sync_badges(documents: list[Invoice]) -> dict[int, str]:
    """The overview's one-word Teamleader state per document id; documents Teamleader
    was never owed anything for are left out. Reads the sync rows ``search_invoices``
    loaded with the page."""
    return {
        d.id: SYNC_BADGES[d.teamleader_sync.status]
        for d in documents
        if d.kind == DocumentKind.INVOICE and d.teamleader_sync is not None
    }


def exact_bookings(documents: list[Invoice]) -> dict[int, ExactBooking]:
    """The Exact Online booking per document id, from the rows ``search_invoices`` loaded."""
    return {d.id: d.exact_booking for d in documents if d.exact_booking is not None}
