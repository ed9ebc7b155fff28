"""The import dialog, its history, resuming and deleting an import, an import whose job was
lost; POST/GET /api/v1/imports."""

from datetime import date, timedelta

import pytest
from rq import Queue

from collector.accounts import users
from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.core.errors import Conflict
from collector.documents import timeline
from collector.documents.models import Invoice
from collector.extensions import db
from collector.runtime import queue
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import imports
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus
from tests.conftest import csrf_token
from tests.support.factories import make_event, make_invoice


def counts():
    return (
        db.session.scalar(db.select(db.func.count(DocumentImport.id))),
        db.session.scalar(db.select(db.func.count(JobRun.id))),
    )


def test_the_dialog_defaults_to_the_last_30_days(admin_client):
    html = admin_client.get("/imports/").get_data(as_text=True)

    today = local_today()
    assert f'value="{(today - timedelta(days=30)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert "No imports yet." in html


def test_starting_an_import_queues_its_job_and_shows_its_progress(admin_client, admin, redis_conn):
    token = csrf_token(admin_client, "/imports/")
    response = admin_client.post(
        "/imports/",
        data={
            "date_from": "2026-10-01",
            "date_to": "2026-10-31",
            "step": "start",
            "csrf_token": token,
        },
    )

    assert response.status_code == 302
    imp = db.session.scalars(db.select(DocumentImport)).one()
    assert (imp.source, imp.status, imp.user_id) == (
        ImportSource.MANUAL,
        ImportStatus.QUEUED,
        admin.id,
    )
    assert (imp.date_from, imp.date_to) == (date(2026, 10, 1), date(2026, 10, 31))
    run = db.session.get(JobRun, imp.job_run_id)
    assert (run.name, run.args, run.user_id) == ("run_import", [imp.id], admin.id)
    assert Queue("default", connection=redis_conn).job_ids == [run.job_id]
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-progress-url="/jobs/{run.job_id}/progress"' in page
    assert "data-reload-when-done" in page


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("2026-10-31", "2026-10-01", "date_to", "The range ends before it starts."),
        ("1990-01-01", "2026-10-01", "date_from", "Choose a day after 2000-01-01."),
        ("2022-01-01", "2026-10-01", "date_to", "Import at most 731 days at once."),
        ("2026-10-01", "", "date_to", "This field is required."),
        ("yesterday", "2026-10-01", "date_from", "Not a valid date value."),
    ],
)
def test_a_bad_range_is_a_form_error_and_starts_nothing(admin_client, first, last, field, message):
    token = csrf_token(admin_client, "/imports/")
    response = admin_client.post(
        "/imports/", data={"date_from": first, "date_to": last, "csrf_token": token}
    )

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="error" data-field="{field}">{message}</p>' in html
    assert counts() == (0, 0)


def test_viewers_see_the_history_but_cannot_import(viewer_client):
    assert viewer_client.get("/imports/").status_code == 200
    token = csrf_token(viewer_client, "/imports/")
    response = viewer_client.post(
        "/imports/",
        data={"date_from": "2026-10-01", "date_to": "2026-10-31", "csrf_token": token},
    )
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_without_the_csrf_token_nothing_starts(admin_client):
    response = admin_client.post(
        "/imports/", data={"date_from": "2026-10-01", "date_to": "2026-10-31"}
    )
    assert response.status_code == 400
    assert counts() == (0, 0)


def finished_import(**counts_):
    imp = imports.create_import(
        ImportSource.MANUAL, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)
    )
    imp.status = ImportStatus.FINISHED
    imp.counts = counts_
    imp.problems = [
        {
            "teamleader_id": "t-1",
            "kind": "invoice",
            "number": "2026 / 9",
            "outcome": "failed",
            "reason": "booked invoice without an invoice date",
        }
    ]
    db.session.commit()
    return imp


def test_the_result_shows_counts_and_reasons(admin_client):
    imp = finished_import(imported=3, invoices=2, credit_notes=1, skipped=4, failed=1)

    html = admin_client.get(f"/imports/{imp.id}").get_data(as_text=True)

    assert '<dd data-count="imported">3</dd>' in html
    assert '<dd data-count="skipped">4</dd>' in html
    assert '<dd data-count="failed">1</dd>' in html
    assert "2026 / 9" in html and "booked invoice without an invoice date" in html
    history = admin_client.get("/imports/").get_data(as_text=True)
    assert f'href="/imports/{imp.id}"' in history


def test_deleting_an_import_through_the_page(admin_client):
    imp = finished_import(imported=2)
    untouched = make_invoice(import_id=imp.id)
    make_event(untouched, details={"import_id": imp.id})
    invited = make_invoice(import_id=imp.id)
    make_event(invited, details={"import_id": imp.id})
    timeline.record(invited, "invitation_sent", "Invitation sent.", actor="test")
    db.session.commit()
    token = csrf_token(admin_client, f"/imports/{imp.id}")

    response = admin_client.post(f"/imports/{imp.id}/delete", data={"csrf_token": token})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(db.select(Invoice.id)).all() == [invited.id]
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.DELETED
    page = admin_client.get(f"/imports/{imp.id}").get_data(as_text=True)
    assert "1 documents removed, 1 kept" in page
    again = admin_client.post(f"/imports/{imp.id}/delete", data={"csrf_token": token})
    assert again.status_code == 409


def test_a_running_import_cannot_be_deleted(admin_client):
    imp = imports.create_import(
        ImportSource.MANUAL, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)
    )
    imp.status = ImportStatus.RUNNING
    db.session.commit()
    make_invoice(import_id=imp.id)
    token = csrf_token(admin_client, "/imports/")

    response = admin_client.post(f"/imports/{imp.id}/delete", data={"csrf_token": token})

    assert response.status_code == 409
    assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 1


@pytest.fixture
def api_key(app):
    return users.create_api_key("erp")[1]


def test_the_api_starts_an_import_and_reports_it(client, api_key, redis_conn):
    headers = {"Authorization": f"Bearer {api_key}"}
    response = client.post(
        "/api/v1/imports", json={"from": "2026-10-01", "to": "2026-10-31"}, headers=headers
    )

    assert response.status_code == 202
    data = response.json["data"]
    assert (data["source"], data["status"], data["from"], data["to"]) == (
        "api",
        "queued",
        "2026-10-01",
        "2026-10-31",
    )
    assert response.headers["Location"].endswith(f"/api/v1/imports/{data['id']}")
    assert len(Queue("default", connection=redis_conn).job_ids) == 1
    got = client.get(f"/api/v1/imports/{data['id']}", headers=headers)
    assert got.status_code == 200 and got.json["data"]["id"] == data["id"]
    assert client.get("/api/v1/imports/999", headers=headers).status_code == 404
    # Overdue and older documents' invitations are held unless the caller opts in.
    opted = client.post(
        "/api/v1/imports",
        json={"from": "2026-10-01", "to": "2026-10-31", "mail_old_documents": True},
        headers=headers,
    )
    imports_made = db.session.scalars(db.select(DocumentImport).order_by(DocumentImport.id))
    assert [i.mail_old_documents for i in imports_made] == [False, True]
    assert opted.status_code == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-10-31", "to": "2026-10-01"}, "date_to"),
        ({"from": "2026-10-01"}, "to"),
        ({"from": "2026-10-01", "to": "2026-10-31", "departments": []}, "departments"),
        ({"from": "31/10/2026", "to": "2026-10-31"}, "from"),
    ],
)
def test_the_api_refuses_a_bad_range(client, api_key, body, field):
    response = client.post(
        "/api/v1/imports", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )

    assert response.status_code == 400
    assert field in response.json["errors"]
    assert counts() == (0, 0)


def stopped_import(status=ImportStatus.INTERRUPTED, **fields):
    imp = imports.create_import(
        ImportSource.MANUAL, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)
    )
    imp.status, imp.counts = status, {"imported": 100, "invoices": 100}
    for name, value in fields.items():
        setattr(imp, name, value)
    db.session.commit()
    return imp


STOPPED = "The worker running this job stopped. What it imported stays; resume it or delete it."


def test_an_interrupted_import_says_so_and_can_be_resumed_or_deleted(admin_client):
    imp = stopped_import(error=STOPPED)

    html = admin_client.get(f"/imports/{imp.id}").get_data(as_text=True)

    assert '<span class="badge badge-interrupted">interrupted</span>' in html
    assert STOPPED in html
    assert f'action="/imports/{imp.id}/resume"' in html
    assert f'action="/imports/{imp.id}/delete"' in html
    history = admin_client.get("/imports/").get_data(as_text=True)
    assert '<span class="badge badge-interrupted">interrupted</span>' in history


@pytest.mark.parametrize("status", [ImportStatus.INTERRUPTED, ImportStatus.FAILED])
def test_resuming_an_import_through_the_page_queues_its_job_once(
    admin_client, admin, redis_conn, status
):
    imp = stopped_import(status, error="stopped", summary_sent_at=utcnow())
    token = csrf_token(admin_client, f"/imports/{imp.id}")

    response = admin_client.post(f"/imports/{imp.id}/resume", data={"csrf_token": token})

    assert response.status_code == 302
    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert (imp.status, imp.error, imp.summary_sent_at) == (ImportStatus.QUEUED, None, None)
    run = db.session.get(JobRun, imp.job_run_id)
    assert (run.name, run.args, run.user_id) == ("run_import", [imp.id], admin.id)
    assert Queue("default", connection=redis_conn).job_ids == [run.job_id]
    again = admin_client.post(f"/imports/{imp.id}/resume", data={"csrf_token": token})
    assert again.status_code == 409
    assert "only a failed or interrupted import can be resumed" in again.get_data(as_text=True)
    assert Queue("default", connection=redis_conn).job_ids == [run.job_id]


def test_a_finished_import_offers_no_resume(admin_client, redis_conn):
    imp = finished_import(imported=2)
    assert "/resume" not in admin_client.get(f"/imports/{imp.id}").get_data(as_text=True)
    token = csrf_token(admin_client, f"/imports/{imp.id}")

    response = admin_client.post(f"/imports/{imp.id}/resume", data={"csrf_token": token})

    assert response.status_code == 409
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.FINISHED
    assert Queue("default", connection=redis_conn).job_ids == []


def test_viewers_cannot_resume_an_import(viewer_client):
    imp = stopped_import()
    assert "/resume" not in viewer_client.get(f"/imports/{imp.id}").get_data(as_text=True)
    token = csrf_token(viewer_client, f"/imports/{imp.id}")
    response = viewer_client.post(f"/imports/{imp.id}/resume", data={"csrf_token": token})
    assert response.status_code == 403
    assert counts() == (1, 0)


def test_an_interrupted_import_can_be_deleted(admin_client):
    imp = stopped_import()
    untouched = make_invoice(import_id=imp.id)
    make_event(untouched, details={"import_id": imp.id})
    token = csrf_token(admin_client, f"/imports/{imp.id}")

    response = admin_client.post(f"/imports/{imp.id}/delete", data={"csrf_token": token})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.DELETED
    assert db.session.scalars(db.select(Invoice.id)).all() == []


def test_the_api_shows_an_interrupted_import_and_resumes_it(client, api_key, redis_conn):
    headers = {"Authorization": f"Bearer {api_key}"}
    imp = stopped_import(error=STOPPED)
    got = client.get(f"/api/v1/imports/{imp.id}", headers=headers)
    assert (got.json["data"]["status"], got.json["data"]["error"]) == ("interrupted", STOPPED)

    response = client.post(f"/api/v1/imports/{imp.id}/resume", headers=headers)

    assert response.status_code == 202
    assert (response.json["data"]["status"], response.json["data"]["error"]) == ("queued", None)
    assert response.headers["Location"].endswith(f"/api/v1/imports/{imp.id}")
    assert len(Queue("default", connection=redis_conn).job_ids) == 1
    again = client.post(f"/api/v1/imports/{imp.id}/resume", headers=headers)
    assert again.status_code == 409
    assert "only a failed or interrupted import" in again.json["message"]
    assert client.post("/api/v1/imports/999/resume", headers=headers).status_code == 404
    assert len(Queue("default", connection=redis_conn).job_ids) == 1


def lost_run(job_id: str) -> JobRun:
    run = JobRun(job_id=job_id, name="run_import", status=JobStatus.FAILED, error="It stopped.")
    db.session.add(run)
    db.session.commit()
    return run


def test_a_lost_job_interrupts_its_own_import_only(app):
    lost, other = lost_run("lost"), lost_run("other")
    running = stopped_import(ImportStatus.RUNNING, job_run_id=lost.id)
    elsewhere = stopped_import(ImportStatus.RUNNING, job_run_id=other.id)
    ended = stopped_import(ImportStatus.FINISHED, job_run_id=lost.id)

    queue.job_lost.send(lost)

    db.session.expire_all()
    running = db.session.get(DocumentImport, running.id)
    assert running.status == ImportStatus.INTERRUPTED
    assert running.error == "It stopped. What it imported stays; resume it or delete it."
    assert running.finished_at == utcnow()
    assert db.session.get(DocumentImport, elsewhere.id).status == ImportStatus.RUNNING
    assert db.session.get(DocumentImport, ended.id).status == ImportStatus.FINISHED


def test_a_running_import_runs_only_under_the_job_recorded_on_it(app):
    mine = lost_run("mine")
    imp = stopped_import(ImportStatus.RUNNING, job_run_id=mine.id)
    for job_run_id in (None, lost_run("another").id):
        with pytest.raises(Conflict, match=f"Import {imp.id} is running"):
            imports.run_import(None, None, imp, job_run_id=job_run_id)
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.RUNNING
