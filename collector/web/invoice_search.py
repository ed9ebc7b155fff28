"""The documents' search, with the matching customers read first: for the list's page,
its totals, the API's page and the export.

``conditions`` finds a search's customers inside the statement (``= ANY(ARRAY(…))``),
which leaves the planner guessing how many documents they hold: for a word shared by one
customer in twelve it guessed 437 of 83,298 and read and sorted them all for every page
(``bench/overview.py`` at a million documents, 250–520 ms). The rows are read here with
the customers' ids written out as a constant, so the planner counts them and walks the
sort's index instead; the sort by customer also names them on the customer it walks in
name order, so it reads only theirs (named on the document alone, it walked every
customer before the word's through all their documents: seconds).

Beyond ``MAX_CUSTOMERS`` (a third of the bench's 30,000 customers) the customers are
one hashed ``IN (subquery)`` checked on each document the sort's index gives: with that
many matching, a page is found within a few hundred. (``conditions``' ARRAY there took
two minutes for "v" at a million: the trigram index cannot narrow one letter, so each
document's recheck searched the 24,000 ids one by one.)
The totals read a search's customers the same way, with no order: through ``conditions``
a word of one letter took minutes there too ("v" 0.43 s now, "nv" 0.28 s against 18 s).
SQLite keeps ``conditions``' plain SQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa

from collector.documents.models import Customer, Invoice
from collector.extensions import db
from collector.web.invoice_query import SORTS, InvoiceFilter, conditions, search_terms

# Customers a search writes out as a constant: ~60 KB of SQL at most. A word of a name
# shared by one customer in twelve is 2,500 of 30,000.
MAX_CUSTOMERS = 10_000
# Shorter, a search's trigram index cannot narrow the documents' numbers: the walk by
# name would first read every number for the customers of those matching (0.7 s for
# "nv" at a million). The hashed IN walks from the first name instead (0.08 s).
TRIGRAM = 3


def search_conditions(criteria: InvoiceFilter, today: date, sort: str | None) -> list:
    """The WHERE of the page of ``criteria`` in ``sort`` order (None: no order, for the
    totals): ``conditions``' rows, the search's customers read first (see the module)."""
    q = (criteria.q or "").strip()
    if not q or db.engine.dialect.name != "postgresql":
        return conditions(criteria, today)
    by_document, by_customer = search_terms(q)
    rest = conditions(replace(criteria, q=None), today)
    matching = _matching(by_customer)
    if matching is not None and not matching.ids:
        return [*rest, by_document]
    search = None
    by_name = sort is not None and SORTS[sort.removeprefix("-")].join is Customer
    if matching is not None and not by_name:
        search = [sa.or_(by_document, _one_of(Invoice.customer_id, matching.ids))]
    elif matching is not None and len(q) >= TRIGRAM:
        search = _walk(matching, by_document)
    if search is None:  # past the bound, or too short a word to walk by name
        found = sa.select(Customer.id).where(by_customer)
        search = [sa.or_(by_document, Invoice.customer_id.in_(found))]
    return [*rest, *search]


@dataclass(frozen=True)
class _Matching:
    ids: list[int]
    first: str | None  # the first and last of their names in the database's collation
    last: str | None


def _matching(by_customer) -> _Matching | None:
    """The customers ``by_customer`` selects; None past the bound. One row from the
    database: 2,500 ids read as rows took SQLAlchemy longer than the search."""
    found = sa.select(Customer.id, Customer.name).where(by_customer)
    found = found.limit(MAX_CUSTOMERS + 1).subquery()
    ids, first, last = db.session.execute(
        sa.select(
            sa.func.array_agg(found.c.id), sa.func.min(found.c.name), sa.func.max(found.c.name)
        )
    ).one()
    ids = ids or []
    return None if len(ids) > MAX_CUSTOMERS else _Matching(ids, first, last)


def _walk(matching: _Matching, by_document) -> list | None:
    """The sort by customer's search: the customers walked in name order — the word's,
    and those of the documents whose own number or Teamleader id matches (none, for a
    word of a name) — and which of their documents match; None past the bound."""
    their = sa.select(Invoice.customer_id).where(by_document).distinct()
    theirs = db.session.scalars(their.limit(MAX_CUSTOMERS + 1)).all()
    walked = {*matching.ids, *theirs}
    if len(walked) > MAX_CUSTOMERS:
        return None
    if theirs:
        # Rare (a part of a number that is also in names): walked from the first name.
        search = sa.or_(by_document, _one_of(Invoice.customer_id, matching.ids))
        return [_one_of(Customer.id, walked), search]
    # Every document of the word's customers matches: said again on the document, the
    # planner would count one in twelve of theirs, expect to walk twelve times the
    # customers it needs, and hand the walk to parallel workers. Their names bound the
    # walk: it starts at the first of them, not at "A".
    named = Customer.name.between(matching.first, matching.last)
    return [_one_of(Customer.id, matching.ids), named]


def _one_of(column, ids) -> sa.ColumnElement:
    # A constant, not a bound array: a statement psycopg has prepared (its fifth run)
    # may be planned once for any array, and then the count is a guess again.
    array = sa.literal_column(f"'{{{','.join(str(int(i)) for i in sorted(ids))}}}'::integer[]")
    return column == sa.any_(array)
