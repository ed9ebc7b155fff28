"""What a pass over a mandates CSV costs per row (issue 22): the chunk look-ups are the
same statements whatever the chunk's size (one array parameter on PostgreSQL), and a
bank is looked up in schwifty's registry once per pass, not once per row, and a chunk's
new mandates go to PostgreSQL as array texts built in one join."""

from __future__ import annotations

import gc
import io
from datetime import date

import pytest
import sqlalchemy as sa
from schwifty import IBAN as SchwiftyIBAN

from collector.core.clock import local_today
from collector.core.storage import FolderStore
from collector.direct_debit import mandate_insert, mandate_scan, mandate_upload, mandates
from collector.direct_debit.models import Mandate, MandateScheme, MandateUploadStatus
from collector.extensions import db
from tests.support.factories import make_customer, make_profile

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
    frozen, real = [], mandate_scan.RowChecker.check_chunk

    def check_chunk(checker, rows):
        frozen.append(gc.get_freeze_count())
        return real(checker, rows)

    monkeypatch.setattr(mandate_scan.RowChecker, "check_chunk", check_chunk)
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

    assert [counts["rows"] for _, counts in told.calls] == [2, 2, 2, 0]
    assert sum(step for step, _ in told.calls) == told.size
