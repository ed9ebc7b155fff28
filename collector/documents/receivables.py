"""What the company is owed and what came in: the figures of the receivables dashboard.

Each figure is one SQL aggregate over the documents or the payment ledger — no document
is loaded — for the whole company or one company entity (a Teamleader department).
Business dates are the company's local dates: the caller passes ``today`` from
``clock.local_today()``. Money in is in ``cash_in``.

- *Open* invoices are those with money due in BOOKED, EXPIRED or PENDING (a collection
  under way is still owed until the bank says so). ``amount_due`` already takes off the
  payments and the credit notes linked to the invoice (``amounts.still_due``).
- *Unapplied credit*: credit notes booked without an invoice (so offset against none)
  that Teamleader does not report as paid back. A credit note whose invoice is simply
  not imported here is left out: that invoice is not in the open amount either.
  Whether Teamleader marks a credit note paid once it is settled is unverified
  (reference §7 lists ``paid``/``paid_at`` only); until it does, such a note counts here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from collector.core.columns import Money
from collector.core.money import ZERO, round_cents
from collector.documents import ledger
from collector.documents.models import (
    DocumentKind,
    Invoice,
)
from collector.extensions import db

OPEN_STATES = ledger.PAYABLE  # BOOKED, EXPIRED, PENDING
DUE_SOON_DAYS = 7  # "due in the next 7 days": today and the six days after it
DSO_DAYS = 90
CURRENCY = "EUR"  # the companies we serve invoice in euro; other currencies are left out


@dataclass(frozen=True)
class Bucket:
    """One bar of the aging chart: open invoices by days past their due date (no due
    date counts as current). ``max_days`` None: no upper bound."""

    key: str
    min_days: int | None
    max_days: int | None
    count: int = 0
    amount: Decimal = ZERO


# (key, min days overdue, max days overdue); the labels live in the template.
AGING = (
    ("current", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


@dataclass(frozen=True)
class Receivables:
    """What is owed on ``today``."""

    today: date
    open_amount: Decimal  # open invoices' amount due
    open_count: int
    unapplied_credit: Decimal
    unapplied_credit_count: int
    due_soon_amount: Decimal
    due_soon_count: int
    aging: list[Bucket]
    sales: Decimal  # invoices less credit notes dated in the last DSO_DAYS days

    @property
    def outstanding(self) -> Decimal:
        """What customers owe, net: open invoices less unapplied credit."""
        return self.open_amount - self.unapplied_credit

    @property
    def overdue_amount(self) -> Decimal:
        return sum((b.amount for b in self.aging if b.key != "current"), ZERO)

    @property
    def overdue_count(self) -> int:
        return sum(b.count for b in self.aging if b.key != "current")

    @property
    def dso(self) -> int | None:
        """Days sales outstanding (the simple method, not the count-back one): what is
        outstanding ÷ what was sold in the last 90 days × 90, in whole days, half up.
        None when nothing was sold in those days or nothing is outstanding."""
        if self.sales <= ZERO or self.outstanding <= ZERO:
            return None
        days = self.outstanding / self.sales * DSO_DAYS
        return int(days.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def receivables(
    today: date, department_id: str | None = None, currency: str = CURRENCY
) -> Receivables:
    """The open amount, its aging, what falls due soon, unapplied credit and the sales
    DSO is measured against, on ``today``, of the documents in ``currency`` (three
    queries)."""
    scope = documents_of(department_id, currency)
    buckets, due_soon_amount, due_soon_count = _aging(today, scope)
    credit, credit_count = _unapplied_credit(scope)
    return Receivables(
        today=today,
        open_amount=sum((b.amount for b in buckets), ZERO),
        open_count=sum(b.count for b in buckets),
        unapplied_credit=credit,
        unapplied_credit_count=credit_count,
        due_soon_amount=due_soon_amount,
        due_soon_count=due_soon_count,
        aging=buckets,
        sales=_sales(today, scope),
    )


def documents_of(department_id: str | None, currency: str = CURRENCY) -> list:
    """The conditions "in ``currency``, of the department (if given)": amounts in two
    currencies are never added up."""
    conditions = [Invoice.currency == currency]
    if department_id is not None:
        conditions.append(Invoice.department_id == department_id)
    return conditions


def open_invoices() -> list:
    """The conditions "an invoice with money due"."""
    return [
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_(OPEN_STATES),
        Invoice.amount_due > 0,
    ]


def _aging(today: date, scope: list) -> tuple[list[Bucket], Decimal, int]:
    # Summed per due date first, in the order of ix_invoice_open_due (no CASE hashed for
    # every owed document), then the thousand-odd days per bucket: at 100,000 documents
    # in about half the time.
    per_day = (
        sa.select(
            Invoice.due_date.label("due"),
            sa.func.count().label("n"),
            sa.func.sum(Invoice.amount_due).label("amount"),
        )
        .where(*open_invoices(), *scope)
        .group_by(Invoice.due_date)
        .subquery()
    )
    due = per_day.c.due
    # Days overdue = today - due date, compared as dates so SQLite and PostgreSQL agree.
    # The first bound that holds names the bucket; no due date is current.
    whens = [(due.is_(None), AGING[0][0])] + [
        (due >= today - timedelta(days=hi), key) for key, _lo, hi in AGING if hi is not None
    ]
    bucket = sa.case(*whens, else_=AGING[-1][0]).label("bucket")
    soon = sa.and_(due >= today, due < today + timedelta(days=DUE_SOON_DAYS))
    query = sa.select(
        bucket,
        _count_sum(per_day.c.n),
        money_sum(per_day.c.amount),
        _count_sum(sa.case((soon, per_day.c.n), else_=0)),
        money_sum(sa.case((soon, per_day.c.amount))),
    ).group_by(bucket)
    found = {row[0]: row for row in db.session.execute(query)}
    buckets = [
        Bucket(key, lo, hi, found[key][1], cents_or_zero(found[key][2]))
        if key in found
        else Bucket(key, lo, hi)
        for key, lo, hi in AGING
    ]
    current = found.get(AGING[0][0])
    return buckets, cents_or_zero(current[4]) if current else ZERO, current[3] if current else 0


def _unapplied_credit(scope: list) -> tuple[Decimal, int]:
    query = sa.select(sa.func.count(), money_sum(Invoice.total_incl_vat)).where(
        Invoice.kind == DocumentKind.CREDIT_NOTE,
        Invoice.credited_invoice_id.is_(None),
        Invoice.credited_teamleader_id.is_(None),
        Invoice.teamleader_paid_at.is_(None),
        *scope,
    )
    count, total = db.session.execute(query).one()
    return cents_or_zero(total), count


def _sales(today: date, scope: list) -> Decimal:
    """What was invoiced (with VAT, as the customer owes it) less what was credited,
    dated in the last DSO_DAYS days, today included."""
    amount = sa.func.coalesce(Invoice.payable, Invoice.total_incl_vat)
    signed = sa.case((Invoice.kind == DocumentKind.CREDIT_NOTE, -amount), else_=amount)
    query = sa.select(money_sum(signed)).where(
        # Both kinds named: the (kind, invoice_date) index then reads two short ranges.
        Invoice.kind.in_((DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)),
        Invoice.invoice_date > today - timedelta(days=DSO_DAYS),
        Invoice.invoice_date <= today,
        *scope,
    )
    return cents_or_zero(db.session.scalar(query))


def _count_sum(counts):
    """SUM of counts as an int (PostgreSQL sums bigints as numeric)."""
    return sa.cast(sa.func.sum(counts), sa.Integer)


def money_sum(expression):
    """SUM(``expression``) read back as an exact ``Decimal`` of whole cents."""
    # Typed as Money: SQLite sums numerics as doubles; Money reads them back to the cent.
    return sa.type_coerce(sa.func.sum(expression), Money())


def cents_or_zero(value: Decimal | None) -> Decimal:
    """A sum as read back: None (nothing summed) is zero."""
    return ZERO if value is None else round_cents(value)
