"""The payments list as the finance team works it: every row of the payment ledger (money
in, and the refunds, chargebacks and returns that took it back) with its document and
customer; one search box, filters kept in the query string, sorted by any column, totals
per currency in SQL, and streamed whole for an export.

Dates are the company's local dates: ``date_from``/``date_to`` select the payments that
occurred from the local midnight starting the first day to the one ending the last.
Cancelled rows are left out unless asked for, and never count in the totals."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate, validates_schema

from collector.core import clock
from collector.documents.models import Customer, Invoice, Payment, PaymentKind, PaymentSource
from collector.documents.receivables import cents_or_zero, money_sum
from collector.extensions import db
from collector.runtime.listing import (
    ROW_ID,
    Page,
    PageArgsSchema,
    contains,
    dates_in_order,
    load_args,
)
from collector.runtime.sorting import SortKey, Sorts

EXPORT_BATCH = 1_000
COUNTS = Payment.cancelled_at.is_(None)

SORTS = Sorts(
    {
        "date": Payment.occurred_at,
        "customer": Customer.name,
        "number": Invoice.number,
        "kind": Payment.kind,
        "channel": Payment.source,
        "amount": Payment.amount,
        "reference": SortKey(Payment.reference, nullable=True),
    },
    tiebreak=Payment.id,
    default="-date",
)


class PaymentListArgsSchema(PageArgsSchema):
    """The list's query string: its filter, its order and its page."""

    q = fields.String(validate=validate.Length(max=100))
    kind = fields.Enum(PaymentKind, by_value=True)
    channel = fields.Enum(PaymentSource, by_value=True)
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error=_l("Three capitals.")))
    customer_id = fields.Integer(validate=ROW_ID)
    date_from = fields.Date()
    date_to = fields.Date()
    include_cancelled = fields.Boolean(load_default=False)
    sort = SORTS.field()

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        dates_in_order(data, "date_from", "date_to")


def parse_query(args: Mapping[str, str]) -> dict:
    """The query string as ``criteria`` (the filter), ``sort``, ``page`` and ``per_page``;
    raises ``Invalid`` per argument."""
    data = load_args(PaymentListArgsSchema(), args)
    paging = {name: data.pop(name) for name in ("page", "per_page", "sort")}
    return {"criteria": data, **paging}


def conditions(criteria: Mapping) -> list:
    """The WHERE of a parsed filter, on the payment table alone (the totals need no join)."""
    c = criteria
    equal = {Payment.kind: c.get("kind"), Payment.source: c.get("channel")}
    equal[Payment.currency] = c.get("currency")
    found = [column == value for column, value in equal.items() if value is not None]
    if not c.get("include_cancelled"):
        found.append(COUNTS)
    if c.get("customer_id") is not None:
        of_customer = sa.select(Invoice.id).where(Invoice.customer_id == c["customer_id"])
        found.append(Payment.invoice_id.in_(of_customer))
    if c.get("date_from"):
        found.append(Payment.occurred_at >= local_midnight(c["date_from"]))
    if c.get("date_to"):
        found.append(Payment.occurred_at < local_midnight(c["date_to"] + timedelta(days=1)))
    q = (c.get("q") or "").strip()
    if q:
        found.append(_search(q))
    return found


def local_midnight(day: date) -> datetime:
    """The instant the company's local ``day`` starts (stored instants are UTC)."""
    return datetime.combine(day, time(), tzinfo=clock.zone())


def _search(q: str):
    """Payments whose reference contains ``q``, or whose document's number contains it, or
    whose customer's name contains it or number is it."""
    pattern = contains(q)
    customers = sa.select(Customer.id).where(
        sa.or_(Customer.name.ilike(pattern, escape="\\"), Customer.customer_number == q)
    )
    documents = sa.select(Invoice.id).where(
        sa.or_(Invoice.number.ilike(pattern, escape="\\"), Invoice.customer_id.in_(customers))
    )
    return sa.or_(Payment.reference.ilike(pattern, escape="\\"), Payment.invoice_id.in_(documents))


@dataclass(frozen=True)
class Line:
    """One ledger row as the list and its export show it: plain values."""

    id: int
    occurred_at: datetime
    customer_id: int
    customer: str
    customer_number: str | None
    invoice_id: int
    number: str
    kind: PaymentKind
    source: PaymentSource
    amount: Decimal  # signed: reversals negative
    currency: str
    reference: str | None
    reason: str | None
    cancelled_at: datetime | None

    @property
    def counts(self) -> bool:
        return self.cancelled_at is None


def _lines(where: list, sort: str) -> sa.Select:
    """The columns of ``Line`` for the payments matching ``where``, in ``sort`` order."""
    return (
        sa.select(
            Payment.id,
            Payment.occurred_at,
            Customer.id.label("customer_id"),
            Customer.name.label("customer"),
            Customer.customer_number,
            Invoice.id.label("invoice_id"),
            Invoice.number,
            Payment.kind,
            Payment.source,
            Payment.amount,
            Payment.currency,
            Payment.reference,
            Payment.reason,
            Payment.cancelled_at,
        )
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .join(Customer, Invoice.customer_id == Customer.id)
        .where(*where)
        .order_by(*SORTS.order_by(sort))
    )


@dataclass(frozen=True)
class CurrencyTotal:
    """What the rows in one currency add up to; cancelled rows are not counted."""

    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    """The whole filtered list: how many rows (cancelled ones too, when shown) and, per
    currency, the rows that count and their sum."""

    rows: int
    lines: list[CurrencyTotal]

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def cancelled(self) -> int:
        return self.rows - self.count


def totals(where: list) -> Totals:
    """The totals of the payments matching ``where``, in one grouped query."""
    query = (
        sa.select(
            Payment.currency,
            sa.func.count(),
            sa.func.count(sa.case((COUNTS, Payment.id))),
            money_sum(sa.case((COUNTS, Payment.amount))),
        )
        .where(*where)
        .group_by(Payment.currency)
        .order_by(Payment.currency)
    )
    found = list(db.session.execute(query))
    lines = [CurrencyTotal(c, n, cents_or_zero(s)) for c, _rows, n, s in found if n]
    return Totals(rows=sum(row[1] for row in found), lines=lines)


def list_payments(
    criteria: Mapping, page: int = 1, per_page: int = 50, sort: str = SORTS.default
) -> tuple[Page, Totals]:
    """One page of the payments matching ``criteria`` in ``sort`` order, and the totals
    of all of them."""
    where = conditions(criteria)
    summed = totals(where)
    query = _lines(where, sort).limit(per_page).offset((page - 1) * per_page)
    items = [Line(**row._mapping) for row in db.session.execute(query)]
    return Page(items=items, total=summed.rows, page=page, per_page=per_page), summed


def export_rows(criteria: Mapping, sort: str = SORTS.default) -> Iterator[Line]:
    """Every payment matching ``criteria`` in ``sort`` order, fetched EXPORT_BATCH rows at
    a time (columns, not entities: nothing accumulates in the session)."""
    query = _lines(conditions(criteria), sort).execution_options(yield_per=EXPORT_BATCH)
    for row in db.session.execute(query):
        yield Line(**row._mapping)


def currencies() -> list[str]:
    """The currencies the ledger holds, for the filter's choices."""
    query = sa.select(Payment.currency).distinct().order_by(Payment.currency)
    return list(db.session.scalars(query))
