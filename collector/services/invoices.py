"""The documents overview: filter, page and read invoices and credit notes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import joinedload, selectinload

from collector.extensions import db
from collector.models import DocumentKind, Invoice, InvoiceEvent, InvoiceState
from collector.services.errors import NotFound
from collector.services.listing import (
    DEFAULT_PER_PAGE,
    ROW_ID,
    Page,
    PageArgsSchema,
    QueryArgsSchema,
    contains,
    load_args,
    paginate,
)

UUID_LENGTH = 36  # the hyphenated form; uuid.UUID() also takes other spellings


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
    with their customer and profile loaded."""
    conditions = _conditions(criteria)
    query = (
        sa.select(Invoice)
        .where(*conditions)
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
        # selectin: one extra query per page for each, however deep the page
        # (a join would be made for every row the OFFSET skips).
        .options(selectinload(Invoice.customer), selectinload(Invoice.profile))
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
class InvoiceDetail:
    invoice: Invoice
    events: list[InvoiceEvent]  # newest first
    credit_notes: list[Invoice]  # the credit notes offset against this invoice


def invoice_detail(invoice_id: int) -> InvoiceDetail:
    """A document with its timeline (newest first) and the credit notes against it."""
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
    return InvoiceDetail(invoice=invoice, events=list(events), credit_notes=list(credit_notes))
