"""The mandates CSV upload end to end: the form, the check and commit jobs on rq, the
preview page and the rows stored (issue 7, acceptance 1 and 4)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from collector.core.clock import local_today
from collector.direct_debit.models import (
    Mandate,
    MandateScheme,
    MandateStatus,
    MandateUpload,
    MandateUploadStatus,
)
from collector.documents import customers
from collector.documents.models import Customer
from collector.extensions import db
from collector.runtime.jobs import recover_now
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, bind_job_class
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_mandate, make_profile

HEADER = ("customerNumber", "mandateNumber", "iban", "bic", "signDate", "name", "profile", "scheme")
NEW = "/mandates/uploads/new"
ROW = re.compile(
    r'<tr data-row="(\d+)" data-column="([^"]+)" data-level="(\w+)">.*?<td>([^<]*)</td>\s*</tr>',
    re.S,
)


# -- helpers --------------------------------------------------------------------------------


def csv_bytes(rows, *, header=HEADER, sep=",", bom=False, encoding="utf-8") -> bytes:
    lines = [sep.join(header)] + [sep.join(row) for row in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def drain(app, redis_conn) -> None:
    """Run the queued jobs here, as ``worker.py`` would."""
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def send(client, data: bytes, filename: str = "mandates.csv"):
    token = csrf_token(client, NEW)
    return client.post(
        NEW,
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def upload_and_check(client, app, redis_conn, data: bytes, filename="mandates.csv"):
    """Upload ``data``, run the check job; (the upload row, its page's HTML)."""
    response = send(client, data, filename)
    assert response.status_code == 302, response.get_data(as_text=True)
    drain(app, redis_conn)
    db.session.expire_all()
    upload = db.session.scalars(sa.select(MandateUpload).order_by(MandateUpload.id.desc())).first()
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return upload, page.get_data(as_text=True)


def commit(client, app, redis_conn, upload: MandateUpload):
    path = f"/mandates/uploads/{upload.id}"
    response = client.post(f"{path}/commit", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    drain(app, redis_conn)
    db.session.expire_all()
    return db.session.get(MandateUpload, upload.id), client.get(path).get_data(as_text=True)


def problems(html: str) -> set[tuple[int, str, str]]:
    """(row, column, level) of each problem the page lists."""
    return {(int(row), column, level) for row, column, level, _ in ROW.findall(html)}


def messages(html: str) -> dict[int, str]:
    return {int(row): text for row, _, _, text in ROW.findall(html)}


def mandate_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Mandate.id)))


# -- data -----------------------------------------------------------------------------------


@pytest.fixture
def book(app):
    """Profiles and customers as an import leaves them, and one stored mandate."""
    sepa = make_profile(name="Direct debit", allow_direct_debit=True)
    transfer = make_profile(name="Transfer only", allow_direct_debit=False)
    people = {
        name: make_customer(name=f"{name.title()} NV", profile=sepa)
        for name in ("acme", "brol", "cafe", "dora", "eddy", "fien", "gust", "hugo", "ines")
    }
    people["loose"] = make_customer(name="Loose BVBA", profile=None)
    taken = make_mandate(customer=people["brol"], profile=sepa, reference="TAKEN-1")
    return {"sepa": sepa, "transfer": transfer, "taken": taken, **people}


def number(book, name: str) -> str:
    return book[name].customer_number


def today():
    return local_today()


def future() -> str:
    return (today() + timedelta(days=30)).isoformat()


def error_rows(book) -> list[tuple]:
    """One row per error kind, each with only that error (rows 2 to 17)."""
    n = lambda name: number(book, name)  # noqa: E731
    return [
        ("no-such-customer", "MD-01", "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("acme"), "MD-02", "BE72096123456769", "", "2024-03-01", "", "", ""),  # check digits
        (n("cafe"), "MD-03", "BE71096123456769", "GEBAXXBB", "2024-03-01", "", "", ""),  # BIC
        (n("dora"), "M" * 36, "BE71096123456769", "", "2024-03-01", "", "", ""),  # too long
        (n("eddy"), "MD_04#", "BE71096123456769", "", "2024-03-01", "", "", ""),  # characters
        (n("fien"), "MD-05", "BE71096123456769", "", future(), "", "", ""),  # future
        (n("gust"), "MD-06", "BE71096123456769", "", "31/02/2024", "", "", ""),  # unreadable
        (n("hugo"), "md-03", "BE71096123456769", "", "2024-03-01", "", "", ""),  # dup of row 4
        (n("ines"), "taken-1", "BE71096123456769", "", "2024-03-01", "", "", ""),  # brol's
        (n("acme"), "MD-07", "NL91ABNA0417164300", "", "2024-03-01", "", "Nope", ""),
        (n("loose"), "MD-08", "BE71096123456769", "", "2024-03-01", "", "", ""),  # no profile
        (n("cafe"), "MD-09", "BE71096123456769", "", "2024-03-01", "", "", "SDD"),  # scheme
        (n("dora"), "MD-10", "CH9300762011623852957", "", "2024-03-01", "", "", ""),  # no BIC
        (n("eddy"), "MD-11", "SA0380000000608010167519", "", "2024-03-01", "", "", ""),  # SEPA
        (n("fien"), "MD-12", "", "", "2024-03-01", "", "", ""),  # no IBAN
        ("", "MD-13", "BE71096123456769", "", "2024-03-01", "", "", ""),  # no customer
    ]


EXPECTED_ERRORS = {
    (2, "customerNumber", "error"),
    (3, "iban", "error"),
    (4, "bic", "error"),
    (5, "mandateNumber", "error"),
    (6, "mandateNumber", "error"),
    (7, "signDate", "error"),
    (8, "signDate", "error"),
    (9, "mandateNumber", "error"),
    (10, "mandateNumber", "error"),
    (11, "profile", "error"),
    (12, "profile", "error"),
    (13, "scheme", "error"),
    (14, "bic", "error"),
    (15, "iban", "error"),
    (16, "iban", "error"),
    (17, "customerNumber", "error"),
}


def corrected_rows(book) -> list[tuple]:
    """The same file with every row put right (and the loose customer given a profile)."""
    n = lambda name: number(book, name)  # noqa: E731
    return [
        (n("acme"), "MD-01", "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("acme"), "MD-02", "BE43068999999501", "", "2024-03-01", "", "Transfer only", ""),
        (n("cafe"), "MD-03", "BE71096123456769", "GKCCBEBB", "2024-03-01", "", "", ""),
        (n("dora"), "M" * 35, "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("eddy"), "MD/04 (x)", "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("fien"), "MD-05", "BE71096123456769", "", today().isoformat(), "", "", ""),
        (n("gust"), "MD-06", "BE71096123456769", "", "28/02/2024", "", "", ""),
        (n("hugo"), "md-03b", "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("ines"), "taken-2", "BE71096123456769", "", "2024-03-01", "", "", ""),
        (n("acme"), "MD-07", "NL91ABNA0417164300", "", "2024-03-01", "", "direct debit", ""),
        (n("loose"), "MD-08", "BE71096123456769", "", "2024-03-01", "", "Direct debit", ""),
        (n("cafe"), "MD-09", "BE71096123456769", "", "2024-03-01", "", "", "b2b"),
        (n("dora"), "MD-10", "CH9300762011623852957", "UBSWCHZH80A", "2024-03-01", "", "", ""),
        (n("eddy"), "MD-11", "DE89370400440532013000", "", "2024-03-01", "", "", ""),
        (n("fien"), "MD-12", "AT611904300234573201", "", "2024-03-01", "", "", ""),
        (n("gust"), "MD-13", "BE71096123456769", "", "2024-03-01", "", "", ""),
    ]


# -- acceptance 1 ---------------------------------------------------------------------------


def test_every_error_is_listed_by_row_and_nothing_is_stored(admin_client, app, redis_conn, book):
    upload, html = upload_and_check(admin_client, app, redis_conn, csv_bytes(error_rows(book)))

    assert upload.status == MandateUploadStatus.INVALID
    assert (upload.rows, upload.error_count, upload.new_count) == (16, 16, 0)
    assert {p for p in problems(html) if p[2] == "error"} == EXPECTED_ERRORS
    said = messages(html)
    assert "No customer has this number" in said[2]
    assert "check digits do not match" in said[3]
    assert "Letters 5 and 6 of a BIC are a country code" in said[4]
    assert "at most 35 characters; this one has 36" in said[5]
    assert "Not allowed in a mandate reference: _#" in said[6]
    assert f"{future()} is in the future" in said[7]
    assert "“31/02/2024” is not a date" in said[8]
    assert "The reference md-03 is on row 4 too" in said[9]
    assert "TAKEN-1 belongs to a mandate of another customer" in said[10]
    assert "No profile is called “Nope”" in said[11]
    assert "The customer has no payment profile" in said[12]
    assert "CORE or B2B, not “SDD”" in said[13]
    assert "A BIC is required for accounts in CH" in said[14]
    assert "Accounts in SA are outside SEPA" in said[15]
    assert "An IBAN is required" in said[16]
    assert "A customer number is required" in said[17]
    assert "Nothing was stored" in html
    assert "/commit" not in html
    assert mandate_count() == 1  # only the one stored before


def test_the_corrected_file_commits_and_uploading_it_again_changes_nothing(
    admin_client, app, redis_conn, book, admin
):
    data = csv_bytes(corrected_rows(book))
    upload, html = upload_and_check(admin_client, app, redis_conn, data)
    assert upload.status == MandateUploadStatus.READY, upload.problems
    assert (upload.rows, upload.new_count, upload.unchanged_count, upload.error_count) == (
        16,
        16,
        0,
        0,
    )
    # The transfer-only profile is a warning, not an error: the mandate is real.
    assert (3, "profile", "warning") in problems(html)
    assert "Commit 16 new mandates" in html

    upload, html = commit(admin_client, app, redis_conn, upload)
    assert upload.status == MandateUploadStatus.COMMITTED
    assert (upload.created_count, upload.committed_by) == (16, f"user:{admin.email}")
    assert mandate_count() == 17
    stored = {m.reference: m for m in db.session.scalars(sa.select(Mandate))}
    assert stored["MD-01"].bic == "GKCCBEBB"  # derived from the Belgian IBAN
    assert stored["MD-12"].bic is None  # Austria: in the EEA, not derivable, not needed
    assert stored["MD-10"].bic == "UBSWCHZH80A"
    assert stored["MD-09"].scheme == MandateScheme.B2B
    assert stored["MD-02"].profile_id == book["transfer"].id
    assert stored["MD-07"].profile_id == book["sepa"].id  # by name, any case
    assert stored["MD-06"].signed_on == date(2024, 2, 28)
    assert stored["md-03b"].reference_key == "MD-03B"
    assert stored["MD-01"].debtor_name == "Acme NV"  # no name: the customer's
    assert {m.upload_id for m in stored.values() if m.reference != "TAKEN-1"} == {upload.id}
    assert all(m.status == MandateStatus.ACTIVE and not m.used for m in stored.values())
    assert "16 mandates stored" in html

    again, html = upload_and_check(admin_client, app, redis_conn, data)
    assert again.status == MandateUploadStatus.READY
    assert (again.new_count, again.unchanged_count, again.warning_count) == (0, 16, 0)
    assert f'data-earlier="{upload.id}"' in html
    assert "committing changes nothing" in html
    again, _ = commit(admin_client, app, redis_conn, again)
    assert (again.status, again.created_count) == (MandateUploadStatus.COMMITTED, 0)
    assert mandate_count() == 17


def test_a_stored_mandate_is_never_changed_by_a_file(admin_client, app, redis_conn, book):
    taken = book["taken"]
    rows = [(number(book, "brol"), "taken-1", "NL91ABNA0417164300", "", "2024-03-01", "", "", "")]

    upload, html = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))

    assert (upload.status, upload.unchanged_count, upload.new_count) == (
        MandateUploadStatus.READY,
        1,
        0,
    )
    [(row, column, level, text)] = ROW.findall(html)
    assert (row, column, level) == ("2", "iban", "warning")
    assert "stored with another IBAN, signature date; it is left as it is" in text
    db.session.expire_all()
    assert db.session.get(Mandate, taken.id).iban == "BE68539007547034"


def test_the_commit_checks_again_and_stores_nothing_when_things_changed(
    admin_client, app, redis_conn, book
):
    upload, _ = upload_and_check(admin_client, app, redis_conn, csv_bytes(corrected_rows(book)))
    assert upload.status == MandateUploadStatus.READY
    # Meanwhile someone stores a mandate under one of the file's references.
    make_mandate(customer=book["brol"], profile=book["sepa"], reference="MD-06")

    upload, html = commit(admin_client, app, redis_conn, upload)

    assert upload.status == MandateUploadStatus.INVALID
    assert (8, "mandateNumber", "error") in problems(html)
    assert mandate_count() == 2  # TAKEN-1 and the new MD-06; none of the file's


def test_a_second_commit_of_the_same_upload_stores_nothing_more(
    admin_client, app, redis_conn, book
):
    upload, _ = upload_and_check(admin_client, app, redis_conn, csv_bytes(corrected_rows(book)))
    path = f"/mandates/uploads/{upload.id}"
    token = csrf_token(admin_client, path)
    for _ in range(2):  # a double click: both find it READY, both queue a commit
        assert admin_client.post(f"{path}/commit", data={"csrf_token": token}).status_code == 302

    drain(app, redis_conn)

    db.session.expire_all()
    assert db.session.get(MandateUpload, upload.id).status == MandateUploadStatus.COMMITTED
    assert mandate_count() == 17
    runs = db.session.scalars(
        sa.select(JobRun).filter_by(name="commit_mandate_upload").order_by(JobRun.id)
    ).all()
    assert [r.status for r in runs] == [JobStatus.FINISHED, JobStatus.FINISHED]
    assert "is committed: only a checked upload without errors can be committed" in runs[1].message


# -- acceptance 4: files that are not a mandates CSV ------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (csv_bytes([]), "The file has no mandate rows"),
        (csv_bytes([("", "", "", "", "", "", "", "")] * 3), "The file has no mandate rows"),
        (
            b"customerNumber,mandateNumber,iban\r\nx,MD-1,BE71096123456769\r\n",
            "Missing column(s): bic, signDate.",
        ),
        (b"customerNumber;name\r\nx;y\r\n", "Missing column(s): mandateNumber, iban, bic,"),
        (
            csv_bytes(
                [("x", "MD-1", "BE71096123456769", "", "2024-01-01", "Café", "", "")],
                encoding="latin-1",
            ),
            "The file is not UTF-8 text",
        ),
        ("customerNumber,mandateNumber".encode("utf-16"), "saved as UTF-16"),
        (
            b"iban,customerNumber,mandateNumber,iban,bic,signDate\r\n",
            "The column iban appears twice",
        ),
    ],
    ids=["empty", "header only", "blank rows", "missing", "none", "latin-1", "utf-16", "twice"],
)
def test_a_file_that_is_not_a_mandates_csv_is_refused_whole(
    admin_client, app, redis_conn, book, data, message
):
    upload, html = upload_and_check(admin_client, app, redis_conn, data)

    assert upload.status == MandateUploadStatus.INVALID
    assert message in upload.file_error
    assert "data-file-error" in html and message in html.replace("&#39;", "'")
    assert (upload.rows, upload.error_count, upload.problems) == (0, 0, [])
    assert mandate_count() == 1


# -- formats --------------------------------------------------------------------------------


def test_semicolons_bom_day_first_dates_and_loose_ibans(admin_client, app, redis_conn, book):
    rows = [
        (number(book, "acme"), "MD-A", " be71 0961 2345 6769 ", "", "5/3/2024", "", "", ""),
        (number(book, "cafe"), "MD-B", "nl91abna0417164300", "abnanl2a", "31/12/2023", "", "", ""),
    ]
    data = csv_bytes(rows, sep=";", bom=True)

    upload, _ = upload_and_check(admin_client, app, redis_conn, data)
    assert upload.status == MandateUploadStatus.READY, upload.problems
    commit(admin_client, app, redis_conn, upload)

    stored = {m.reference: m for m in db.session.scalars(sa.select(Mandate))}
    assert (stored["MD-A"].iban, stored["MD-A"].signed_on) == ("BE71096123456769", date(2024, 3, 5))
    assert (stored["MD-B"].iban, stored["MD-B"].bic) == ("NL91ABNA0417164300", "ABNANL2A")
    assert stored["MD-B"].signed_on == date(2023, 12, 31)


def test_the_customers_export_filled_in_is_a_mandates_csv(admin_client, app, redis_conn, book):
    """Finance downloads the customers CSV, fills in the mandate columns of those who
    signed, and uploads it: other columns are ignored, untouched customers skipped, and
    the apostrophe the export puts before formula-like text is taken off again."""
    book["acme"].name = "=Acme Holding"  # the export writes '=Acme Holding
    db.session.commit()
    exported = "".join(customers.customers_csv(customers.customers_for_export()))
    assert "'=Acme Holding" in exported
    lines = exported.splitlines()
    filled = [lines[0]]
    for line in lines[1:]:
        if line.startswith(number(book, "acme")):
            line = line.rstrip(",") + ",'+MD-ACME,BE71096123456769,,2024-01-31"
        filled.append(line)
    data = ("\r\n".join(filled) + "\r\n").encode()

    upload, _ = upload_and_check(admin_client, app, redis_conn, data)
    assert (upload.status, upload.rows, upload.new_count) == (MandateUploadStatus.READY, 1, 1)
    commit(admin_client, app, redis_conn, upload)

    mandate = db.session.scalars(sa.select(Mandate).filter_by(reference="+MD-ACME")).one()
    assert (mandate.customer_id, mandate.debtor_name) == (book["acme"].id, "=Acme Holding")
    assert mandate.profile_id == book["sepa"].id  # the export's profile column, by name


def test_names_are_cut_to_seventy_characters_with_a_warning(admin_client, app, redis_conn, book):
    rows = [(number(book, "acme"), "MD-L", "BE71096123456769", "", "2024-01-01", "x" * 80, "", "")]

    upload, html = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))
    assert (2, "name", "warning") in problems(html)
    commit(admin_client, app, redis_conn, upload)

    assert db.session.scalars(sa.select(Mandate.debtor_name).filter_by(reference="MD-L")).one() == (
        "x" * 70
    )


# -- size -----------------------------------------------------------------------------------


def bulk_customers(count: int, profile_id: int) -> list[str]:
    numbers = [f"bulk-{i:06d}" for i in range(count)]
    db.session.execute(
        sa.insert(Customer),
        [
            {
                "teamleader_id": n,
                "customer_number": n,
                "kind": "company",
                "name": f"Bulk {n}",
                "profile_id": profile_id,
            }
            for n in numbers
        ],
    )
    db.session.commit()
    return numbers


def test_a_file_of_several_chunks_is_checked_and_committed_whole(
    admin_client, app, redis_conn, book
):
    numbers = bulk_customers(2500, book["sepa"].id)
    rows = [
        (n, f"BULK-{i}", "BE71096123456769", "", "2024-01-01", "", "", "")
        for i, n in enumerate(numbers)
    ]
    rows[2400] = (numbers[2400], "bulk-3", "BE71096123456769", "", "2024-01-01", "", "", "")

    upload, html = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))
    assert (upload.status, upload.rows, upload.error_count) == (
        MandateUploadStatus.INVALID,
        2500,
        1,
    )
    assert messages(html)[2402].startswith("The reference bulk-3 is on row 5 too")

    rows[2400] = (numbers[2400], "BULK-2400", "BE71096123456769", "", "2024-01-01", "", "", "")
    upload, _ = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))
    assert upload.status == MandateUploadStatus.READY
    runs = sa.select(JobRun).filter_by(name="check_mandate_upload").order_by(JobRun.id.desc())
    run = db.session.scalars(runs).first()
    assert (run.percent, run.counts) == (100, {"rows": 2500, "errors": 0})
    upload, _ = commit(admin_client, app, redis_conn, upload)
    assert (upload.status, upload.created_count, mandate_count()) == (
        MandateUploadStatus.COMMITTED,
        2500,
        2501,
    )


def test_only_the_first_500_problems_are_kept_and_the_counts_say_all(
    admin_client, app, redis_conn, book
):
    rows = [
        (f"nobody-{i}", f"X-{i}", "BE71096123456769", "", "2024-01-01", "", "", "")
        for i in range(600)
    ]

    upload, html = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))

    assert (upload.error_count, len(upload.problems)) == (600, 500)
    assert upload.problems[-1]["row"] == 501
    assert "The first 500 of 600 problems." in html


def test_long_cells_are_cut_short_in_the_messages(admin_client, app, redis_conn, book):
    rows = [(number(book, "acme"), "MD-X", "BE71096123456769", "", "9" * 5000, "", "", "")]

    upload, _ = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))

    [problem] = upload.problems
    assert problem["column"] == "signDate"
    assert problem["message"].startswith("“" + "9" * 39 + "…” is not a date")


def test_a_commit_whose_worker_stopped_is_started_again_by_recovery(
    admin_client, app, redis_conn, book, admin
):
    upload, _ = upload_and_check(admin_client, app, redis_conn, csv_bytes(corrected_rows(book)))
    path = f"/mandates/uploads/{upload.id}"
    response = admin_client.post(
        f"{path}/commit", data={"csrf_token": csrf_token(admin_client, path)}
    )
    assert response.status_code == 302
    # The worker claimed the upload and died in the commit's transaction: nothing stored,
    # the claim stands, and its job is over (rq's retries found the upload claimed).
    redis_conn.flushdb()
    upload.status = MandateUploadStatus.COMMITTING
    for run in db.session.scalars(sa.select(JobRun)):
        run.status = JobStatus.FINISHED
    db.session.commit()

    assert "1 mandate uploads restarted" in recover_now()
    drain(app, redis_conn)
    db.session.expire_all()
    upload = db.session.get(MandateUpload, upload.id)
    assert (upload.status, upload.created_count) == (MandateUploadStatus.COMMITTED, 16)
    assert upload.committed_by == f"user:{admin.email}"
    assert mandate_count() == 17
    assert recover_now() == "Nothing to recover."
