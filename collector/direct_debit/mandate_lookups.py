"""What a pass over a mandates CSV looks up for a chunk of 1,000 rows: its customers, its
references, and its customers' active mandates — one query each, never one per row.

On PostgreSQL a chunk's keys go to those queries as one array (``= ANY(:keys)``), not
as an ``IN`` of 1,000 parameters (which SQLAlchemy rendered and psycopg parsed: a
quarter of the check's Python time), and the queries are never prepared, and read their
index (``_planned_for_the_keys``).

The customers and references of a chunk are looked up one chunk ahead (``look_ahead``):
on PostgreSQL in a thread of their own (``mandate_beside``), on a connection of their
own, while the pass checks the chunk before and the commit inserts the one before that.
Nothing a commit inserts could change what they find: the customers are not written,
and a reference twice in the file is an error that stops the inserts. What the inserts
do change, the active mandates, is read on the session's connection once the chunk
before is stored (``active``). SQLite has one connection: there the look-ups run in
turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from collector.direct_debit.mandate_beside import Beside
from collector.direct_debit.mandate_csv import Row
from collector.direct_debit.mandates import reference_key
from collector.direct_debit.models import Mandate, MandateStatus
from collector.documents.models import Customer
from collector.extensions import db

# Local to the transaction, as SET LOCAL; the first returns the setting it replaces.
SEQUENTIAL_SCANS_OFF = sa.text(
    "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)"
)
SEQUENTIAL_SCANS_BACK = sa.text("SELECT set_config('enable_seqscan', :scans, true)")


@dataclass(frozen=True)
class Found:
    """What a chunk's look-ups found: its customers by number, its stored references by
    key."""

    customers: dict
    stored: dict


@contextmanager
def look_ahead() -> Iterator[Beside]:
    """A ``Beside`` that looks a chunk's rows up (``start(rows)``) and gives what it
    found (``wait()``): in the background on a connection of its own on PostgreSQL
    (``background`` True), there and then on the session's elsewhere."""
    if db.session.get_bind().dialect.name != "postgresql":
        with Beside(
            lambda rows: find(rows, db.session.connection()), "", background=False
        ) as ahead:
            yield ahead
        return
    with db.engine.connect() as connection:
        try:
            # Its transaction lasts the pass, and only the look-ups run on it.
            with (
                _planned_for_the_keys(connection),
                Beside(lambda rows: find(rows, connection), "mandate-look-up") as ahead,
            ):
                yield ahead
        finally:
            connection.rollback()  # it only read


def find(rows: list[Row], connection: sa.Connection) -> Found:
    """The customers and the stored references of ``rows``, looked up on ``connection``
    (on PostgreSQL, planned for their keys: ``look_ahead``)."""
    customers = _customers(connection, {row.cells["customerNumber"] for row in rows})
    keys = {reference_key(row.cells["mandateNumber"]) for row in rows}
    stored = _stored(connection, keys - {""})
    return Found(customers, stored)


def active(customer_ids: set[int]) -> dict:
    """(customer id, profile id) → the latest signed active mandate, as the session's
    transaction sees them (with a commit's inserts)."""
    connection = db.session.connection()
    with _planned_for_the_keys(connection):
        return _active(connection, customer_ids)


@contextmanager
def _planned_for_the_keys(connection: sa.Connection):
    """On PostgreSQL, the chunk's look-ups are not prepared, and they read the indexes.

    psycopg prepares a statement after five runs, and PostgreSQL may then settle on a
    generic plan, made for the mandates table as its statistics saw it. In the commit the
    table grows by the file's rows, which no ANALYZE sees before the commit ends: a
    generic plan made while it was small scans it whole for every chunk, comparing each
    row with each of the 1,000 keys one by one (a parameter, not a constant array it
    could hash). After a table of 100,000 mandates was emptied, a commit of 100,000 rows
    took 25 to 376 s, up to 182 s of it the server's CPU. Only the look-ups: forcing
    custom plans for the whole transaction (``plan_cache_mode``) also re-planned the
    foreign-key checks of every inserted row, and doubled the insert's CPU.

    Planned for its keys, a look-up of 1,000 references in a table of 100,000 mandates
    still scans the whole table (11 ms), where the unique index finds them in 1 to 2 ms:
    the planner prices 1,000 index probes above reading a table of 1,200 pages, on any
    server up to a few hundred thousand mandates. A file of 100,000 rows makes 100
    chunks, each with two look-ups in that table. Each of the three look-ups has its
    index (``customer_number``, ``reference_key``, ``customer_id, status``), so they
    run with sequential scans off, and the setting is put back after them."""
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    scans = connection.scalar(SEQUENTIAL_SCANS_OFF)
    try:
        yield
    finally:
        driver.prepare_threshold = threshold
        connection.execute(SEQUENTIAL_SCANS_BACK, {"scans": scans})


def _customers(connection: sa.Connection, numbers: set[str]) -> dict:
    numbers.discard("")
    if not numbers:
        return {}
    query = sa.select(Customer.id, Customer.customer_number, Customer.name, Customer.profile_id)
    rows = connection.execute(query.where(_among(connection, Customer.customer_number, numbers)))
    return {row.customer_number: row for row in rows}


def _stored(connection: sa.Connection, keys: set[str]) -> dict:
    if not keys:
        return {}
    query = (
        sa.select(
            Mandate.reference_key,
            Mandate.reference,
            Mandate.customer_id,
            Customer.customer_number,
            Mandate.iban,
            Mandate.bic,
            Mandate.signed_on,
            Mandate.profile_id,
            Mandate.scheme,
            Mandate.status,
        )
        .join(Customer, Mandate.customer_id == Customer.id)
        .where(_among(connection, Mandate.reference_key, keys))
    )
    return {row.reference_key: row for row in connection.execute(query)}


def _active(connection: sa.Connection, customer_ids: set[int]) -> dict:
    """(customer id, profile id) → the latest signed active mandate."""
    if not customer_ids:
        return {}
    query = (
        sa.select(Mandate.customer_id, Mandate.profile_id, Mandate.reference, Mandate.signed_on)
        .where(
            _among(connection, Mandate.customer_id, customer_ids),
            Mandate.status == MandateStatus.ACTIVE,
        )
        .order_by(Mandate.signed_on)
    )
    return {(row.customer_id, row.profile_id): row for row in connection.execute(query)}


def _among(connection: sa.Connection, column, values: set):
    """``column`` is one of ``values``: one array parameter on PostgreSQL, an ``IN`` list
    elsewhere (SQLite has no arrays)."""
    if connection.dialect.name != "postgresql":
        return column.in_(values)
    # A list, which psycopg sends as an array value: unprepared, the planner sees its
    # elements (it hashes them for a scan). The text of an array cast to one stays an
    # expression (array_in is only stable), compared element by element: with the
    # mandates' statistics saying empty, 1.6 s a look-up of 100,000 stored rows.
    return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))
