"""The import job (summary email to whoever started it) and the CLI command."""

from datetime import timedelta

import pytest

from collector.core.clock import local_today
from collector.documents.models import Invoice
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus


@pytest.fixture
def sandbox_config():
    return {"SEED": 3, "INVOICE_COUNT": 40, "RATE_LIMIT": 100_000}


@pytest.fixture
def ready(tl_app, connection, smtp_server):
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="collector@example.com",
    )
    profile = create_profile({"name": "Default", "allow_bank_transfer": True})
    connection.default_profile_id = profile.id
    db.session.commit()
    return connection


def test_the_job_imports_and_emails_the_summary_to_whoever_started_it(
    tl_app, ready, admin, smtp_server
):
    today = local_today()
    imp = imports.create_import(
        ImportSource.MANUAL, user=admin, date_from=today - timedelta(days=30), date_to=today
    )

    teamleader_jobs.run_import(imp.id)

    db.session.refresh(imp)
    assert imp.status == ImportStatus.FINISHED and imp.count("imported") > 0
    run = db.session.scalars(db.select(JobRun)).one()
    assert run.status == JobStatus.FINISHED
    assert run.counts["imported"] == imp.count("imported")
    assert run.progress_done == run.progress_total
    [message] = smtp_server.messages
    assert message["To"] == admin.email
    assert (
        message["Subject"]
        == f"Teamleader import #{imp.id} finished: {imp.count('imported')} imported"
    )
    assert f"Imported:       {imp.count('imported')}" in message.get_content()
    assert imp.summary_sent_at is not None
    assert imp.api_call_total == sum(imp.api_calls.values()) > 0


def test_a_failed_import_is_recorded_and_its_summary_says_why(
    tl_app, ready, admin, smtp_server, sandbox
):
    sandbox.control(
        "POST", "faults", json={"kind": "error", "endpoint": "invoices.list", "count": 20}
    )
    today = local_today()
    imp = imports.create_import(
        ImportSource.MANUAL, user=admin, date_from=today - timedelta(days=30), date_to=today
    )

    with pytest.raises(Exception, match="500"):
        teamleader_jobs.run_import(imp.id)

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.FAILED and "Teamleader failed" in imp.error
    assert db.session.scalars(db.select(JobRun)).one().status == JobStatus.FAILED
    [message] = smtp_server.messages
    assert "failed" in message["Subject"]
    assert "Reason: Teamleader failed" in message.get_content()


def test_without_a_connection_the_import_fails_with_that_reason(app, admin):
    app.config.update(MAIL_HOST="", MAIL_FROM="collector@example.com")
    today = local_today()
    imp = imports.create_import(ImportSource.MANUAL, user=admin, date_from=today, date_to=today)

    with pytest.raises(Exception, match="not connected"):
        teamleader_jobs.run_import(imp.id)

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.FAILED and "not connected" in imp.error
    mail = db.session.scalars(db.select(MailMessage)).one()  # the demo sink keeps it
    assert mail.recipient == admin.email and mail.status.value == "stored"


def test_the_cli_imports_waits_and_prints_the_summary(tl_app, ready):
    result = tl_app.test_cli_runner().invoke(args=["import-documents", "--days", "30"])

    assert result.exit_code == 0, result.output
    imp = db.session.scalars(db.select(DocumentImport)).one()
    assert imp.source == ImportSource.CLI and imp.status == ImportStatus.FINISHED
    count = db.session.scalar(db.select(db.func.count(Invoice.id)))
    assert count == imp.count("imported") > 0
    assert f"Imported:       {count}" in result.output


def test_the_cli_refuses_a_reversed_range(tl_app, ready):
    result = tl_app.test_cli_runner().invoke(
        args=["import-documents", "--from", "2026-10-31", "--to", "2026-10-01"]
    )

    assert result.exit_code != 0
    assert "The range ends before it starts." in result.output
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 0
