"""The mandates commit's set-based path (one INSERT per chunk on PostgreSQL, the ORM's
executemany elsewhere): the same outcome as before for stored mandates that differ, are
unchanged or revoked, for references twice in a file, and nothing written when a chunk
fails half-way (issue 22)."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from collector.accounts.models import AuditEvent
from collector.core.clock import local_today
from collector.core.storage import FolderStore
from collector.direct_debit import mandate_insert, mandate_scan, mandate_upload
from collector.direct_debit.models import (
    Mandate,
    MandateScheme,
    MandateStatus,
    MandateUpload,
    MandateUploadStatus,
)
from collector.extensions import db
from tests.support.factories import make_customer, make_mandate, make_profile

HEADER = "customerNumber,mandateNumber,iban,bic,signDate,name,profile,scheme,email"
IBAN = "BE71096123456769"
ACTOR = "user:admin@example.com"


@pytest.fixture
def store(app, tmp_path):
    return FolderStore(tmp_path / "store")


@pytest.fixture
def book(app):
    sepa = make_profile(name="Direct debit", allow_direct_debit=True)
    people = [make_customer(name=f"Customer {i}", profile=sepa) for i in range(6)]
    return {"sepa": sepa, "people": people}


def csv_file(rows: list[str]) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def checked(store, content: bytes) -> MandateUpload:
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor=ACTOR)
    return mandate_upload.check(upload.id, store, today=local_today())


def committed(store, content: bytes) -> MandateUpload:
    upload = checked(store, content)
    assert upload.status == MandateUploadStatus.READY, upload.problems
    return mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)


def stored() -> dict[str, Mandate]:
    db.session.expire_all()
    return {m.reference: m for m in db.session.scalars(sa.select(Mandate))}


def audits() -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == "mandate.upload_committed")
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_every_column_is_stored_as_the_row_said(store, book):
    a, b = book["people"][:2]
    rows = [
        f"{a.customer_number},MD-A,be71 0961 2345 6769,,01/03/2024,Holder A,,b2b,a@example.com",
        f"{b.customer_number},md-b,{IBAN},GKCCBEBB,2024-03-02,,Direct debit,,",
    ]

    upload = committed(store, csv_file(rows))

    assert (upload.status, upload.created_count) == (MandateUploadStatus.COMMITTED, 2)
    mandates = stored()
    first, second = mandates["MD-A"], mandates["md-b"]
    assert (first.reference_key, first.customer_id, first.profile_id) == (
        "MD-A",
        a.id,
        book["sepa"].id,
    )
    assert (first.iban, first.bic, first.scheme) == (IBAN, "GKCCBEBB", MandateScheme.B2B)
    assert (first.signed_on, first.debtor_name, first.email) == (
        date(2024, 3, 1),
        "Holder A",
        "a@example.com",
    )
    assert (second.reference_key, second.debtor_name, second.email) == ("MD-B", b.name, None)
    assert second.scheme == MandateScheme.CORE
    for mandate in (first, second):
        assert (mandate.status, mandate.used, mandate.upload_id) == (
            MandateStatus.ACTIVE,
            False,
            upload.id,
        )
        assert mandate.actor == ACTOR
        assert mandate.created_at is not None and mandate.created_at.tzinfo is not None
        assert mandate.updated_at == mandate.created_at
    [event] = audits()
    assert event.details == {"file": "mandates.csv", "created": 2, "unchanged": 0}
    assert event.target == f"mandate_upload:{upload.id}"


def test_stored_mandates_changed_unchanged_or_revoked_are_left_as_they_are(store, book):
    a, b, c, d = book["people"][:4]
    sepa = book["sepa"]
    same = make_mandate(customer=a, profile=sepa, reference="SAME-1", iban=IBAN)
    same_day = same.signed_on.isoformat()
    changed = make_mandate(customer=b, profile=sepa, reference="CHANGED-1", iban=IBAN)
    revoked = make_mandate(
        customer=c, profile=sepa, reference="REVOKED-1", iban=IBAN, status=MandateStatus.REVOKED
    )
    rows = [
        f"{a.customer_number},same-1,{IBAN},,{same_day},,,,",
        f"{b.customer_number},CHANGED-1,NL91ABNA0417164300,,{same_day},,,,",
        f"{c.customer_number},REVOKED-1,{IBAN},,{same_day},,,,",
        f"{d.customer_number},NEW-1,{IBAN},,{same_day},,,,",
    ]
    before = {m.reference: (m.iban, m.status, m.updated_at) for m in stored().values()}

    upload = committed(store, csv_file(rows))

    assert (upload.status, upload.created_count, upload.unchanged_count) == (
        MandateUploadStatus.COMMITTED,
        1,
        3,
    )
    levels = {(p["row"], p["column"], p["level"]) for p in upload.problems}
    assert levels == {(3, "iban", "warning"), (4, "mandateNumber", "warning")}
    after = stored()
    for reference, old in before.items():
        m = after[reference]
        assert (m.iban, m.status, m.updated_at) == old
    assert after["REVOKED-1"].status == MandateStatus.REVOKED
    assert set(after) == {"SAME-1", "CHANGED-1", "REVOKED-1", "NEW-1"}
    assert after["NEW-1"].upload_id == upload.id
    assert changed.id and revoked.id


def test_the_same_file_again_changes_nothing(store, book):
    content = csv_file(
        [
            f"{p.customer_number},AGAIN-{i},{IBAN},,2024-01-0{i + 1},,,,"
            for i, p in enumerate(book["people"])
        ]
    )
    committed(store, content)
    first = {r: (m.id, m.updated_at) for r, m in stored().items()}

    again = committed(store, content)

    assert (again.status, again.created_count, again.new_count, again.unchanged_count) == (
        MandateUploadStatus.COMMITTED,
        0,
        0,
        6,
    )
    assert {r: (m.id, m.updated_at) for r, m in stored().items()} == first
    assert [e.details["created"] for e in audits()] == [6, 0]
    assert audits()[1].details["unchanged"] == 6


def test_a_reference_twice_in_the_file_stores_nothing(store, book, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)  # the twin is in another chunk
    a, b, c = book["people"][:3]
    rows = [
        f"{a.customer_number},TWIN-1,{IBAN},,2024-01-01,,,,",
        f"{b.customer_number},OTHER-1,{IBAN},,2024-01-01,,,,",
        f"{c.customer_number},twin-1,{IBAN},,2024-01-01,,,,",
    ]
    upload = mandate_upload.receive(io.BytesIO(csv_file(rows)), "m.csv", store, actor=ACTOR)
    # Straight to the commit's pass, as if the file had changed since its check.
    db.session.execute(
        sa.update(MandateUpload)
        .where(MandateUpload.id == upload.id)
        .values(status=MandateUploadStatus.READY)
    )
    db.session.commit()

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert upload.status == MandateUploadStatus.INVALID
    assert [(p["row"], p["column"]) for p in upload.problems] == [(4, "mandateNumber")]
    assert "TWIN-1" not in stored() and "OTHER-1" not in stored()
    assert audits() == []


def test_a_chunk_that_fails_half_way_leaves_nothing_written(store, book, monkeypatch):
    monkeypatch.setattr(mandate_scan, "CHUNK_ROWS", 2)
    rows = [
        f"{p.customer_number},CHUNK-{i},{IBAN},,2024-01-01,,,,"
        for i, p in enumerate(book["people"])
    ]
    upload = checked(store, csv_file(rows))
    assert upload.status == MandateUploadStatus.READY
    real, calls = mandate_insert.insert_chunk, []

    def second_chunk_fails(rows, **kwargs):
        calls.append(len(rows))
        real(rows, **kwargs)  # written in the transaction…
        if len(calls) == 2:
            raise RuntimeError("disk full")  # …then the second chunk breaks

    monkeypatch.setattr(mandate_upload, "insert_chunk", second_chunk_fails)

    with pytest.raises(RuntimeError, match="disk full"):
        mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert calls == [2, 2]
    assert stored() == {}
    upload = db.session.get(MandateUpload, upload.id)
    assert upload.status == MandateUploadStatus.FAILED
    assert "disk full" in upload.file_error
    assert audits() == []


@pytest.mark.postgres  # a second connection writing while the commit's transaction is open
def test_a_reference_stored_meanwhile_by_another_upload_is_seen_on_the_second_pass(
    store, book, monkeypatch
):
    a, b = book["people"][:2]
    rows = [
        f"{a.customer_number},RACE-1,{IBAN},,2024-01-01,,,,",
        f"{b.customer_number},RACE-2,{IBAN},,2024-01-01,,,,",
    ]
    upload = checked(store, csv_file(rows))
    real, raced = mandate_insert.insert_chunk, []

    def another_upload_first(rows, **kwargs):
        if not raced:  # between this pass's read and its insert, RACE-2 is stored elsewhere
            raced.append(True)
            with db.engine.begin() as other:
                other.execute(
                    sa.insert(Mandate),
                    [
                        {
                            "reference": "RACE-2",
                            "reference_key": "RACE-2",
                            "customer_id": b.id,
                            "profile_id": book["sepa"].id,
                            "iban": IBAN,
                            "debtor_name": "Elsewhere",
                            "signed_on": date(2024, 1, 1),
                            "scheme": MandateScheme.CORE,
                        }
                    ],
                )
        real(rows, **kwargs)

    monkeypatch.setattr(mandate_upload, "insert_chunk", another_upload_first)

    upload = mandate_upload.commit(upload.id, store, today=local_today(), actor=ACTOR)

    assert (upload.status, upload.created_count, upload.unchanged_count) == (
        MandateUploadStatus.COMMITTED,
        1,
        1,
    )
    mandates = stored()
    assert mandates["RACE-2"].debtor_name == "Elsewhere"
    assert mandates["RACE-1"].upload_id == upload.id
