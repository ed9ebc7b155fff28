"""Jobs: rq on the real Redis, in-process without it; every job keeps its JobRun."""

import secrets
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from rq import SimpleWorker

from collector import create_app
from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import jobs as runtime_jobs
from collector.runtime.inline import InlineScheduler
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import (
    QUEUES,
    AppJob,
    Periodic,
    bind_job_class,
    tracked,
)
from tests.conftest import app_config


def old_run(job_id: str, status=JobStatus.FINISHED, days=120) -> JobRun:
    run = JobRun(job_id=job_id, name="x", status=status, created_at=utcnow() - timedelta(days=days))
    db.session.add(run)
    db.session.commit()
    return run


def drain(app, redis_conn) -> None:
    """Run every queued job in this process, as ``worker.py`` would."""
    worker = SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app))
    worker.work(burst=True)


def test_job_runs_on_rq_and_records_its_outcome(app, redis_conn):
    old_run("old-finished")
    old_run("old-failed", JobStatus.FAILED)
    old_run("old-still-running", JobStatus.STARTED)
    old_run("recent", days=1)
    assert app.extensions["jobs"].backend.name == "rq"

    run = app.extensions["jobs"].enqueue(runtime_jobs.prune_job_runs, 90, queue="low")
    assert run.status == JobStatus.QUEUED
    assert redis_conn.llen("rq:queue:low") == 1
    drain(app, redis_conn)

    db.session.expire_all()
    run = db.session.scalars(db.select(JobRun).filter_by(job_id=run.job_id)).one()
    assert run.status == JobStatus.FINISHED
    assert run.counts == {"deleted": 2, "deliveries": 0, "notifications": 0, "digests": 0}
    assert run.percent == 100
    remaining = set(db.session.scalars(db.select(JobRun.job_id)))
    assert remaining == {"old-still-running", "recent", run.job_id}


@tracked
def explode(*, progress):
    progress.total(4)
    progress.advance(2, seen=2)
    raise RuntimeError("upstream said no")


def test_failed_job_records_error_and_fails_in_rq(app, redis_conn):
    run = app.extensions["jobs"].enqueue(explode)
    drain(app, redis_conn)
    db.session.expire_all()
    run = db.session.scalars(db.select(JobRun).filter_by(job_id=run.job_id)).one()
    assert run.status == JobStatus.FAILED
    assert run.error == "RuntimeError: upstream said no"
    assert (run.progress_done, run.progress_total, run.percent) == (2, 4, 50)
    assert redis_conn.zcard("rq:failed:default") == 1


def test_cron_enqueued_job_creates_its_own_run(app, redis_conn):
    # rq cron enqueues the function itself, with no JobRun written beforehand.
    from rq import Queue

    Queue("low", connection=redis_conn).enqueue(runtime_jobs.prune_job_runs, job_id="cron-1")
    drain(app, redis_conn)
    run = db.session.scalars(db.select(JobRun).filter_by(job_id="cron-1")).one()
    assert run.status == JobStatus.FINISHED and run.name == "prune_job_runs"


def test_bad_job_arguments_fail_cleanly(app, redis_conn):
    run = app.extensions["jobs"].enqueue(runtime_jobs.prune_job_runs, 0)
    drain(app, redis_conn)
    db.session.expire_all()
    run = db.session.scalars(db.select(JobRun).filter_by(job_id=run.job_id)).one()
    assert run.status == JobStatus.FAILED
    assert "keep_days must be at least 1" in run.error


def test_unknown_queue_is_refused(app):
    with pytest.raises(ValueError, match="unknown queue"):
        app.extensions["jobs"].enqueue(runtime_jobs.prune_job_runs, queue="urgent")
    assert db.session.scalars(db.select(JobRun)).all() == []


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def app_without_redis(app, tmp_root):
    # Nothing listens on port 1: exactly what "Redis is down" looks like.
    return create_app(app_config(tmp_root, REDIS_URL="redis://127.0.0.1:1/0"))


def test_without_redis_jobs_run_in_process(app, app_without_redis):
    assert app_without_redis.extensions["jobs"].backend.name == "inline"
    old_run("old")
    with app_without_redis.app_context():
        run = app_without_redis.extensions["jobs"].enqueue(runtime_jobs.prune_job_runs, 90)
        job_id = run.job_id

    def finished():
        db.session.expire_all()
        row = db.session.scalars(db.select(JobRun).filter_by(job_id=job_id)).one()
        return row.status == JobStatus.FINISHED

    assert wait_for(finished)
    assert db.session.scalars(db.select(JobRun.job_id)).all() == [job_id]


def test_inline_scheduler_enqueues_what_is_due(app, redis_conn):
    now = utcnow()
    clock = [now]
    schedule = (Periodic(runtime_jobs.prune_job_runs, "low", interval=60),)
    scheduler = InlineScheduler(app, schedule, clock=lambda: clock[0])
    assert scheduler.run_due() == []
    clock[0] = now + timedelta(seconds=61)
    assert scheduler.run_due() == list(schedule)
    assert scheduler.run_due() == []
    assert redis_conn.llen("rq:queue:low") == 1


def test_production_never_falls_back_to_in_process(tmp_root, app):
    config = app_config(
        tmp_root,
        ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        PUBLIC_BASE_URL="https://collect.example.com",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert create_app(config).extensions["jobs"].backend.name == "rq"


def test_workers_without_a_bound_app_make_theirs_with_the_factory():
    # ``rq worker --job-class collector.runtime.queue.AppJob``: importing the module
    # imports the ``collector`` package first, which hands over its factory.
    assert AppJob.app_factory is create_app
