"""One pass over a stored mandates CSV, a chunk of 1,000 rows at a time: the chunk's
customers, references and active mandates looked up in three queries
(``mandate_lookups``), never one per row; only the references seen stay in memory for
the whole file.

The pass is a pipeline: the look-ups of chunk k+1 run beside the checks of chunk k, and
in a commit the insert of chunk k beside the checks of chunk k+1 (``mandate_beside``);
chunk k's active mandates are read once chunk k-1 is stored, so its warnings are those
of one chunk after the other."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

import sqlalchemy as sa

from collector.core.storage import DocumentStore, StoredDocumentMissing
from collector.direct_debit import mandate_lookups
from collector.direct_debit import mandate_problems as texts
from collector.direct_debit.mandate_beside import Beside
from collector.direct_debit.mandate_csv import FileProblem, MandateCsv, Row
from collector.direct_debit.mandate_lookups import Found
from collector.direct_debit.mandate_rows import ERROR, RowCheck, Verdict, warn_replacing
from collector.direct_debit.mandates import Banks
from collector.direct_debit.wording import english
from collector.documents.models import Profile
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
        active = mandate_lookups.active(ids)
        for row, verdict in zip(rows, verdicts, strict=True):
            warn_replacing(row, verdict, active)


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
    no error has been found, in a thread of its own (``mandate_beside``) while the pass
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
    with Beside(insert, "mandate-insert") as writer, mandate_lookups.look_ahead() as ahead:
        checking: list[Row] = []  # the chunk whose look-ups are running
        for chunk in _chunks(reader, CHUNK_ROWS):
            if not ahead.background:
                writer.wait()  # the session's connection is the look-ups' again (SQLite)
            found = ahead.wait()
            ahead.start(chunk)  # looked up while the chunk before is checked
            if checking:
                _check(checking, found, checker, tally, writer, insert)
                if progress is not None and told.due():
                    told.tell(progress, reader.position(), tally)
            checking = chunk
        if checking:
            _check(checking, ahead.wait(), checker, tally, writer, insert)
    tally.skipped = reader.skipped
    if progress is not None:
        told.tell(progress, max(size, 1), tally)


def _check(rows: list[Row], found: Found, checker, tally: Tally, writer: Beside, insert) -> None:
    """Checks a chunk's rows, and (a commit without an error yet) starts their insert."""
    verdicts = checker.verdicts(rows, found)
    writer.wait()  # the chunk before is stored: its mandates are active
    checker.warn_replacing(rows, verdicts)
    for verdict in verdicts:
        tally.add(verdict)
    new = _new(verdicts) if insert is not None and tally.ok else []
    if new:
        writer.start(new)  # inserted while the next chunk is checked


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
