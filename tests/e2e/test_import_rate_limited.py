"""Imports a spent Teamleader rate limit stops (issue 17), against the sandbox: a job's import
is queued again with what it imported and no summary yet, and its job resumes it after the
reset; an automatic import leaves the rest to the next run of the delivery that started it."""

from datetime import timedelta

import pytest

from collector.core.clock import local_today
from collector.core.ratelimit import RateLimited, patience
from collector.documents.models import DocumentKind, Invoice
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import Progress
from collector.teamleader import RedisRateLimiter, imports, notifications
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import DeliveryStatus, DocumentImport, ImportSource, ImportStatus

WAITING = "Waiting for Teamleader's rate limit until "


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 150, "RATE_LIMIT": 100_000}


@pytest.fixture
def settings(tl_app, connection, smtp_server):
    """A default profile, mail to the test SMTP server, and the invoice profile field chosen:
    the import reads ``invoices.info`` for every invoice, so it calls Teamleader in every
    chunk."""
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="collector@example.com",
    )
    fields = {f["context"]: f["id"] for f in connection.custom_fields if "rofile" in f["label"]}
    connection.default_profile_id = create_profile(
        {"name": "Default", "allow_bank_transfer": True}
    ).id
    connection.invoice_profile_field_id = fields["invoice"]
    db.session.commit()
    return connection


@pytest.fixture
def limiter(tl_app, settings, redis_conn):
    """The account's shared limiter, as every worker builds it."""
    return RedisRateLimiter.for_account(redis_conn, settings.account_id)


class SpentAfterFirstChunk(Progress):
    """The job's progress; Teamleader answers 429 once the first chunk of documents is in."""

    def __init__(self, run, sandbox):
        super().__init__(run)
        self.sandbox, self.armed = sandbox, True

    def advance(self, step=1, **counts):
        super().advance(step, **counts)
        if self.armed and counts.get("imported"):
            self.armed = False
            fault = {"kind": "rate_limit", "endpoint": "invoices.info", "count": 50}
            self.sandbox.control("POST", "faults", json=fault)


def booked_in_range(sandbox, first, last) -> set[str]:
    """The invoices the import must bring, from the emulator's own data."""
    return {
        i["id"]
        for i in sandbox.data.invoices.values()
        if i["status"] in ("outstanding", "matched") and first <= i["invoice_date"] <= last
    }


def imported_invoices() -> set[str]:
    query = db.select(Invoice.teamleader_id).where(Invoice.kind == DocumentKind.INVOICE)
    return set(db.session.scalars(query))


def test_an_import_stopped_midway_is_queued_with_what_it_imported_and_resumed_after_the_reset(
    tl_app, sandbox, settings, limiter, redis_conn, admin, smtp_server
):
    last = local_today()
    first = last - timedelta(days=90)
    wanted = booked_in_range(sandbox, first, last)
    assert len(wanted) > 100  # more than one chunk
    imp = imports.create_import(ImportSource.MANUAL, user=admin, date_from=first, date_to=last)
    run = teamleader_jobs.start_import(imp, admin)
    progress = SpentAfterFirstChunk(run, sandbox)

    with patience(2), pytest.raises(RateLimited) as caught:
        # The job's own code as a worker runs it, with the patience its wrapper gives it.
        teamleader_jobs.run_import.__wrapped__(imp.id, progress=progress)

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.QUEUED and not imp.done
    assert imp.error == caught.value.waiting and imp.error.startswith(WAITING)
    kept = imported_invoices()
    assert 0 < len(kept) < len(wanted) and kept <= wanted
    assert imp.count("imported") == len(kept)
    assert smtp_server.messages == [] and imp.summary_sent_at is None
    assert limiter.paused_for() > 2  # the 429 holds every worker back

    # The reset passes; the job runs again and finishes the same import.
    sandbox.control("DELETE", "faults")
    redis_conn.delete(limiter.pause_key)
    teamleader_jobs.run_import(imp.id)

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.FINISHED and imp.error is None
    assert imported_invoices() == wanted
    [summary] = smtp_server.messages
    assert summary["Subject"].startswith(f"Teamleader import #{imp.id} finished")


def test_the_job_gives_its_worker_back_while_the_budget_is_spent(
    tl_app, settings, limiter, admin, smtp_server
):
    limiter.pause_until_ms(limiter.now_ms() + 40_000)  # another worker met a 429
    today = local_today()
    imp = imports.create_import(ImportSource.MANUAL, user=admin, date_from=today, date_to=today)

    teamleader_jobs.run_import(imp.id)  # returns: started again at the reset

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.QUEUED and imp.error.startswith(WAITING)
    run = db.session.scalars(db.select(JobRun)).one()
    assert run.status == JobStatus.QUEUED and run.message.startswith(WAITING)
    assert smtp_server.messages == []


def test_an_automatic_import_a_rate_limit_stops_leaves_the_delivery_to_be_handled_again(
    tl_app, sandbox, settings, limiter, redis_conn
):
    settings.auto_import = True
    db.session.commit()
    booked = sandbox.control("POST", "invoices", json={"amount": 80})["data"]
    body = {
        "type": "invoice.booked",
        "subject": {"type": "invoice", "id": booked["id"]},
        "account": {"type": "account", "id": settings.account_id},
    }
    delivery = notifications.receive(settings.webhook_token, body)
    client = teamleader_setup.client(tl_app, settings)
    limiter.pause_until_ms(limiter.now_ms() + 40_000)

    with patience(2), pytest.raises(RateLimited):
        notifications.handle_delivery(client, delivery)

    db.session.expire_all()
    assert db.session.get(type(delivery), delivery.id).status == DeliveryStatus.RECEIVED
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 0  # it held nothing

    redis_conn.delete(limiter.pause_key)
    outcome = notifications.handle_delivery(client, db.session.get(type(delivery), delivery.id))

    assert "1 imported" in outcome
    imp = db.session.scalars(db.select(DocumentImport)).one()
    assert imp.status == ImportStatus.FINISHED and imp.source == ImportSource.WEBHOOK
