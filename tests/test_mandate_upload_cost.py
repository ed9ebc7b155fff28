"""What a pass over a mandates CSV costs per row (issue 22): the chunk look-ups are the
same statements whatever the chunk's size (one array parameter on PostgreSQL), and a
bank is looked up in schwifty's registry once per pass, not once per row, and a chunk's
new mandates go to PostgreSQL as array texts built in one join, inserted beside the
checks of the next chunk — still all or nothing, and a failed insert fails the job."""

from __future__ import annotations

import gc
import io
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from rq import SimpleWorker
from schwifty import IBAN as SchwiftyIBAN

from collector.core.clock import local_today
from collector.core.storage import FolderStore
from collector.direct_debit import jobs as direct_debit_jobs
from collector.direct_debit import (
    mandate_insert,
    mandate_lookups,
    mandate_problems,
    mandate_scan,
    mandate_upload,
    mandates,
)
from collector.direct_debit.models import (
    Mandate,
    MandateScheme,
    MandateUpload,
    MandateUploadStatus,
)
from collector.direct_debit.wording import english
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, bind_job_class
from tests.support.factories import make_customer, make_mandate, make_profile

HEADER = "customerNumber,mandateNumber,iban,bic,signDate"
IBAN = "BE71096123456769"  # bank 096: GKCCBEBB
ACTOR = "user:admin@example.com"


@pytest.fixture
def store(app, tmp_path):
    return FolderStore(tmp_path / "store")


@pytest.fixture
def people(app):
    sepa = make_profile(name="Direct debit", allow_direct_debit=True)
    return [make_customer(name=f"Customer {i}", profile=sepa) for i in range(6)]


def checked(store, rows: list[str]):
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    return mandate_upload.check(upload.id, store, today=local_today())


@pytest.mark.postgres  # SQLite has no arrays: it keeps the IN lists
def test_the_look_ups_are_the_same_statements_whatever_the_chunk_size(store, people, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 4)  # chunks of 4 and 2 rows
    rows = [f"{p.customer_number},SIZE-{i},{IBAN},,2024-01-01" for i, p in enumerate(people)]
    selects = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        upload = checked(store, rows)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)

    assert (upload.status, upload.new_count) == (MandateUploadStatus.READY, 6)
    lookups = [s for s in selects if " IN " in s or "ANY" in s]
    assert len(lookups) == 6  # customers, references, active mandates, for each chunk
    # With an IN list the chunk of 2 rendered other statements than the chunk of 4.
    assert len(set(lookups)) == 3


def test_a_pass_looks_each_bank_up_once(store, people, monkeypatch):
    lookups, reads = [], []
    real_bic, real_read = SchwiftyIBAN.bic, mandates.read_bic

    def bic(iban):
        lookups.append(iban.bank_code)
        return real_bic.fget(iban)

    def read_bic(text):
        reads.append(text)
        return real_read(text)

    monkeypatch.setattr(SchwiftyIBAN, "bic", property(bic))
    monkeypatch.setattr(mandates, "read_bic", read_bic)
    # Six rows of one bank, three of them giving its BIC, one giving another bank's.
    bics = ["", "GKCCBEBB", "", "GKCCBEBB", "gkccbebb", "GEBABEBB"]
    rows = [
        f"{p.customer_number},BANK-{i},{IBAN},{bic},2024-01-01"
        for i, (p, bic) in enumerate(zip(people, bics, strict=True))
    ]

    upload = checked(store, rows)

    assert (upload.status, upload.new_count) == (MandateUploadStatus.READY, 6)
    assert lookups == ["096"]
    assert reads == ["GKCCBEBB", "gkccbebb", "GEBABEBB"]
    # The remembered bank still warns on every row that names another one.
    assert [(p["row"], p["column"], p["level"]) for p in upload.problems] == [(7, "bic", "warning")]


def test_the_commit_reads_the_ibans_its_check_found_valid_without_validating_them(
    store, people, monkeypatch
):
    validated, real_validate = [], SchwiftyIBAN.validate

    def validate(iban, *args, **kwargs):
        validated.append(str(iban))
        return real_validate(iban, *args, **kwargs)

    monkeypatch.setattr(SchwiftyIBAN, "validate", validate)
    bics = ["", "GKCCBEBB", "", "", "", "GEBABEBB"]  # the last names another bank
    rows = [
        f"{p.customer_number},READ-{i},{IBAN[:2]}{IBAN[2:].lower()},{bic},2024-01-01"
        for i, (p, bic) in enumerate(zip(people, bics, strict=True))
    ]
    upload = checked(store, rows)
    assert (upload.status, len(validated)) == (MandateUploadStatus.READY, 6)

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert (upload.status, upload.created_count) == (MandateUploadStatus.COMMITTED, 6)
    assert len(validated) == 6  # none again
    stored = db.session.execute(sa.select(Mandate.reference, Mandate.iban, Mandate.bic))
    assert {(r.iban, r.bic) for r in stored} == {(IBAN, "GKCCBEBB"), (IBAN, "GEBABEBB")}
    # The bank's warning is the commit's too.
    assert [(p["row"], p["column"], p["level"]) for p in upload.problems] == [(7, "bic", "warning")]


def test_rows_with_the_same_wrong_bic_each_get_its_error(store, people):
    rows = [
        f"{p.customer_number},WRONG-{i},{IBAN},GKCC,2024-01-01" for i, p in enumerate(people[:3])
    ]

    upload = checked(store, rows)

    assert upload.status == MandateUploadStatus.INVALID
    problems = [(p["row"], p["column"], p["level"]) for p in upload.problems]
    assert problems == [(2, "bic", "error"), (3, "bic", "error"), (4, "bic", "error")]
    assert len({p["message"] for p in upload.problems}) == 1


def test_a_chunk_goes_to_postgresql_as_array_texts():
    values = [
        'Dupont "Jr", {ACME}',
        "back\\slash",
        None,
        "",
        MandateScheme.B2B,
        date(2024, 1, 2),
        7,
    ]

    text = mandate_insert.array_text(values)

    assert text == '{"Dupont \\"Jr\\", {ACME}","back\\\\slash",NULL,"","B2B","2024-01-02","7"}'


def test_names_with_quotes_commas_braces_and_backslashes_are_stored_as_written(store, people):
    names = ['Dupont "Jr", {ACME}', "back\\slash", "NULL", " "]
    rows = [
        f'{p.customer_number},ODD-{i},{IBAN},,2024-01-01,"{name.replace(chr(34), chr(34) * 2)}"'
        for i, (p, name) in enumerate(zip(people, names, strict=False))
    ]
    content = ("\r\n".join([HEADER + ",name", *rows]) + "\r\n").encode()
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    upload = mandate_upload.check(upload.id, store, today=local_today())

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert upload.status == MandateUploadStatus.COMMITTED
    stored = dict(db.session.execute(sa.select(Mandate.reference, Mandate.debtor_name)).all())
    # A name cell of spaces is empty once cleaned: the customer's name stands in.
    assert stored == {
        "ODD-0": names[0],
        "ODD-1": names[1],
        "ODD-2": "NULL",
        "ODD-3": people[3].name,
    }


def test_the_collector_leaves_the_objects_from_before_the_pass_alone(store, people, monkeypatch):
    frozen, real = [], mandate_scan.RowChecker.verdicts

    def verdicts(checker, rows, found):
        frozen.append(gc.get_freeze_count())
        return real(checker, rows, found)

    monkeypatch.setattr(mandate_scan.RowChecker, "verdicts", verdicts)
    rows = [f"{p.customer_number},GC-{i},{IBAN},,2024-01-01" for i, p in enumerate(people)]

    upload = checked(store, rows)

    assert upload.status == MandateUploadStatus.READY
    assert frozen and frozen[0] > 0  # the app's objects, set aside during the pass…
    assert gc.get_freeze_count() == 0  # …and handed back after it


class Told:
    def __init__(self):
        self.calls = []

    def total(self, total):
        self.size = total

    def advance(self, step=1, **counts):
        self.calls.append((step, counts))


def test_progress_is_told_at_most_once_a_second_and_all_of_it(store, people, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)  # three chunks
    rows = [f"{p.customer_number},TOLD-{i},{IBAN},,2024-01-01" for i, p in enumerate(people)]
    rows[4] = rows[4].replace(IBAN, "BE00")
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    told = Told()

    mandate_upload.check(upload.id, store, today=local_today(), progress=told)

    assert len(told.calls) == 1  # the pass took less than a second: once, at its end
    assert told.calls == [(told.size, {"rows": 6, "errors": 1})]


def test_progress_of_a_long_pass_is_told_on_the_way(store, people, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    monkeypatch.setattr(mandate_scan, "PROGRESS_SECONDS", 0)  # every chunk is late
    rows = [f"{p.customer_number},WAY-{i},{IBAN},,2024-01-01" for i, p in enumerate(people)]
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    told = Told()

    mandate_upload.check(upload.id, store, today=local_today(), progress=told)

    # A chunk is checked while the next one is looked up: the last one's rows are told
    # with the end of the file.
    assert [counts["rows"] for _, counts in told.calls] == [2, 2, 2]
    assert sum(step for step, _ in told.calls) == told.size


@pytest.mark.postgres  # SQLite's look-ups share the session's connection: in turn
def test_a_check_looks_the_next_chunk_up_while_it_checks_this_one(store, people, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    rows = [f"{p.customer_number},AHEAD-{i},{IBAN},,2024-01-01" for i, p in enumerate(people)]
    content = ("\r\n".join([HEADER, *rows]) + "\r\n").encode()
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    looked_up_next, overlapped = threading.Event(), []
    real_stored, real_verdicts = mandate_lookups._stored, mandate_scan.RowChecker.verdicts

    def stored(connection, keys):
        found = real_stored(connection, keys)
        if "AHEAD-2" in keys:  # the second chunk
            looked_up_next.set()
        return found

    def verdicts(checker, rows, found):
        if rows[0].number == 2:  # the first chunk waits for the second's look-ups
            overlapped.append(looked_up_next.wait(timeout=5))
        return real_verdicts(checker, rows, found)

    monkeypatch.setattr(mandate_lookups, "_stored", stored)
    monkeypatch.setattr(mandate_scan.RowChecker, "verdicts", verdicts)

    upload = mandate_upload.check(upload.id, store, today=local_today())

    assert (upload.status, upload.new_count) == (MandateUploadStatus.READY, 6)
    assert overlapped == [True]


# -- the inserts beside the checks -----------------------------------------------------------


def rows_of(people, prefix: str, signed: str = "2024-01-01") -> list[str]:
    return [f"{p.customer_number},{prefix}-{i},{IBAN},,{signed}" for i, p in enumerate(people)]


def references() -> set[str]:
    return set(db.session.scalars(sa.select(Mandate.reference)))


@pytest.mark.postgres  # SQLite's look-ups share the session's connection: one at a time
def test_the_commit_inserts_a_chunk_while_it_checks_the_next(store, people, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)  # three chunks
    upload = checked(store, rows_of(people, "BESIDE"))
    checking_next = threading.Event()
    inserts = []
    real_insert, real_verdicts = mandate_insert.insert_chunk, mandate_scan.RowChecker.verdicts

    def insert(rows, **kwargs):
        # The first chunk's insert waits until the pass checks the second chunk: one
        # after the other, it would wait in vain.
        overlapped = checking_next.wait(timeout=5) if not inserts else None
        inserts.append((threading.get_ident(), len(rows), overlapped))
        real_insert(rows, **kwargs)

    def verdicts(checker, rows, found):
        if rows[0].number == 4:  # the second chunk (the header is row 1)
            checking_next.set()
        return real_verdicts(checker, rows, found)

    monkeypatch.setattr(mandate_upload, "insert_chunk", insert)
    monkeypatch.setattr(mandate_scan.RowChecker, "verdicts", verdicts)

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert (upload.status, upload.created_count) == (MandateUploadStatus.COMMITTED, 6)
    main = threading.get_ident()
    assert [(thread != main, n, overlapped) for thread, n, overlapped in inserts] == [
        (True, 2, True),  # beside the second chunk's checks
        (True, 2, None),  # beside the third's
        (True, 2, None),  # the last chunk, waited for before the commit
    ]
    assert len(references()) == 6


@pytest.mark.postgres  # as above
def test_the_next_chunks_look_ups_do_not_wait_for_the_insert(store, people, monkeypatch):
    # One connection runs one statement at a time: on the session's, the next chunk's
    # customers and references were looked up only once the chunk before was inserted.
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    upload = checked(store, rows_of(people, "APART"))
    looked_up_next = threading.Event()
    inserts, backends = [], {}
    real_insert, real_stored = mandate_insert.insert_chunk, mandate_lookups._stored

    def insert(rows, **kwargs):
        overlapped = looked_up_next.wait(timeout=5) if not inserts else None
        inserts.append(overlapped)
        backends["insert"] = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        real_insert(rows, **kwargs)

    def stored(connection, keys):
        found = real_stored(connection, keys)  # on the connection, while the insert runs
        if "APART-2" in keys:
            backends["look-up"] = connection.scalar(sa.text("SELECT pg_backend_pid()"))
            looked_up_next.set()
        return found

    monkeypatch.setattr(mandate_upload, "insert_chunk", insert)
    monkeypatch.setattr(mandate_lookups, "_stored", stored)

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert (upload.status, upload.created_count) == (MandateUploadStatus.COMMITTED, 6)
    assert inserts == [True, None, None]
    assert backends["look-up"] != backends["insert"]


def test_an_error_in_a_later_chunk_takes_back_the_chunks_inserted_before(
    store, people, monkeypatch
):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    upload = checked(store, rows_of(people, "LATER"))
    # After the check, another customer's mandate takes the last row's reference.
    make_mandate(customer=make_customer(), reference="LATER-5")
    inserted, real_insert = [], mandate_insert.insert_chunk

    def insert(rows, **kwargs):
        real_insert(rows, **kwargs)
        inserted.append((threading.get_ident(), len(rows)))

    monkeypatch.setattr(mandate_upload, "insert_chunk", insert)

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert upload.status == MandateUploadStatus.INVALID
    assert [(p["row"], p["column"], p["level"]) for p in upload.problems] == [
        (7, "mandateNumber", "error")
    ]
    # The first two chunks were written by the writer, then taken back with the rest.
    assert [(thread != threading.get_ident(), n) for thread, n in inserted] == [
        (True, 2),
        (True, 2),
    ]
    assert references() == {"LATER-5"}


def test_an_insert_that_fails_beside_the_checks_fails_the_job(app, people, monkeypatch, redis_conn):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    upload = checked(runtime_setup.document_store(app), rows_of(people, "BROKEN"))
    threads, real_insert = [], mandate_insert.insert_chunk

    def insert(rows, **kwargs):
        threads.append(threading.get_ident())
        real_insert(rows, **kwargs)
        if len(threads) == 2:
            raise RuntimeError("the disk is full")

    monkeypatch.setattr(mandate_upload, "insert_chunk", insert)

    direct_debit_jobs.start_mandate_job(direct_debit_jobs.commit_mandate_upload, upload.id, ACTOR)
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)

    db.session.expire_all()
    run = db.session.scalars(sa.select(JobRun).where(JobRun.name == "commit_mandate_upload")).one()
    assert run.status == JobStatus.FAILED
    assert "the disk is full" in run.error
    upload = db.session.get(MandateUpload, upload.id)
    assert upload.status == MandateUploadStatus.FAILED
    assert "the disk is full" in upload.file_error
    assert references() == set()
    assert threading.get_ident() not in threads  # it failed in the writer's thread


def test_a_mandate_of_the_chunk_before_is_active_for_the_next(store, people, monkeypatch):
    # The next chunk's customers are looked up beside the insert of the chunk before, but
    # their active mandates only once it is stored: the warnings are those of one chunk
    # after the other.
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    a, b = people[:2]
    rows = [
        f"{a.customer_number},FIRST-A,{IBAN},,2024-03-01",
        f"{b.customer_number},FIRST-B,{IBAN},,2024-03-01",
        f"{a.customer_number},SECOND-A,{IBAN},,2024-04-01",  # signed after FIRST-A
        f"{b.customer_number},SECOND-B,{IBAN},,2024-02-01",  # signed before FIRST-B
    ]
    upload = checked(store, rows)
    assert upload.problems == []  # the check stores nothing: no mandate is active yet

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert upload.status == MandateUploadStatus.COMMITTED
    assert [(p["row"], p["message"]) for p in upload.problems] == [
        (4, english(mandate_problems.REPLACES, reference="FIRST-A")),
        (5, english(mandate_problems.SIGNED_LATER, reference="FIRST-B")),
    ]


@pytest.mark.postgres  # psycopg's prepared statements, PostgreSQL's planner
def test_the_look_ups_are_planned_for_their_keys_every_time(store, people, monkeypatch):
    # A prepared look-up could run on a generic plan made while the mandates table was
    # small, scanning it whole for every chunk as the commit grows it; and planned for
    # its keys, a look-up of 1,000 references still scanned a table of 100,000 mandates.
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 1)  # six chunks: psycopg prepares at 5
    upload = checked(store, rows_of(people, "PLAN"))
    seen = []

    def watched(look_up):
        def run(connection, keys):
            driver = connection.connection.driver_connection
            scans = connection.scalar(sa.text("SELECT current_setting('enable_seqscan')"))
            seen.append((look_up.__name__, driver.prepare_threshold, scans))
            found = look_up(connection, keys)
            query = sa.text("SELECT statement FROM pg_prepared_statements")
            prepared = [s for s in connection.scalars(query) if "ANY" in s]
            assert not [s for s in prepared if "INSERT" not in s]
            return found

        return run

    for name in ("_customers", "_stored", "_active"):
        monkeypatch.setattr(mandate_lookups, name, watched(getattr(mandate_lookups, name)))

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert upload.status == MandateUploadStatus.COMMITTED
    assert {name for name, _, _ in seen} == {"_customers", "_stored", "_active"}
    assert len(seen) == 18
    assert {(threshold, scans) for _, threshold, scans in seen} == {(None, "off")}
    # Only the look-ups: the insert (and the rest of the connection's life) still may be
    # prepared, and may scan.
    driver = db.session.connection().connection.driver_connection
    assert driver.prepare_threshold == 5
    assert db.session.scalar(sa.text("SELECT current_setting('enable_seqscan')")) == "on"
