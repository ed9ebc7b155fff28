"""The overview's question in SQL: the filter and its query string, the one search box,
days overdue, and the sort keys; with the Python twins of the SQL rules, so a row shows
what its filter selected it for."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext
from marshmallow import ValidationError, fields, validate, validates_schema

from collector.documents import ledger
from collector.documents.models import (
    Customer,
    DocumentKind,
    Invoice,
    InvoiceState,
    Payment,
    Profile,
)
from collector.dunning import schedule
from collector.extensions import db
from collector.runtime.listing import (
    ROW_ID,
    PageArgsSchema,
    QueryArgsSchema,
    contains,
    dates_in_order,
    load_args,
)
from collector.teamleader.models import NEEDS_A_PERSON, TeamleaderSync

UUID_LENGTH = 36  # the hyphenated form; uuid.UUID() also takes other spellings
SYNC_PROBLEMS = "problems"  # the overview's filter: Teamleader refused it, or it was not sent
MAX_DAYS = 36_500  # days overdue beyond a century are a typo, not a question

# Still owed by the customer: what "overdue" and the aging are counted on.
OUTSTANDING = sa.and_(
    Invoice.kind == DocumentKind.INVOICE,
    Invoice.state.in_(ledger.PAYABLE),
    Invoice.amount_due > 0,
)
# Money received on an open invoice and still standing: its payments less the refunds,
# returns and chargebacks taken from them (cancelled rows do not count); 0 for any other
# document. The subquery runs only for the open invoices of the rows read (a CASE), each
# through the index on payment.invoice_id: for a page or an export, never the whole list.
RECEIVED = sa.case(
    (
        sa.and_(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(ledger.OPEN),
            Invoice.amount_due > 0,
        ),
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0))
        .where(Payment.invoice_id == Invoice.id, Payment.cancelled_at.is_(None))
        .correlate(Invoice)
        .scalar_subquery(),
    ),
    else_=0,
)
# A credit note takes money off: its total counts negative in sums and sorts. The sorts
# by it and by days overdue read the indexes on these very expressions
# (``ix_invoice_signed_amount_id``, ``ix_invoice_overdue_id``): change them together.
SIGNED_AMOUNT = sa.case(
    (Invoice.kind == DocumentKind.CREDIT_NOTE, -Invoice.total_incl_vat),
    else_=Invoice.total_incl_vat,
)


@dataclass(frozen=True)
class SortKey:
    """A column the overview sorts by, and the table it needs joined for that."""

    expression: sa.ColumnElement
    join: type | None = None
    inverted: bool = False  # more days overdue is an earlier due date
    nullable: bool = False  # rows without a value go last, whichever the direction


SORTS = {
    "number": SortKey(Invoice.number),
    "kind": SortKey(Invoice.kind),
    "customer": SortKey(Customer.name, join=Customer),
    "invoice_date": SortKey(Invoice.invoice_date),
    "due_date": SortKey(Invoice.due_date, nullable=True),
    "overdue": SortKey(sa.case((OUTSTANDING, Invoice.due_date)), inverted=True, nullable=True),
    "amount": SortKey(SIGNED_AMOUNT),
    "amount_due": SortKey(Invoice.amount_due),
    "state": SortKey(Invoice.state),
    "profile": SortKey(Profile.name, join=Profile, nullable=True),
    "pdf": SortKey(Invoice.pdf_key.is_not(None)),
}
DEFAULT_SORT = "-invoice_date"  # "-" in front: high to low


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
    # Part of the document number or of the customer's name, or a whole Teamleader id
    # (document or customer) or customer number.
    q: str | None = None
    pdf: bool | None = None
    teamleader: str | None = None  # SYNC_PROBLEMS: refused by Teamleader or not sent
    overdue_from: int | None = None  # days past the due date, inclusive (documents owed)
    overdue_to: int | None = None  # inclusive; 0: owed but not overdue yet
    dunning: str | None = None  # schedule.DUE or schedule.HAND_OFF


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
    overdue_from = fields.Integer(validate=validate.Range(min=0, max=MAX_DAYS))
    overdue_to = fields.Integer(validate=validate.Range(min=0, max=MAX_DAYS))
    dunning = fields.String(validate=validate.OneOf(schedule.FILTERS))

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        dates_in_order(data, "date_from", "date_to")

    @validates_schema
    def _days_in_order(self, data, **_kwargs):
        low, high = data.get("overdue_from"), data.get("overdue_to")
        if low is not None and high is not None and low > high:
            later = gettext("The last day comes before the first (%(day)s).", day=low)
            raise ValidationError(later, "overdue_to")


def _known_sort(value: str) -> None:
    if value.removeprefix("-") not in SORTS:
        raise ValidationError(
            gettext(
                "Sort by one of: %(keys)s; a - in front sorts the other way round.",
                keys=", ".join(SORTS),
            )
        )


class InvoiceQueryArgsSchema(InvoiceFilterSchema, PageArgsSchema):
    """The overview's and the API's query string: the filter, the order and the page."""

    sort = fields.String(load_default=DEFAULT_SORT, validate=_known_sort)


def parse_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as keyword arguments for ``search_invoices`` and
    ``list_invoices`` (``criteria``, ``page``, ``per_page``, ``sort``); raises ``Invalid``
    per argument."""
    data = load_args(InvoiceQueryArgsSchema(), args)
    page, per_page, sort = data.pop("page"), data.pop("per_page"), data.pop("sort")
    return {"criteria": InvoiceFilter(**data), "page": page, "per_page": per_page, "sort": sort}


def ordering(sort: str) -> tuple[list, type | None]:
    """The ORDER BY of ``sort`` (a key of SORTS, "-" in front for high to low), and the
    table it needs joined."""
    key = SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    column = key.expression.desc() if descending != key.inverted else key.expression.asc()
    if key.nullable:
        # Only where NULLs can be: NULLS LAST on a NOT NULL column would keep PostgreSQL
        # from reading the (invoice_date, id) index backwards for the default order.
        column = column.nulls_last()
    # The id settles ties, so paging never shows a row twice or skips one.
    tiebreak = Invoice.id.desc() if descending else Invoice.id.asc()
    return [column, tiebreak], key.join


def conditions(criteria: InvoiceFilter, today: date) -> list:
    """The WHERE of ``criteria``; days overdue are counted back from ``today``."""
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
        conditions.append(_search(c.q.strip()))
    if c.pdf is not None:
        conditions.append(Invoice.pdf_key.is_not(None) if c.pdf else Invoice.pdf_key.is_(None))
    if c.teamleader == SYNC_PROBLEMS:
        # Few rows, found through the (status, next_attempt_at) index.
        refused = sa.select(TeamleaderSync.invoice_id).where(
            TeamleaderSync.status.in_(NEEDS_A_PERSON)
        )
        conditions.append(Invoice.id.in_(refused))
    if c.dunning is not None:
        conditions.append(schedule.filter_condition(c.dunning, today))
    return conditions + _overdue(c.overdue_from, c.overdue_to, today)


def _search(q: str):
    """Documents whose number or customer's name contains ``q``, or whose own or
    customer's Teamleader id, or customer number, is ``q``."""
    by_document, by_customer = search_terms(q)
    return sa.or_(by_document, _customer_in(sa.select(Customer.id).where(by_customer)))


def search_terms(q: str) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """The search for ``q`` as (the document's own terms, the customer's terms): a
    document matches when its own do, or its customer's do."""
    by_document = Invoice.teamleader_id == q
    by_customer = sa.or_(Customer.customer_number == q, Customer.teamleader_id == q)
    if not _is_uuid(q):
        # A UUID is in no name or number: then the unique indexes answer at once. The
        # substrings are found through the trigram indexes on PostgreSQL.
        pattern = contains(q)
        by_document = sa.or_(by_document, Invoice.number.ilike(pattern, escape="\\"))
        by_customer = sa.or_(by_customer, Customer.name.ilike(pattern, escape="\\"))
    return by_document, by_customer


def _customer_in(customers: sa.Select):
    """The document's customer is one of ``customers``. On PostgreSQL written
    ``= ANY (ARRAY(…))``: an index condition, so the number's, the Teamleader id's and
    the customer's indexes are ORed into one bitmap and only the matching documents are
    read. ``IN (…)`` under an OR is checked on every document, and the union of ids it
    replaced read them all twice (100 ms for a common word of a name at 100,000)."""
    if db.engine.dialect.name == "postgresql":
        return Invoice.customer_id == sa.any_(sa.func.array(customers.scalar_subquery()))
    return Invoice.customer_id.in_(customers)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == UUID_LENGTH


def _overdue(low: int | None, high: int | None, today: date) -> list:
    if low is None and high is None:
        return []
    # A bound on days overdue asks for documents still owed. One without a due date is
    # never overdue: it counts as 0 days, as in the dashboard's aging ("current").
    conditions = [OUTSTANDING]
    no_due_date = Invoice.due_date.is_(None)
    if low is not None:
        since = Invoice.due_date <= today - timedelta(days=low)
        conditions.append(sa.or_(since, no_due_date) if low == 0 else since)
    if high is not None:
        within = Invoice.due_date >= today - timedelta(days=high)
        # No due date is within any upper bound, unless a lower one above 0 left it out
        # already: then a plain range, which ix_invoice_open_due reads from both ends.
        conditions.append(within if low else sa.or_(within, no_due_date))
    return conditions


def is_outstanding(kind: DocumentKind, state: InvoiceState, amount_due: Decimal) -> bool:
    """Whether the customer still owes on the document (``OUTSTANDING``, in Python)."""
    return kind == DocumentKind.INVOICE and state in ledger.PAYABLE and amount_due > 0


def days_overdue(
    kind: DocumentKind, state: InvoiceState, amount_due: Decimal, due: date | None, today: date
) -> int | None:
    """Days past the due date of a document still owed; None when it is not overdue."""
    if due is None or not is_outstanding(kind, state, amount_due):
        return None
    days = (today - due).days
    return days if days > 0 else None


def partly_paid(
    kind: DocumentKind, state: InvoiceState, amount_due: Decimal, received: Decimal
) -> bool:
    """An open invoice on which money was received (``RECEIVED``: payments less what went
    back) and something is still due. A credit note lowers what is due but pays nothing:
    alone, it does not make an invoice partly paid."""
    return kind == DocumentKind.INVOICE and state in ledger.OPEN and amount_due > 0 and received > 0


def signed_amount(kind: DocumentKind, total: Decimal) -> Decimal:
    """The document's total as it counts: a credit note's negative."""
    return -total if kind == DocumentKind.CREDIT_NOTE else total
