"""The documents overview, as the finance team works it: filtered, searched in one box,
sorted by any column and totalled in SQL; paged for the web and the API, streamed whole
for an export. A document's own page is ``invoice_detail``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from collector.core import clock
from collector.core.columns import Money
from collector.direct_debit import failed_debits
from collector.direct_debit.models import Collection
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState, Profile
from collector.exact.models import ExactBooking
from collector.extensions import db
from collector.runtime.listing import DEFAULT_PER_PAGE, Page, paginate
from collector.web import invoice_pages

# ``X as X``: names the API and the problems page have always read from this module.
from collector.web.invoice_detail import SYNC_BADGES as SYNC_BADGES
from collector.web.invoice_detail import get_invoice as get_invoice
from collector.web.invoice_detail import invoice_detail as invoice_detail
from collector.web.invoice_detail import payments_of as payments_of
from collector.web.invoice_query import (
    DEFAULT_SORT,
    RECEIVED,
    SIGNED_AMOUNT,
    SORTS,
    InvoiceFilter,
    days_overdue,
    ordering,
    partly_paid,
    signed_amount,
)
from collector.web.invoice_query import parse_query as parse_query
from collector.web.invoice_search import search_conditions

# Documents whose failed direct debit the list still shows: those left to collect.
TO_COLLECT = (InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PENDING)
EXPORT_BATCH = 1_000  # rows per fetch of an export: bounded memory, few round trips


def search_invoices(
    criteria: InvoiceFilter,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    sort: str = DEFAULT_SORT,
    today: date | None = None,
) -> Page:
    """One page of the documents matching ``criteria`` in ``sort`` order (newest invoice
    date first by default), with their customer, profile and Teamleader sync loaded."""
    today = today or clock.local_today()
    where = search_conditions(criteria, today, sort)
    counted = search_conditions(criteria, today, None)
    count = sa.select(sa.func.count()).select_from(Invoice).where(*counted)
    return paginate(_page_query(where, sort), count, page, per_page)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    amount: Decimal  # credit notes count negative
    amount_due: Decimal


@dataclass(frozen=True)
class Totals:
    """What the whole filtered list adds up to, one line per currency."""

    lines: list[CurrencyTotal]

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)


def list_invoices(
    criteria: InvoiceFilter,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    sort: str = DEFAULT_SORT,
    today: date | None = None,
    position: invoice_pages.Position | None = None,
) -> invoice_pages.ListPage:
    """The overview's page (``list_page``) of the documents ``criteria`` matches. Their
    totals are a request of their own (``list_totals``): at a million documents a sum over
    the whole filter costs ten pages."""
    today = today or clock.local_today()
    # The page's own WHERE: the same documents, its search's customers read first.
    return list_page(search_conditions(criteria, today, sort), page, per_page, sort, position)


def list_totals(criteria: InvoiceFilter, today: date | None = None) -> Totals:
    """The totals of every document ``criteria`` matches, one line per currency."""
    return _totals(search_conditions(criteria, today or clock.local_today(), None))


def list_page(
    where: list,
    page: int,
    per_page: int,
    sort: str,
    position: invoice_pages.Position | None = None,
) -> invoice_pages.ListPage:
    """The page of the documents ``where`` selects — the first, the one next to
    ``position`` (a Previous or Next link's), or page ``page`` counted by OFFSET — with
    their customer, profile, Teamleader sync and Exact booking loaded. Whether a Next page
    exists is read, not counted: one key beyond the page."""
    if position is not None and position.before:
        # Back from a page that was there: a Next page follows (that page, at least).
        keys = invoice_pages.keys_from(where, sort, per_page, position)
        more = True
        if len(keys) < per_page:
            page, keys = 1, invoice_pages.keys_from(where, sort, per_page + 1, None)
            more = len(keys) > per_page
    elif position is not None or page == 1:
        keys = invoice_pages.keys_from(where, sort, per_page + 1, position)
        more = len(keys) > per_page
    else:
        keys = invoice_pages.keys_at(where, sort, page, per_page, extra=1)
        more = len(keys) > per_page
    keys = keys[:per_page]
    # The page's ids and sort values first, from the sort's index alone, then its
    # documents: whole rows are read for the page only.
    ids = [i for i, _ in keys]
    found = {d.id: d for d in db.session.scalars(_page_query([Invoice.id.in_(ids)]))}
    ends = [invoice_pages.encode(sort, value, i) for i, value in (keys[:1] + keys[-1:])]
    return invoice_pages.ListPage(
        items=[found[i] for i in ids],
        total=None,
        page=page,
        per_page=per_page,
        first=ends[0] if ends else None,
        last=ends[-1] if ends else None,
        more=more,
    )


def _ordered(query: sa.Select, sort: str) -> sa.Select:
    """``query`` in ``sort`` order, with the table that order needs joined."""
    order, _join = ordering(sort)
    return invoice_pages.joined(query, SORTS[sort.removeprefix("-")]).order_by(*order)


def _page_query(where: list, sort: str | None = None) -> sa.Select:
    query = sa.select(Invoice).where(*where)
    if sort is not None:
        query = _ordered(query, sort)
    # selectin: one extra query per page for each, however deep the page (a join would
    # be made for every row the OFFSET skips).
    return query.options(
        selectinload(Invoice.customer),
        selectinload(Invoice.profile),
        selectinload(Invoice.teamleader_sync),
        selectinload(Invoice.exact_booking),
    )


def _totals(where: list) -> Totals:
    query = (
        sa.select(
            Invoice.currency,
            sa.func.count(),
            sa.func.sum(SIGNED_AMOUNT, type_=Money()),
            sa.func.sum(Invoice.amount_due, type_=Money()),
        )
        .where(*where)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    )
    return Totals([CurrencyTotal(*row) for row in db.session.execute(query)])


@dataclass(frozen=True)
class RowFacts:
    """What the overview's row shows beyond the document's own columns."""

    days_overdue: int | None
    partly_paid: bool
    # The latest direct debit that came back, while the document is still to collect.
    failed_debit: Collection | None = None


def row_facts(documents: Iterable[Invoice], today: date | None = None) -> dict[int, RowFacts]:
    """Per document id: its days overdue and whether it is partly paid (one query for
    the money received on the page's documents)."""
    today = today or clock.local_today()
    documents = list(documents)
    received = _received([d.id for d in documents])
    failed = failed_debits.latest_failures([d.id for d in documents if d.state in TO_COLLECT])
    return {d.id: _facts(d, received.get(d.id, 0), today, failed.get(d.id)) for d in documents}


def _received(ids: list[int]) -> dict[int, Decimal]:
    if not ids:
        return {}
    query = sa.select(Invoice.id, RECEIVED).where(Invoice.id.in_(ids))
    return dict(db.session.execute(query).all())


def _facts(d: Invoice, received: Decimal, today: date, failed: Collection | None) -> RowFacts:
    return RowFacts(
        days_overdue=days_overdue(d.kind, d.state, d.amount_due, d.due_date, today),
        partly_paid=partly_paid(d.kind, d.state, d.amount_due, received),
        failed_debit=failed,
    )


@dataclass(frozen=True)
class ExportRow:
    """One document of an export: plain values, amounts signed."""

    number: str
    kind: DocumentKind
    customer: str
    customer_number: str
    invoice_date: date
    due_date: date | None
    days_overdue: int | None
    currency: str
    amount: Decimal
    amount_due: Decimal
    state: InvoiceState
    partly_paid: bool
    profile: str | None
    pdf: bool
    teamleader_id: str


def export_rows(
    criteria: InvoiceFilter,
    sort: str = DEFAULT_SORT,
    today: date | None = None,
    ids: Iterable[int] | None = None,
) -> Iterator[ExportRow]:
    """Every document matching ``criteria`` (and, given ``ids``, among those: a selection)
    in ``sort`` order, fetched EXPORT_BATCH rows at a time (columns, not entities:
    nothing accumulates in the session)."""
    today = today or clock.local_today()
    order, _join = ordering(sort)
    where = search_conditions(criteria, today, sort)
    if ids is not None:
        where = [*where, Invoice.id.in_(list(ids))]
    query = (
        sa.select(
            Invoice.number,
            Invoice.kind,
            Customer.name,
            Customer.customer_number,
            Invoice.invoice_date,
            Invoice.due_date,
            Invoice.currency,
            Invoice.total_incl_vat,
            RECEIVED.label("received"),
            Invoice.amount_due,
            Invoice.state,
            Profile.name.label("profile"),
            Invoice.pdf_key.is_not(None).label("pdf"),
            Invoice.teamleader_id,
        )
        .join(Customer, Invoice.customer_id == Customer.id)
        .outerjoin(Profile, Invoice.profile_id == Profile.id)
        .where(*where)
        .order_by(*order)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for row in db.session.execute(query):
        yield _export_row(row, today)


def _export_row(row, today: date) -> ExportRow:
    return ExportRow(
        number=row.number,
        kind=row.kind,
        customer=row.name,
        customer_number=row.customer_number,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        days_overdue=days_overdue(row.kind, row.state, row.amount_due, row.due_date, today),
        currency=row.currency,
        amount=signed_amount(row.kind, row.total_incl_vat),
        amount_due=row.amount_due,
        state=row.state,
        partly_paid=partly_paid(row.kind, row.state, row.amount_due, row.received),
        profile=row.profile,
        pdf=bool(row.pdf),
        teamleader_id=row.teamleader_id,
    )


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
