"""One pass over a stored mandates CSV, a chunk of rows at a time: one query for the
chunk's customers, one for its references, one for its customers' active mandates,
never one per row; only the references seen stay in memory for the whole file.

On PostgreSQL a chunk's keys go to those queries as one array (``= ANY(:keys)``), not
as an ``IN`` of 1,000 parameters (which SQLAlchemy rendered and psycopg parsed: a
quarter of the check's Python time), and the queries are never prepared
(``_planned_for_the_keys``): each is planned with its keys as a constant, and reads its
index.

In the commit the insert of a chunk runs beside the look-ups and checks of the next
(``mandate_writer``), its customers and references looked up on a connection of their
own (``_look_ups``); the next chunk's active mandates are read once it is stored."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from collector.core.storage import DocumentStore, StoredDocumentMissing
from collector.direct_debit import mandate_problems as texts
from collector.direct_debit.mandate_csv import FileProblem, MandateCsv, Row
from collector.direct_debit.mandate_rows import ERROR, RowCheck, Verdict, warn_replacing
from collector.direct_debit.mandate_writer import Writer
from collector.direct_debit.mandates import Banks, reference_key
from collector.direct_debit.models import Mandate, MandateStatus
from collector.direct_debit.wording import english
from collector.documents.models import Customer, Profile
from collector.extensions import db

CHUNK_ROWS = 1000
PROBLEMS_KEPT = 500
PROGRESS_SECONDS = 1.0


@dataclass
class Tally:
    """What a pass over the file found."""

    rows: int = 0
    new: int = 0
    unchanged: int = 0
    errors: int = 0
    warnings: int = 0
    skipped: int = 0
    problems: list[dict] = field(default_factory=list)
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors

    def add(self, verdict: Verdict) -> None:
        self.rows += 1
        for problem in verdict.problems:
            if problem.level == ERROR:
                self.errors += 1
            else:
                self.warnings += 1
            if len(self.problems) < PROBLEMS_KEPT:
                self.problems.append(problem.as_dict())
        if not verdict.failed:
            self.new += verdict.values is not None
            self.unchanged += verdict.unchanged


class Profiles:
    """Every profile, read once per file: there are a handful."""

    def __init__(self):
        rows = db.session.execute(sa.select(Profile.id, Profile.name, Profile.allow_direct_debit))
        self.by_id = {row.id: row for row in rows}
        self.by_name = {row.name.strip().lower(): row for row in self.by_id.values()}

    def find(self, text: str):
        """The profile named ``text`` (any case), else the one with that id, else None."""
        found = self.by_name.get(text.lower())
        if found is None and text.isdigit():
            found = self.by_id.get(int(text))
        return found


class RowChecker:
    """Checks a file's rows chunk by chunk, remembering the references it has seen (the
    only thing kept for the whole file). ``checked``: a check found every IBAN of the
    file valid (``scan``)."""

    def __init__(self, today: date, *, checked: bool = False):
        self.today, self.checked = today, checked
        self.profiles = Profiles()
        self.banks = Banks()
        self.seen: dict[str, int] = {}  # reference key → the row it was first on

    def look_up(self, rows: list[Row], connection: sa.Connection) -> Found:
        """What is stored about ``rows``: their customers and their references."""
        with _planned_for_the_keys(connection):
            customers = _customers(connection, {row.cells["customerNumber"] for row in rows})
            keys = {reference_key(row.cells["mandateNumber"]) for row in rows}
            stored = _stored(connection, keys - {""})
        return Found(customers, stored)

    def verdicts(self, rows: list[Row], found: Found) -> list[Verdict]:
        """A verdict per row of ``rows``, in order; Python only, no statement."""
        customers, stored = found.customers, found.stored
        return [RowCheck(self, row, customers, stored).verdict() for row in rows]

    def warn_replacing(self, rows: list[Row], verdicts: list[Verdict]) -> None:
        """Warns on the rows whose new mandate meets an active one of its customer on the
        same profile, as stored in the session's transaction (with the chunks before)."""
        ids = {verdict.values["customer_id"] for verdict in verdicts if verdict.values}
        if not ids:
            return
        connection = db.session.connection()
        with _planned_for_the_keys(connection):
            active = _active(connection, ids)
        for row, verdict in zip(rows, verdicts, strict=True):
            warn_replacing(row, verdict, active)


@dataclass(frozen=True)
class Found:
    """What one chunk's look-ups found."""

    customers: dict
    stored: dict


def scan(
    file_key: str,
    size: int,
    store: DocumentStore,
    today: date,
    *,
    progress=None,
    insert=None,
    checked: bool = False,
) -> Tally:
    """One pass over the stored file; ``insert`` is given each chunk's new mandates while
    no error has been found, in a thread of its own (``mandate_writer``) while the pass
    checks the next chunk. The last chunk's are inserted before it returns.

    ``checked``: a check passed over this file without an error, so its IBANs are read
    without being validated again. What is stored cannot change an IBAN's validity, and
    the store keys a file by its SHA-256, so ``file_key`` names the bytes the check read.
    Everything else is checked again: what depends on what is stored now, and what costs
    little (a reference twice in the file, a date, an e-mail address)."""
    if progress is not None and insert is not None:
        # Telling progress commits the session: it would commit a part of the inserts.
        raise ValueError("A pass that inserts tells no progress.")
    tally = Tally()
    checker = RowChecker(today, checked=checked)
    try:
        with store.open(file_key) as binary, _old_objects_left_alone():
            _pass(MandateCsv(binary), checker, tally, size, progress, insert)
    except StoredDocumentMissing:
        tally.file_error = english(texts.NO_LONGER_STORED)
    except FileProblem as exc:
        tally.file_error = str(exc)
    if tally.file_error is None and tally.rows == 0:
        tally.file_error = english(texts.NO_ROWS)
    return tally


def _pass(reader: MandateCsv, checker: RowChecker, tally: Tally, size, progress, insert) -> None:
    if progress is not None:
        progress.total(max(size, 1))
    told = Told()
    # A check starts no insert, so its writer never starts a thread.
    with Writer(insert) as writer, _look_ups(apart=insert is not None) as look_ups:
        for chunk in _chunks(reader, CHUNK_ROWS):
            if look_ups.shared:
                writer.wait()  # the connection is the look-ups' again (SQLite)
            verdicts = checker.verdicts(chunk, checker.look_up(chunk, look_ups.connection()))
            writer.wait()  # the chunk before is stored: its mandates are active
            checker.warn_replacing(chunk, verdicts)
            for verdict in verdicts:
                tally.add(verdict)
            new = _new(verdicts) if insert is not None and tally.ok else []
            if new:
                writer.start(new)  # inserted while the next chunk is looked up and checked
            if progress is not None and told.due():
                told.tell(progress, reader.position(), tally)
    tally.skipped = reader.skipped
    if progress is not None:
        told.tell(progress, max(size, 1), tally)


def _new(verdicts: list[Verdict]) -> list[dict]:
    return [verdict.values for verdict in verdicts if verdict.values is not None]


@dataclass
class Told:
    """What the job's progress has been told; it is told at most once a second (each
    time an UPDATE and a commit), not after every chunk of 1,000 rows."""

    bytes: int = 0
    rows: int = 0
    errors: int = 0
    at: float = field(default_factory=time.monotonic)

    def due(self) -> bool:
        return time.monotonic() - self.at >= PROGRESS_SECONDS

    def tell(self, progress, position: int, tally: Tally) -> None:
        rows, errors = tally.rows - self.rows, tally.errors - self.errors
        progress.advance(position - self.bytes, rows=rows, errors=errors)
        self.bytes, self.rows, self.errors = position, tally.rows, tally.errors
        self.at = time.monotonic()


@contextmanager
def _old_objects_left_alone():
    """The pass makes a few objects per row, and every few hundred of them Python's
    collector runs; its full collections went through every object the process held
    before the pass too (the app, SQLAlchemy's metadata, schwifty's bank registry): a
    tenth of the pass's CPU. Those are set aside (``gc.freeze``) for the pass and handed
    back to the collector after it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class LookUps:
    """Where a pass looks its chunks' customers and references up: the session's
    connection, or one of its own (``shared`` False)."""

    connection: Callable[[], sa.Connection]
    shared: bool


@contextmanager
def _look_ups(apart: bool) -> Iterator[LookUps]:
    """A commit on PostgreSQL looks customers and references up on a connection of its
    own, while the session's inserts the chunk before: one after the other on one
    connection, the look-ups waited for every insert, a second of a 100,000-row commit.

    Nothing the commit inserted could change what they find: the customers are not
    written, and a reference twice in the file is an error that stops the inserts. What
    the inserts do change, the active mandates, is still read in the session's
    transaction (``RowChecker.warn_replacing``). A check, and SQLite, use the session's."""
    if not apart or db.session.get_bind().dialect.name != "postgresql":
        yield LookUps(db.session.connection, shared=True)
        return
    with db.engine.connect() as connection:
        try:
            yield LookUps(lambda: connection, shared=False)
        finally:
            connection.rollback()  # it only read


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


# Local to the transaction, as SET LOCAL; the first returns the setting it replaces.
SEQUENTIAL_SCANS_OFF = sa.text(
    "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)"
)
SEQUENTIAL_SCANS_BACK = sa.text("SELECT set_config('enable_seqscan', :scans, true)")


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
