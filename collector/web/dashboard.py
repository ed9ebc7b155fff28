"""The home page's dashboard, gathered for the whole company or one company entity (a
Teamleader department): what is owed and how old it is (``documents.receivables``),
what came in (``documents.cash_in``), the next direct debits, and what needs a person
(``needs_attention``, company-wide). Every figure is a SQL aggregate; nothing here walks
the documents one by one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from marshmallow import fields, validate

from collector.core.errors import Invalid
from collector.direct_debit import debits
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateStatus,
)
from collector.documents import cash_in, receivables
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailStatus,
    Invoice,
    Profile,
)
from collector.documents.receivables import cents_or_zero, money_sum
from collector.extensions import db
from collector.runtime.listing import QueryArgsSchema, load_args
from collector.teamleader import connection as teamleader_connection
from collector.web import charts, needs_attention

NEXT_DEBIT_DAYS = 5  # collection days shown
ALL_DAYS = 36_500  # the invoice list's largest "days overdue"


class DashboardArgsSchema(QueryArgsSchema):
    department_id = fields.String(validate=validate.Length(max=64))


@dataclass(frozen=True)
class DebitDay:
    """Direct debits of one collection day: in a file made for the bank, or announced to
    the customer (pre-notified) and waiting for a collection run."""

    on: date
    count: int
    amount: Decimal
    in_file: bool


@dataclass(frozen=True)
class Dashboard:
    today: date
    department_id: str | None
    departments: dict[str, str]  # Teamleader id → name
    owed: receivables.Receivables
    collected: cash_in.Collected
    next_debits: list[DebitDay]
    attention: list[needs_attention.Item]
    aging_chart: charts.ColumnChart
    trend_chart: charts.ColumnChart

    def list_args(self, min_days: int | None = None, max_days: int | None = None) -> dict:
        """The invoice list's query arguments for invoices still owed between ``min_days``
        and ``max_days`` past their due date (inclusive; None: no bound)."""
        args = {}
        if min_days is not None:
            args["overdue_from"] = str(min_days)
        if max_days is not None:
            args["overdue_to"] = str(max_days)
        if self.department_id:
            args["department_id"] = self.department_id
        return args

    def bucket_args(self, bucket: receivables.Bucket) -> dict:
        return self.list_args(bucket.min_days, bucket.max_days)

    def outstanding_args(self) -> dict:
        # Every document still owed: the list takes a bound on days overdue as "owed".
        return self.list_args(max_days=ALL_DAYS)

    def due_soon_args(self) -> dict:
        # Not overdue yet, the nearest due date first: the next seven days lead the list.
        return {**self.list_args(max_days=0), "sort": "due_date"}


def parse_query(args) -> str | None:
    """The department asked for (None: all), known to Teamleader; raises ``Invalid``."""
    department_id = load_args(DashboardArgsSchema(), args).get("department_id")
    if department_id and department_id not in teamleader_connection.department_names():
        problem = _("No such company entity.")
        raise Invalid({"department_id": [problem]}, _("Unknown company entity."))
    return department_id


def build(today: date, department_id: str | None = None) -> Dashboard:
    """Everything the dashboard shows on ``today``."""
    owed = receivables.receivables(today, department_id)
    settled = sa.select(Collection.payment_id).where(Collection.payment_id.is_not(None))
    money_in = cash_in.collected(today, debited=settled, department_id=department_id)
    return Dashboard(
        today=today,
        department_id=department_id,
        departments=teamleader_connection.department_names(),
        owed=owed,
        collected=money_in,
        next_debits=next_debits(today, department_id),
        attention=needs_attention.needs_attention(),
        aging_chart=charts.column_chart(owed.aging, lambda bucket: bucket.amount),
        trend_chart=charts.column_chart(money_in.weeks, lambda week: week.total),
    )


def next_debits(
    today: date, department_id: str | None = None, limit: int = NEXT_DEBIT_DAYS
) -> list[DebitDay]:
    """The next collection days, soonest first: what files made for the bank collect,
    and what mails announced that no run has taken yet (collected, if a run is made now,
    on the announced day or the first day a run made today can reach)."""
    days = _in_files(today, department_id, limit) + _announced(today, department_id)
    return sorted(days, key=lambda day: (day.on, not day.in_file))[:limit]


def _in_files(today: date, department_id: str | None, limit: int) -> list[DebitDay]:
    query = (
        sa.select(Collection.collection_date, sa.func.count(), money_sum(Collection.amount))
        .join(CollectionRun, CollectionRun.id == Collection.run_id)
        .where(
            Collection.status == CollectionStatus.PENDING,
            CollectionRun.status != CollectionRunStatus.CANCELLED,
            Collection.collection_date >= today,
        )
        .group_by(Collection.collection_date)
        .order_by(Collection.collection_date)
        .limit(limit)
    )
    if department_id is not None:
        query = query.join(Invoice, Invoice.id == Collection.invoice_id).where(
            Invoice.department_id == department_id
        )
    return [
        DebitDay(on, n, cents_or_zero(total), True) for on, n, total in db.session.execute(query)
    ]


def _announced(today: date, department_id: str | None) -> list[DebitDay]:
    """Grouped as a run made today would collect them (``collection_preview``'s rules:
    the latest sent mail's announcement, its mandate active and on the document's
    customer and profile, no more due than announced, not come back since)."""
    debitable = [
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_(debits.DEBITABLE),
        Invoice.amount_due > 0,
        Invoice.currency == debits.CURRENCY,
    ]
    if department_id is not None:
        debitable.append(Invoice.department_id == department_id)
    order = (DocumentMail.sent_at.desc(), DocumentMail.id.desc())
    # Each document's announcements, its latest ranked 1, with what the rest needs of the
    # document: joined here, it is read once (from ix_invoice_open_due on PostgreSQL, the
    # mails from ix_document_mail_announced). The profile is the document's too: checked
    # here, the owed documents are narrowed by a hash join before they meet the mails,
    # where afterwards each ranked mail looked its profile up (bench/dashboard.py).
    latest = (
        sa.select(
            DocumentMail.direct_debit_on.label("on"),
            DocumentMail.direct_debit_mandate_id.label("mandate_id"),
            DocumentMail.direct_debit_amount.label("announced"),
            Invoice.id.label("invoice_id"),
            Invoice.amount_due,
            Invoice.customer_id,
            Invoice.profile_id,
            sa.func.row_number()
            .over(partition_by=DocumentMail.invoice_id, order_by=order)
            .label("rank"),
        )
        .join(Invoice, Invoice.id == DocumentMail.invoice_id)
        .join(Profile, Profile.id == Invoice.profile_id)
        .where(
            DocumentMail.status == DocumentMailStatus.SENT,
            DocumentMail.direct_debit_on.is_not(None),
            Profile.allow_direct_debit.is_(True),
            *debitable,
        )
        .subquery()
    )
    # The last collection of each document that came back: one grouped pass, joined by
    # hash, where a NOT EXISTS per announcement was looked up row by row.
    back = (
        sa.select(Collection.invoice_id, sa.func.max(Collection.collection_date).label("on"))
        .where(Collection.status.in_((CollectionStatus.REJECTED, CollectionStatus.RETURNED)))
        .group_by(Collection.invoice_id)
        .subquery()
    )
    query = (
        sa.select(latest.c.on, sa.func.count(), money_sum(latest.c.amount_due))
        .select_from(latest)
        .join(Mandate, Mandate.id == latest.c.mandate_id)
        .outerjoin(back, back.c.invoice_id == latest.c.invoice_id)
        .where(
            # <= 1, the same as = 1 for a row number: PostgreSQL then just stops each
            # document's numbering at 1, where with = 1 it also guesses 1 row in 200 is
            # left and looks every mandate up one by one instead of hashing them.
            latest.c.rank <= 1,
            Mandate.status == MandateStatus.ACTIVE,
            Mandate.customer_id == latest.c.customer_id,
            Mandate.profile_id == latest.c.profile_id,
            sa.or_(latest.c.announced.is_(None), latest.c.amount_due <= latest.c.announced),
            sa.or_(back.c.on.is_(None), back.c.on < latest.c.on),
        )
        .group_by(latest.c.on)
    )
    earliest = debits.earliest_collection(today)
    days: dict[date, DebitDay] = {}
    for on, n, total in db.session.execute(query):
        on = max(on, earliest)
        before = days.get(on, DebitDay(on, 0, Decimal("0.00"), False))
        days[on] = DebitDay(on, before.count + n, before.amount + cents_or_zero(total), False)
    return list(days.values())
