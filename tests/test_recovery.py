"""Jobs that recover: a worker killed mid-job, Redis away when a job is queued, a job the
queue lost, a spent rate limit — every run ends or runs again, nothing waits forever."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import queue, recovery
from collector.runtime.jobs import recover_now
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, RQBackend, bind_job_class
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus
from tests.support import jobs as test_jobs

ROOT = Path(__file__).resolve().parent.parent
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def age(run: JobRun, seconds: int = 120) -> JobRun:
    """Make ``run`` older than recovery's grace period."""
    run.created_at = utcnow() - timedelta(seconds=seconds)
    db.session.commit()
    return run


def reload(run: JobRun) -> JobRun:
    db.session.expire_all()
    return db.session.get(JobRun, run.id)


def drain(app, redis_conn) -> None:
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


@pytest.fixture
def redis_away(app):
    """The app's job queue pointed at a Redis that does not answer, for the test's length."""
    jobs = app.extensions["jobs"]
    real = jobs.backend
    dead = redis.Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.2, socket_timeout=0.2)
    jobs.backend = RQBackend(dead)
    yield jobs
    jobs.backend = real


def test_a_job_queued_while_redis_is_away_waits_and_is_handed_over_when_it_returns(
    app, redis_conn, redis_away
):
    run = redis_away.enqueue(test_jobs.linger, 0)
    assert run.status == JobStatus.QUEUED
    assert "Redis did not answer" in run.message
    redis_away.backend = RQBackend(redis_conn)  # Redis is back

    assert recovery.recover(redis_away)["requeued"] == 0  # too young: it may be on its way
    age(run)
    assert recovery.recover(redis_away)["requeued"] == 1
    assert Job.fetch(run.job_id, connection=redis_conn).get_status() == "queued"
    drain(app, redis_conn)
    run = reload(run)
    assert (run.status, run.message) == (JobStatus.FINISHED, "done lingering")
    assert run.counts == {recovery.REQUEUED: 1}


def test_a_run_whose_job_the_queue_lost_runs_again_then_fails_when_lost_for_good(app, redis_conn):
    jobs = app.extensions["jobs"]
    run = age(jobs.enqueue(test_jobs.linger, 0))
    redis_conn.flushdb()  # Redis restarted without persistence
    for _ in range(recovery.MAX_HANDOVERS):
        assert recovery.recover(jobs)["requeued"] == 1
        redis_conn.flushdb()
    lost = []
    queue.job_lost.connect(lost.append, weak=False)
    try:
        assert recovery.recover(jobs)["failed"] == 1
    finally:
        queue.job_lost.disconnect(lost.append)
    run = reload(run)
    assert run.status == JobStatus.FAILED
    assert run.error == recovery.LOST
    assert [r.id for r in lost] == [run.id]


def test_a_run_rq_finished_but_the_database_missed_takes_rq_outcome(app, redis_conn):
    jobs = app.extensions["jobs"]
    run = age(jobs.enqueue(test_jobs.linger, 0))
    drain(app, redis_conn)
    reload(run).status = JobStatus.STARTED  # as if the last commit never landed
    db.session.commit()
    assert recovery.recover(jobs)["settled"] == 1
    assert reload(run).status == JobStatus.FINISHED


def _worker(app) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "REDIS_URL": app.config["REDIS_URL"],
        "DOCUMENT_STORAGE": app.config["DOCUMENT_STORAGE"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENV": "test",
    }
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_job_whose_worker_is_killed_is_run_again_by_rq_retry(app, redis_conn):
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 120)
    run = _killed_mid_job(app, redis_conn, run.job_id)
    assert Job.fetch(run.job_id, connection=redis_conn).get_status() == "scheduled"
    assert recovery.recover(app.extensions["jobs"])["waiting"] == 1
    run = reload(run)
    assert run.status == JobStatus.QUEUED
    assert "worker stopped" in run.message


def test_a_job_killed_with_no_retry_left_fails_with_the_reason_and_is_told(app, redis_conn):
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 120)
    job = Job.fetch(run.job_id, connection=redis_conn)
    job.retries_left = 0
    job.save()
    run = _killed_mid_job(app, redis_conn, job.id)
    lost = []
    queue.job_lost.connect(lost.append, weak=False)
    try:
        assert recovery.recover(app.extensions["jobs"])["failed"] == 1
    finally:
        queue.job_lost.disconnect(lost.append)
    run = reload(run)
    assert (run.status, run.error) == (JobStatus.FAILED, recovery.STOPPED)
    assert run.finished_at is not None
    assert [r.id for r in lost] == [run.id]


def _killed_mid_job(app, redis_conn, job_id: str) -> JobRun:
    """Let a real worker process start the job, SIGKILL it (and its work horse), and let
    rq's cleanup see what it sees once the dead worker's heartbeat has expired."""
    worker = _worker(app)
    try:
        deadline = time.monotonic() + 60
        while True:
            run = db.session.scalars(db.select(JobRun).filter_by(job_id=job_id)).one_or_none()
            if run is not None and run.message.startswith("lingering"):
                break
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.2)
            db.session.expire_all()
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    # rq's work horse runs in a session of its own: it dies with its worker's machine, so
    # here it is killed too.
    os.kill(int(run.message.rsplit(" ", 1)[1]), signal.SIGKILL)
    StartedJobRegistry("default", connection=redis_conn).cleanup(time.time() + 3600)
    return age(run)


def test_a_spent_rate_limit_gives_the_worker_back_and_schedules_the_job_at_the_reset(
    app, redis_conn
):
    run = app.extensions["jobs"].enqueue(test_jobs.hit_the_limit, 40)
    first_id = run.job_id
    drain(app, redis_conn)
    run = reload(run)
    assert run.status == JobStatus.QUEUED
    assert run.message.startswith("Waiting for the test's rate limit until ")
    assert run.job_id != first_id
    scheduled = ScheduledJobRegistry("default", connection=redis_conn)
    assert scheduled.get_job_ids() == [run.job_id]
    at = scheduled.get_scheduled_time(run.job_id)
    assert 35 < (at - utcnow()).total_seconds() < 45
    assert Queue("default", connection=redis_conn).count == 0  # nothing holds a worker


def test_a_job_that_raises_is_not_retried(app, redis_conn):
    run = app.extensions["jobs"].enqueue(test_jobs.linger, "not a number")
    drain(app, redis_conn)
    assert reload(run).status == JobStatus.FAILED
    assert Job.fetch(run.job_id, connection=redis_conn).get_status() == "failed"


def test_an_import_left_running_by_a_job_that_is_over_is_interrupted(app):
    def running_under(status: JobStatus) -> DocumentImport:
        run = JobRun(job_id=f"job-{status.value}", name="handle_teamleader_delivery", status=status)
        db.session.add(run)
        db.session.flush()
        imp = DocumentImport(
            source=ImportSource.WEBHOOK, status=ImportStatus.RUNNING, job_run_id=run.id
        )
        db.session.add(imp)
        db.session.commit()
        return imp

    orphan = running_under(JobStatus.FINISHED)  # its job ran again and started another
    alive = running_under(JobStatus.STARTED)
    assert "1 imports interrupted" in recover_now()
    db.session.expire_all()
    assert orphan.status == ImportStatus.INTERRUPTED
    assert "resume it or delete it" in orphan.error
    assert alive.status == ImportStatus.RUNNING


def test_an_import_made_by_a_job_names_the_job_run(app, redis_conn):
    run = app.extensions["jobs"].enqueue(test_jobs.make_import)
    drain(app, redis_conn)
    imp = db.session.scalars(db.select(DocumentImport)).one()
    assert imp.job_run_id == run.id


def test_an_upstream_away_is_waited_for_a_few_times_then_the_job_fails(app, redis_conn):
    run = app.extensions["jobs"].enqueue(test_jobs.upstream_away, 15)
    scheduled = ScheduledJobRegistry("default", connection=redis_conn)
    for attempt in range(1, queue.MAX_WAITS + 1):
        drain(app, redis_conn)
        run = reload(run)
        assert run.status == JobStatus.QUEUED
        assert run.message.startswith("Waiting for the test's upstream until ")
        assert run.counts == {queue.WAITED: attempt}
        assert scheduled.get_job_ids() == [run.job_id]
        # The scheduler's moment comes: the job is queued again.
        job = Job.fetch(run.job_id, connection=redis_conn)
        scheduled.remove(job)
        Queue("default", connection=redis_conn).enqueue_job(job)
    drain(app, redis_conn)
    run = reload(run)
    assert run.status == JobStatus.FAILED
    assert "the test's upstream is not available" in run.error
