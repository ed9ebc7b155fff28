"""What customers owe: one customer's balance (open, overdue, unapplied credit, paid
this year), and the customers list with what each has open, sortable by it.

Read from the documents as they stand: ``amount_due`` is kept by the ledger, so these are
sums, computed in SQL. Money is per currency; a customer with open documents in two
currencies shows no single open amount on the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import fields, validate
from sqlalchemy.orm import joinedload

from collector.core import clock
from collector.core.money import ZERO, round_cents
from collector.documents.customers import CustomerQueryArgsSchema
from collector.documents.ledger import PAYABLE
from collector.documents.models import Customer, DocumentKind, Invoice, Payment
from collector.extensions import db
from collector.runtime.listing import Page, load_args, paginate, text_match

DEFAULT_CURRENCY = "EUR"
SORTS = ("name", "-name", "balance", "-balance")

# -- one customer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """What a customer owes in one currency, as the documents stand today."""

    currency: str
    open: Decimal  # still due on open invoices (booked, expired, being collected)
    open_count: int
    overdue: Decimal  # of which past its due date
    overdue_count: int
    credited: Decimal  # credit notes not offset against an invoice here (unapplied)
    paid_this_year: Decimal  # payments received this calendar year, less what went back
    year: int


def currencies(customer_id: int) -> list[str]:
    """The currencies of the customer's documents, the most used first (usually one)."""
    count = sa.func.count()
    rows = db.session.execute(
        sa.select(Invoice.currency, count)
        .where(Invoice.customer_id == customer_id)
        .group_by(Invoice.currency)
        .order_by(count.desc(), Invoice.currency)
    )
    return [currency for currency, _ in rows] or [DEFAULT_CURRENCY]


def balance(customer_id: int, currency: str, today: date) -> Balance:
    """The customer's balance in ``currency`` on the business date ``today``."""
    late = sa.and_(Invoice.due_date.is_not(None), Invoice.due_date < today)
    mine = (Invoice.customer_id == customer_id, Invoice.currency == currency)
    open_row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(Invoice.amount_due),
            sa.func.count(sa.case((late, 1))),
            sa.func.sum(sa.case((late, Invoice.amount_due), else_=ZERO)),
        ).where(*mine, Invoice.kind == DocumentKind.INVOICE, Invoice.state.in_(PAYABLE))
    ).one()
    credited = db.session.scalar(
        sa.select(sa.func.sum(Invoice.total_incl_vat)).where(
            *mine, Invoice.kind == DocumentKind.CREDIT_NOTE, Invoice.credited_invoice_id.is_(None)
        )
    )
    start, end = _year(today.year), _year(today.year + 1)
    paid = db.session.scalar(
        sa.select(sa.func.sum(Payment.amount))
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer_id, Payment.currency == currency)
        .where(Payment.cancelled_at.is_(None))
        .where(Payment.occurred_at >= start, Payment.occurred_at < end)
    )
    return Balance(
        currency=currency,
        open=_cents(open_row[1]),
        open_count=open_row[0],
        overdue=_cents(open_row[3]),
        overdue_count=open_row[2],
        credited=_cents(credited),
        paid_this_year=_cents(paid),
        year=today.year,
    )


def _year(year: int) -> datetime:
    # The company's calendar year, as the UTC instant it starts at (payments are stored
    # in UTC: a payment at 00:30 on 1 January in Brussels is still 31 December in UTC).
    return datetime(year, 1, 1, tzinfo=clock.zone()).astimezone(UTC)


def _cents(value) -> Decimal:
    # SQLite adds numerics as doubles: read the sum back to the cent, exactly.
    return ZERO if value is None else round_cents(Decimal(str(value)))


# -- the customers list, with what each has open ----------------------------------------------


@dataclass(frozen=True)
class Account:
    customer: Customer
    open: Decimal
    currency: str | None  # None: open documents in more than one currency


class AccountQueryArgsSchema(CustomerQueryArgsSchema):
    sort = fields.String(load_default="name", validate=validate.OneOf(SORTS))
    # Customers owing on a direct-debit profile without a mandate on it; mandates are
    # direct debit's, so the caller says who they are (``account_conditions``).
    without_mandate = fields.Boolean()


def parse_account_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as the list's filters, page and ``sort``; raises ``Invalid``."""
    schema = AccountQueryArgsSchema()
    return {**dict.fromkeys(schema.fields, None), **load_args(schema, args)}


def account_conditions(wanted: Mapping, without_mandate: sa.Select) -> list:
    """The conditions of the list's filters (``wanted``, parsed): ``q`` in the name, email,
    number or Teamleader id, ``profile_id``, and ``without_mandate``: the customers whose
    ids the select ``without_mandate`` gives (only run when that filter is on)."""
    conditions = text_match(
        wanted["q"], Customer.name, Customer.email, Customer.customer_number, Customer.teamleader_id
    )
    if wanted["profile_id"] is not None:
        conditions.append(Customer.profile_id == wanted["profile_id"])
    if wanted["without_mandate"]:
        conditions.append(Customer.id.in_(without_mandate))
    return conditions


def search_accounts(args: Mapping[str, str], without_mandate: sa.Select) -> Page:
    """One page of customers with what each has open, as ``args`` ask (the filters of
    ``account_conditions``), ``sort`` by name or open amount."""
    wanted = parse_account_query(args)
    conditions = account_conditions(wanted, without_mandate)
    query = sa.select(Customer).where(*conditions).options(joinedload(Customer.profile))
    sort = wanted["sort"]
    if sort.endswith("balance"):
        owed = _open_amounts().subquery("owed")
        amount = sa.func.coalesce(owed.c.open, ZERO)
        query = query.outerjoin(owed, owed.c.customer_id == Customer.id)
        query = query.order_by(amount.desc() if sort.startswith("-") else amount)
    name = Customer.name.desc() if sort == "-name" else Customer.name
    query = query.order_by(name, Customer.id)
    count = sa.select(sa.func.count()).select_from(Customer).where(*conditions)
    page = paginate(query, count, wanted["page"], wanted["per_page"])
    return replace(page, items=_accounts(page.items))


def _open_amounts(customer_ids: list[int] | None = None) -> sa.Select:
    query = (
        sa.select(
            Invoice.customer_id.label("customer_id"),
            sa.func.sum(Invoice.amount_due).label("open"),
            sa.func.min(Invoice.currency).label("currency"),
            sa.func.max(Invoice.currency).label("other_currency"),
        )
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.state.in_(PAYABLE))
        .group_by(Invoice.customer_id)
    )
    if customer_ids is not None:
        query = query.where(Invoice.customer_id.in_(customer_ids))
    return query


def _accounts(customers: list[Customer]) -> list[Account]:
    rows = db.session.execute(_open_amounts([c.id for c in customers])) if customers else []
    owed = {row.customer_id: row for row in rows}
    accounts = []
    for customer in customers:
        row = owed.get(customer.id)
        if row is None:
            accounts.append(Account(customer, ZERO, DEFAULT_CURRENCY))
            continue
        single = row.currency if row.currency == row.other_currency else None
        accounts.append(Account(customer, _cents(row.open), single))
    return accounts
