"""The upload's screens and edges: the documented form, the template, the progress while
checking, who may upload and commit, CSRF, size, streaming into the store, and two
commits of one upload at the same time."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Queue

from collector.core.clock import local_today
from collector.core.errors import Conflict, Invalid
from collector.core.storage import ContentTooLarge, FolderStore, StoredDocumentMissing, document_key
from collector.direct_debit import mandate_upload
from collector.direct_debit.models import Mandate, MandateUpload, MandateUploadStatus
from collector.extensions import db
from collector.runtime.models import JobRun
from tests.conftest import csrf_token, login
from tests.support.factories import make_customer, make_profile
from tests.test_mandate_upload import NEW, csv_bytes, drain, send


def today():
    return local_today()


def uploads() -> int:
    return db.session.scalar(sa.select(sa.func.count(MandateUpload.id)))


@pytest.fixture
def ready_file(app):
    sepa = make_profile(name="SEPA", allow_direct_debit=True)
    people = [make_customer(profile=sepa) for _ in range(3)]
    rows = [
        (c.customer_number, f"W-{i}", "BE71096123456769", "", "2024-01-01", "", "", "")
        for i, c in enumerate(people)
    ]
    return csv_bytes(rows)


def test_the_upload_page_documents_the_format(admin_client):
    html = admin_client.get(NEW).get_data(as_text=True)

    for column in ("customerNumber", "mandateNumber", "iban", "bic", "signDate", "scheme"):
        assert f"<code>{column}</code>" in html
    assert 'href="/customers.csv" data-link="customers-csv"' in html
    assert 'href="/mandates/template.csv" data-link="template"' in html
    assert 'enctype="multipart/form-data"' in html


def test_the_template_is_the_header_of_every_column(viewer_client):
    response = viewer_client.get("/mandates/template.csv")

    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == (
        "customerNumber,mandateNumber,iban,bic,signDate,name,email,profile,scheme\r\n"
    )


def test_the_preview_shows_progress_while_the_check_is_queued(
    admin_client, app, redis_conn, ready_file
):
    response = send(admin_client, ready_file, "signed.csv")

    upload = db.session.scalars(sa.select(MandateUpload)).one()
    assert (upload.status, upload.filename, upload.size) == (
        MandateUploadStatus.CHECKING,
        "signed.csv",
        len(ready_file),
    )
    run = db.session.scalars(sa.select(JobRun)).one()
    assert (run.name, run.args) == ("check_mandate_upload", [upload.id])
    assert Queue("default", connection=redis_conn).job_ids == [run.job_id]
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-progress-url="/jobs/{run.job_id}/progress"' in html
    assert "data-reload-when-done" in html
    assert "/commit" not in html

    drain(app, redis_conn)
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-progress-url" not in html
    assert "Commit 3 new mandates" in html


def test_no_file_is_a_form_error(admin_client):
    token = csrf_token(admin_client, NEW)
    response = admin_client.post(
        NEW, data={"csrf_token": token}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)
    assert uploads() == 0


def test_viewers_see_the_preview_but_cannot_upload_or_commit(
    client, app, redis_conn, ready_file, admin, viewer
):
    login(client, admin.email)
    response = send(client, ready_file)
    drain(app, redis_conn)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/mandates/")})
    login(client, viewer.email)
    path = response.headers["Location"]

    assert client.get(NEW).status_code == 403
    assert client.get("/mandates/").status_code == 200
    html = client.get(path).get_data(as_text=True)
    assert "No errors: an admin can commit it." in html and "/commit" not in html
    token = csrf_token(client, path)
    files = {"csrf_token": token, "file": (io.BytesIO(ready_file), "m.csv")}
    assert client.post(NEW, data=files, content_type="multipart/form-data").status_code == 403
    assert client.post(f"{path}/commit", data={"csrf_token": token}).status_code == 403
    drain(app, redis_conn)
    assert uploads() == 1
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 0


def test_an_upload_or_commit_without_the_csrf_token_is_refused(
    admin_client, app, redis_conn, ready_file
):
    refused = admin_client.post(
        NEW, data={"file": (io.BytesIO(ready_file), "m.csv")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400
    assert uploads() == 0

    path = send(admin_client, ready_file).headers["Location"]
    drain(app, redis_conn)
    assert admin_client.post(f"{path}/commit").status_code == 400
    drain(app, redis_conn)
    db.session.expire_all()
    assert db.session.scalars(sa.select(MandateUpload.status)).one() == MandateUploadStatus.READY


def test_a_file_over_the_limit_is_refused_and_nothing_kept(app, tmp_path):
    store = FolderStore(tmp_path / "store")

    with pytest.raises(Invalid) as refused:
        mandate_upload.receive(
            io.BytesIO(b"x" * 2048), "big.csv", store, actor="user:a", max_bytes=1024
        )

    assert refused.value.errors == {"file": ["The file is larger than 1024 bytes; split it."]}
    assert uploads() == 0
    assert [p for p in Path(tmp_path / "store").rglob("*") if p.is_file()] == []


def test_an_unready_upload_cannot_be_committed(admin_client, app, redis_conn):
    path = send(admin_client, b"nothing,useful\r\n").headers["Location"]
    drain(app, redis_conn)

    response = admin_client.post(
        f"{path}/commit", data={"csrf_token": csrf_token(admin_client, path)}
    )

    assert response.status_code == 302
    html = admin_client.get(path).get_data(as_text=True)
    assert "This upload is invalid; it cannot be committed." in html
    assert db.session.scalar(sa.select(sa.func.count(JobRun.id))) == 1  # the check only


# -- the store ------------------------------------------------------------------------------


def test_a_streamed_file_is_stored_under_its_sha256(tmp_path):
    store = FolderStore(tmp_path / "store")
    content = b"customerNumber,mandateNumber\r\n" * 100_000  # several read chunks

    key, size = store.put_stream(io.BytesIO(content))

    assert (key, size) == (document_key(content), len(content))
    assert store.put(content) == key  # the same bytes, the same key
    with store.open(key) as file:
        assert file.read() == content
    assert store.put_stream(io.BytesIO(content)) == (key, size)
    assert [p.name for p in (tmp_path / "store").iterdir() if p.name.startswith(".")] == []
    with pytest.raises(StoredDocumentMissing):
        store.open("0" * 64)


def test_a_stream_past_the_limit_leaves_nothing(tmp_path):
    store = FolderStore(tmp_path / "store")

    with pytest.raises(ContentTooLarge):
        store.put_stream(io.BytesIO(b"x" * 5000), max_bytes=4999)

    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


# -- two commits at once --------------------------------------------------------------------


@pytest.mark.postgres
def test_two_commits_at_the_same_moment_store_the_mandates_once(
    admin_client, app, redis_conn, ready_file
):
    send(admin_client, ready_file)
    drain(app, redis_conn)
    upload_id = db.session.scalars(sa.select(MandateUpload.id)).one()
    store = FolderStore(app.config["DOCUMENT_STORAGE"])
    start, outcomes = threading.Barrier(2), []

    def commit():
        with app.app_context():
            start.wait()
            try:
                mandate_upload.commit(upload_id, store, today=today(), actor="user:a")
                outcomes.append("committed")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["committed", "conflict"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 3
    assert db.session.get(MandateUpload, upload_id).created_count == 3
