"""An import whose worker dies part-way: the documents it committed are owed their
invitations with them, the import shows as interrupted when its job is lost, and it
resumes — by a person, or by rq running the same job again — without doing twice what
it did."""

from datetime import timedelta

import pytest
from rq import SimpleWorker

from collector.core.clock import local_today
from collector.core.errors import Conflict
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    Invoice,
)
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail.invitations import INVITABLE
from collector.runtime import queue, recovery
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, bind_job_class
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.importer import Progress
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 150, "RATE_LIMIT": 100_000}


@pytest.fixture
def inviting(tl_app, connection):
    """Every document on a profile that invites its customer on import."""
    tl_app.config["TEAMLEADER_RATE_LIMIT"] = 100_000
    profile = create_profile(
        {"name": "Invite", "allow_bank_transfer": True, "send_invitation_on_import": True}
    )
    connection.default_profile_id = profile.id
    db.session.commit()
    return connection


class WorkerKilled(BaseException):
    """What SIGKILL leaves of a job: nothing after it runs, no ``except Exception`` either."""


class DiesAfterFirstChunk(Progress):
    def advance(self, step=1, **counts):
        if counts.get("imported"):
            raise WorkerKilled


def client_for(app, connection):
    return teamleader_setup.client(app, connection, sleep=lambda seconds: None)


def killed_import(app, connection, job_run_id: int | None = None) -> DocumentImport:
    """An import of 90 days (more than one chunk) whose worker died after its first chunk."""
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=90), date_to=today
    )
    with pytest.raises(WorkerKilled):
        imports.run_import(
            client_for(app, connection),
            connection,
            imp,
            progress=DiesAfterFirstChunk(),
            job_run_id=job_run_id,
        )
    db.session.rollback()
    return imp


def documents() -> list[Invoice]:
    return db.session.scalars(db.select(Invoice).order_by(Invoice.id)).all()


def owed_an_invitation() -> set[int]:
    """The documents here an invitation on import is for: invoices still to pay."""
    return {
        i.id
        for i in documents()
        if i.kind == DocumentKind.INVOICE and i.state in INVITABLE and i.amount_due > 0
    }


def invited() -> list[int]:
    query = db.select(DocumentMail.invoice_id).where(
        DocumentMail.kind == DocumentMailKind.INVITATION
    )
    return sorted(db.session.scalars(query))


def listed_in_teamleader(sandbox) -> int:
    today = local_today()
    first = today - timedelta(days=90)
    data = sandbox.data
    invoices = [
        i
        for i in data.invoices.values()
        if i["status"] in ("outstanding", "matched") and first <= i["invoice_date"] <= today
    ]
    notes = [n for n in data.credit_notes.values() if first <= n["credit_note_date"] <= today]
    return len(invoices) + len(notes)


def test_documents_committed_before_the_worker_died_are_owed_their_invitations(
    tl_app, inviting, sandbox
):
    imp = killed_import(tl_app, inviting)

    committed = documents()
    assert 0 < len(committed) < listed_in_teamleader(sandbox)
    assert owed_an_invitation()
    assert invited() == sorted(owed_an_invitation())
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.RUNNING  # as left


def test_an_import_whose_job_is_lost_is_interrupted_then_resumed_where_it_stopped(
    tl_app, inviting, sandbox
):
    imp = killed_import(tl_app, inviting)
    before = len(documents())
    run = JobRun(job_id="lost", name="run_import", status=JobStatus.FAILED, error=recovery.STOPPED)
    db.session.add(run)
    db.session.flush()
    imp.job_run_id = run.id
    db.session.commit()

    queue.job_lost.send(run)  # what recovery does once the run is marked failed

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.INTERRUPTED and imp.done
    assert imp.error == f"{recovery.STOPPED} What it imported stays; resume it or delete it."
    assert imp.finished_at is not None

    imports.run_import(client_for(tl_app, inviting), inviting, imp)

    assert imp.status == ImportStatus.FINISHED and imp.error is None
    assert len(documents()) == listed_in_teamleader(sandbox) > before
    # Its own documents from before the interruption are not "skipped": imported once.
    assert (imp.count("imported"), imp.count("skipped")) == (len(documents()), 0)
    assert invited() == sorted(owed_an_invitation())  # each once


def test_rq_running_the_same_job_again_resumes_the_import_it_left_running(
    tl_app, inviting, sandbox, redis_conn
):
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=90), date_to=today
    )
    run = teamleader_jobs.start_import(imp)  # queued in rq; a worker took it and died:
    with pytest.raises(WorkerKilled):
        imports.run_import(
            client_for(tl_app, inviting),
            inviting,
            imp,
            progress=DiesAfterFirstChunk(),
            job_run_id=run.id,
        )
    db.session.rollback()

    # Another job beside it is refused, and leaves it running.
    with pytest.raises(Conflict, match="is running"):
        teamleader_jobs.run_import(imp.id)
    db.session.expire_all()
    assert db.session.get(DocumentImport, imp.id).status == ImportStatus.RUNNING

    # rq runs the job again (its Retry after the worker's heartbeat expired).
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(tl_app)).work(burst=True)

    db.session.expire_all()
    imp = db.session.get(DocumentImport, imp.id)
    assert imp.status == ImportStatus.FINISHED
    assert db.session.get(JobRun, run.id).status == JobStatus.FINISHED
    assert len(documents()) == listed_in_teamleader(sandbox)
    assert invited() == sorted(owed_an_invitation())
