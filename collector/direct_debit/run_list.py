"""The collection runs list as the finance team works it: one search box (a run's number or
file, who made it, or a document, customer or mandate it collected), filters kept in the
query string, sorted by any column, the count and amount of the filtered runs per state,
what the bank made of each run's collections, and the whole list streamed for an export."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import fields, validate, validates_schema

from collector.core import clock
from collector.core.columns import Money
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateScheme,
)
from collector.documents.models import Customer, Invoice
from collector.extensions import db
from collector.runtime.listing import Page, PageArgsSchema, contains, dates_in_order, load_args
from collector.runtime.sorting import Sorts

EXPORT_BATCH = 1_000
RUN_NUMBER = re.compile(r"#?(\d{1,9})")
# What the bank made of a run's collections, in the order a page shows them.
OUTCOMES = (
    CollectionStatus.PENDING,
    CollectionStatus.SETTLED,
    CollectionStatus.REJECTED,
    CollectionStatus.RETURNED,
)

SORTS = Sorts(
    {
        "number": CollectionRun.id,
        "made": CollectionRun.created_at,
        "by": CollectionRun.actor,
        "scheme": CollectionRun.scheme,
        "until": CollectionRun.collect_until,
        "status": CollectionRun.status,
        "count": CollectionRun.count,
        "total": CollectionRun.total,
    },
    tiebreak=CollectionRun.id,
    default="-number",
)


class RunListArgsSchema(PageArgsSchema):
    """The list's query string: its filter, its order and its page."""

    q = fields.String(validate=validate.Length(max=100))
    status = fields.Enum(CollectionRunStatus, by_value=True)
    scheme = fields.Enum(MandateScheme, by_value=True)
    made_from = fields.Date()  # the company's local days, inclusive
    made_to = fields.Date()
    sort = SORTS.field()

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        dates_in_order(data, "made_from", "made_to")


def parse_query(args: Mapping[str, str]) -> dict:
    """The query string as ``criteria`` (the filter), ``sort``, ``page`` and ``per_page``;
    raises ``Invalid`` per argument."""
    data = load_args(RunListArgsSchema(), args)
    paging = {name: data.pop(name) for name in ("page", "per_page", "sort")}
    return {"criteria": data, **paging}


def conditions(criteria: Mapping) -> list:
    """The WHERE of a parsed filter."""
    c = criteria
    found = []
    if c.get("status") is not None:
        found.append(CollectionRun.status == c["status"])
    if c.get("scheme") is not None:
        found.append(CollectionRun.scheme == c["scheme"])
    if c.get("made_from"):
        found.append(CollectionRun.created_at >= _start_of(c["made_from"]))
    if c.get("made_to"):
        found.append(CollectionRun.created_at < _start_of(c["made_to"] + timedelta(days=1)))
    q = (c.get("q") or "").strip()
    if q:
        found.append(_search(q))
    return found


def _start_of(day: date) -> datetime:
    """The instant the company's local ``day`` begins."""
    return datetime.combine(day, time(), clock.zone())


def _search(q: str):
    """Runs numbered ``q`` ("12", "#12"), whose file or maker contains it, or that
    collected a document, customer or mandate it names."""
    pattern = contains(q)
    documents = sa.select(Invoice.id).where(Invoice.number.ilike(pattern, escape="\\"))
    customers = sa.select(Customer.id).where(
        sa.or_(Customer.name.ilike(pattern, escape="\\"), Customer.customer_number == q)
    )
    of_customers = sa.select(Invoice.id).where(Invoice.customer_id.in_(customers))
    mandates = sa.select(Mandate.id).where(Mandate.reference.ilike(pattern, escape="\\"))
    # A union of run ids, each found through its own indexes (trigram on the document
    # number and customer name, the collection's invoice and mandate), where an OR across
    # a four-table join reads every collection.
    collected = sa.union(
        sa.select(Collection.run_id).where(Collection.invoice_id.in_(documents)),
        sa.select(Collection.run_id).where(Collection.invoice_id.in_(of_customers)),
        sa.select(Collection.run_id).where(Collection.mandate_id.in_(mandates)),
        sa.select(Collection.run_id).where(Collection.end_to_end_id == q),
    )
    matches = [
        CollectionRun.message_id.ilike(pattern, escape="\\"),
        CollectionRun.actor.ilike(pattern, escape="\\"),
        CollectionRun.id.in_(collected),
    ]
    number = RUN_NUMBER.fullmatch(q)
    if number:
        matches.append(CollectionRun.id == int(number.group(1)))
    return sa.or_(*matches)


@dataclass(frozen=True)
class StateTotal:
    """The runs of one state (and currency) the filter matches."""

    status: CollectionRunStatus
    currency: str
    runs: int
    debits: int
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    lines: list[StateTotal]

    @property
    def runs(self) -> int:
        return sum(line.runs for line in self.lines)


def list_runs(
    criteria: Mapping, page: int = 1, per_page: int = 50, sort: str = SORTS.default
) -> tuple[Page, Totals]:
    """One page of the runs matching ``criteria`` in ``sort`` order, and the totals of all
    of them per state."""
    where = conditions(criteria)
    totals = _totals(where)
    query = (
        sa.select(CollectionRun)
        .where(*where)
        .order_by(*SORTS.order_by(sort))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = list(db.session.scalars(query))
    return Page(items=items, total=totals.runs, page=page, per_page=per_page), totals


def _totals(where: list) -> Totals:
    query = (
        sa.select(
            CollectionRun.status,
            CollectionRun.currency,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(CollectionRun.count), 0),
            sa.func.sum(CollectionRun.total, type_=Money()),
        )
        .where(*where)
        .group_by(CollectionRun.status, CollectionRun.currency)
    )
    lines = [StateTotal(*row) for row in db.session.execute(query)]
    order = list(CollectionRunStatus)
    return Totals(sorted(lines, key=lambda line: (order.index(line.status), line.currency)))


@dataclass
class Outcome:
    """What the bank made of one run's collections: how many and how much, per status."""

    counts: dict[CollectionStatus, int] = field(default_factory=dict)
    amounts: dict[CollectionStatus, Decimal] = field(default_factory=dict)


def outcomes(run_ids: list[int]) -> dict[int, Outcome]:
    """Per run id, its collections counted and summed by status (one query for a page)."""
    found: dict[int, Outcome] = defaultdict(Outcome)
    if not run_ids:
        return found
    query = (
        sa.select(
            Collection.run_id,
            Collection.status,
            sa.func.count(),
            sa.func.sum(Collection.amount, type_=Money()),
        )
        .where(Collection.run_id.in_(run_ids))
        .group_by(Collection.run_id, Collection.status)
    )
    for run_id, status, count, amount in db.session.execute(query):
        found[run_id].counts[status] = count
        found[run_id].amounts[status] = amount
    return found


@dataclass(frozen=True)
class ExportRow:
    """One run of an export: plain values."""

    number: int
    made_at: datetime
    made_by: str
    scheme: MandateScheme
    collect_until: date
    status: CollectionRunStatus
    count: int
    total: Decimal
    currency: str
    settled: int
    rejected: int
    returned: int
    message_id: str
    sent_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


def export_rows(criteria: Mapping, sort: str = SORTS.default) -> Iterator[ExportRow]:
    """Every run matching ``criteria`` in ``sort`` order with its collections counted by
    outcome, EXPORT_BATCH rows at a time (runs are few: a handful a week)."""
    counted = (
        sa.select(
            Collection.run_id,
            *(_count_of(status) for status in OUTCOMES[1:]),
        )
        .group_by(Collection.run_id)
        .subquery()
    )
    query = (
        sa.select(CollectionRun, counted.c.settled, counted.c.rejected, counted.c.returned)
        .outerjoin(counted, counted.c.run_id == CollectionRun.id)
        .where(*conditions(criteria))
        .order_by(*SORTS.order_by(sort))
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for run, settled, rejected, returned in db.session.execute(query):
        yield ExportRow(
            number=run.id,
            made_at=run.created_at,
            made_by=run.actor,
            scheme=run.scheme,
            collect_until=run.collect_until,
            status=run.status,
            count=run.count,
            total=run.total,
            currency=run.currency,
            settled=settled or 0,  # None: a run without collections
            rejected=rejected or 0,
            returned=returned or 0,
            message_id=run.message_id,
            sent_at=run.sent_at,
            cancelled_at=run.cancelled_at,
            cancel_reason=run.cancel_reason,
        )


def _count_of(status: CollectionStatus):
    return sa.func.count().filter(Collection.status == status).label(status.value)
