"""Background jobs: rq on Redis when it answers, a thread in-process otherwise.

One mechanism for both: ``enqueue`` writes a ``JobRun`` row and hands the job to
a backend; the job function, wrapped by ``tracked``, marks the row started,
reports progress on it and records the outcome. rq workers run each job inside
an app context through ``AppJob``; the in-process backend does the same in a
thread pool, so ``make run`` works without Redis.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from blinker import Namespace
from flask import current_app
from rq import Queue, Retry, get_current_job
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import clean_registries

from collector.core import ratelimit
from collector.core.columns import utcnow
from collector.core.errors import TryLater
from collector.extensions import db
from collector.runtime import job_log, operator_alerts
from collector.runtime.models import JobRun, JobStatus

# What a job reports as it goes; imported from here by every domain's jobs.
from collector.runtime.progress import Progress as Progress
from collector.runtime.progress import QuietProgress as QuietProgress

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")  # workers listen in this order
JOB_TIMEOUT = 30 * 60
# A job whose worker stopped (killed, out of memory, the machine went away) is run again
# by rq this many times, after these pauses (seconds); then recovery marks it failed.
REDO = Retry(max=3, interval=[10, 60, 300])
# The longest a job sleeps for a rate limit before giving its worker back (``tracked``).
PATIENCE = 5.0
# How many times a job waits for an upstream that is away (``TryLater``) before failing.
MAX_WAITS = 5
WAITED = "waited"  # counted on the run
# Every ``tracked`` job by name, for recovery to start a lost one again.
JOBS: dict[str, Callable] = {}

# Sent with a ``JobRun`` when recovery finds its job will not finish — its worker stopped
# and it is not being redone — after marking the run failed, so the domain whose work it
# was can say so on its own rows (an import becomes "interrupted").
job_lost = Namespace().signal("job-lost")

# The ``JobRun`` id of the job running in this context (``current_run_id``).
_current_run: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_run", default=None
)

inline_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "inline_job_id", default=None
)


def _current_job_id() -> str:
    job_id = inline_job_id.get()
    if job_id:
        return job_id
    rq_job = get_current_job()
    return rq_job.id if rq_job else uuid.uuid4().hex


def _start_run(job_id: str, name: str) -> JobRun:
    # Cron-scheduled jobs are enqueued by rq itself, so their row may not exist yet.
    run = db.session.execute(db.select(JobRun).filter_by(job_id=job_id)).scalar_one_or_none()
    if run is None:
        run = JobRun(job_id=job_id, name=name)
        db.session.add(run)
    run.status = JobStatus.STARTED
    run.started_at = utcnow()
    db.session.commit()
    return run


def tracked(func: Callable) -> Callable:
    """Make ``func(*args, progress=...)`` a job that records its ``JobRun``.

    Every job is safe to run again (DESIGN §2: inbound work is idempotent, outbound goes
    through outboxes, mail through claims), so one whose worker stopped mid-way is run
    again by rq's ``Retry`` (see ``RQBackend``). A failure is recorded and re-raised, and
    not retried: what failed for a reason will fail again, and the rows it left say what
    is still owed. A spent rate limit (``RateLimited``), or an upstream that is briefly
    away (``TryLater``, a few times), is no failure: the job is started again when it may
    go on, and its worker is given back meanwhile.
    """

    @functools.wraps(func)
    def wrapper(*args):
        with job_log.observed(func.__name__) as outcome:
            return _run_tracked(func, args, outcome)

    wrapper.job_name = func.__name__
    known = JOBS.get(func.__name__)
    if known is not None and (known.__module__, known.__qualname__) != (
        func.__module__,
        func.__qualname__,
    ):
        raise ValueError(f"two jobs are named {func.__name__!r}")
    JOBS[func.__name__] = wrapper
    return wrapper


def _run_tracked(func: Callable, args: tuple, outcome: dict) -> object:
    job_id = _current_job_id()
    outcome["job_id"] = job_id
    run = _start_run(job_id, func.__name__)
    token = _current_run.set(run.id)
    try:
        with ratelimit.patience(PATIENCE):
            result = func(*args, progress=Progress(run))
    except TryLater as exc:
        db.session.rollback()
        if not _may_wait(run, exc):
            _fail(run, exc)
            raise
        _defer(run, args, exc)
        outcome["outcome"] = job_log.DEFERRED
        return run.message
    except Exception as exc:
        db.session.rollback()
        _fail(run, exc)
        raise
    finally:
        _current_run.reset(token)
    run.status = JobStatus.FINISHED
    run.finished_at = utcnow()
    if isinstance(result, str):
        run.message = result[:500]
    db.session.commit()
    outcome["outcome"] = job_log.FINISHED
    return result


def current_run_id() -> int | None:
    """The ``JobRun`` of the job this code runs in (None outside jobs)."""
    return _current_run.get()


def job_named(name: str) -> Callable | None:
    """The ``tracked`` job called ``name`` (recovery starts a lost run again by its name)."""
    return JOBS.get(name)


def _fail(run: JobRun, exc: Exception) -> None:
    _no_retry()
    run.status = JobStatus.FAILED
    run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.finished_at = utcnow()
    operator_alerts.failed_run(run)
    db.session.commit()


def _may_wait(run: JobRun, later: TryLater) -> bool:
    """A rate limit is always waited for (its reset is certain); an upstream that is away
    only ``MAX_WAITS`` times, then the job fails and the rows it left say what is owed."""
    if isinstance(later, ratelimit.RateLimited):
        return True
    counts = dict(run.counts or {})
    counts[WAITED] = counts.get(WAITED, 0) + 1
    run.counts = counts
    return counts[WAITED] <= MAX_WAITS


def _no_retry() -> None:
    """A job that raised is not retried by rq: retries are for workers that stopped."""
    rq_job = get_current_job()
    if rq_job is not None:
        rq_job.retries_left = 0


def _defer(run: JobRun, args: tuple, limited: TryLater) -> None:
    """Start ``run`` again at ``limited.retry_at`` under a new job id, and give the worker
    back now."""
    # A second late, so the first call after the reset finds the budget renewed.
    at = limited.retry_at_utc + timedelta(seconds=1)
    run.job_id = uuid.uuid4().hex
    run.status = JobStatus.QUEUED
    run.message = limited.waiting[:500]
    db.session.commit()
    jobs = current_app.extensions["jobs"]
    try:
        jobs.backend.submit_at(at, jobs.app, run.job_id, run.queue, JOBS[run.name], args)
    except redis.RedisError:
        log.warning("could not schedule job %s again; recovery will", run.job_id)


def check_actor(value) -> str:
    """A job's ``actor`` argument (who asked, for the timeline), or a clear error."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"actor must be a non-empty string: {value!r}")
    return value


def check_ids(values) -> list[int]:
    """Job arguments come from outside: a list of positive whole numbers, or a clear error."""
    if not isinstance(values, list | tuple) or not values:
        raise ValueError("give a non-empty list of document ids")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"document ids must be positive whole numbers: {values!r}")
    return list(dict.fromkeys(values))


class AppJob(Job):
    """An rq job that runs inside an app context of its own."""

    app = None  # bound by ``worker.py`` or tests; made by ``app_factory`` on first use otherwise
    # The app factory, handed over by the ``collector`` package when it is imported (as it
    # is before any of its modules), so this module need not import the shell.
    app_factory: Callable | None = None

    def perform(self):
        app = type(self).app
        if app is None:
            app = type(self).app = AppJob.app_factory()
        with app.app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()


def bind_job_class(app) -> type[AppJob]:
    """An ``AppJob`` subclass that runs its jobs in ``app``."""
    return type("BoundAppJob", (AppJob,), {"app": app})


# What recovery needs to know of a job, whatever runs it (``Backend.states``).
WAITING = "waiting"  # queued, scheduled, deferred: it will run
RUNNING = "running"
FINISHED, FAILED = "finished", "failed"  # it ended; it raised
ABANDONED = "abandoned"  # its worker stopped and it will not be run again
MISSING = "missing"  # the backend does not know it (Redis lost it, never reached it)


class RQBackend:
    name = "rq"

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def _queue(self, name: str) -> Queue:
        return Queue(name, connection=self.connection, job_class=AppJob)

    def submit(self, app, job_id: str, queue: str, func: Callable, args: tuple) -> None:
        self._queue(queue).enqueue(
            func, *args, job_id=job_id, job_timeout=JOB_TIMEOUT, retry=REDO, meta=job_log.meta()
        )

    def submit_at(self, at: datetime, app, job_id: str, queue: str, func, args: tuple) -> None:
        """Run the job at ``at`` (rq's scheduler: workers run with ``with_scheduler``)."""
        self._queue(queue).enqueue_at(
            at, func, *args, job_id=job_id, job_timeout=JOB_TIMEOUT, retry=REDO, meta=job_log.meta()
        )

    def clean(self) -> None:
        """rq's own registry cleanup: a started job whose worker's heartbeat expired is
        retried (``REDO``) or moved to the failed registry as abandoned."""
        for name in QUEUES:
            clean_registries(self._queue(name))

    def states(self, job_ids: list[str]) -> dict[str, str]:
        jobs = Job.fetch_many(job_ids, connection=self.connection) if job_ids else []
        return {job_id: _rq_state(job) for job_id, job in zip(job_ids, jobs, strict=True)}


def _rq_state(job: Job | None) -> str:
    if job is None:
        return MISSING
    status = job.get_status(refresh=False)
    if status in (RQStatus.QUEUED, RQStatus.SCHEDULED, RQStatus.DEFERRED, RQStatus.CREATED):
        return WAITING
    if status == RQStatus.STARTED:
        return RUNNING
    if status == RQStatus.FINISHED:
        return FINISHED
    if status == RQStatus.FAILED:
        result = job.latest_result()
        abandoned = result is not None and "AbandonedJobError" in (result.exc_string or "")
        return ABANDONED if abandoned else FAILED
    return ABANDONED  # stopped or canceled: it will not run


def redis_connection(url: str) -> redis.Redis | None:
    """A Redis connection if ``url`` is set and the server answers, else None."""
    if not url:
        return None
    conn = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    with contextlib.suppress(redis.RedisError):
        return conn if conn.ping() else None
    return None


class Jobs:
    """The app's handle on background work (``app.extensions["jobs"]``)."""

    def __init__(self, app, backend):
        self.app = app
        self.backend = backend

    def enqueue(self, func: Callable, *args, queue: str = "default", user=None) -> JobRun:
        """Record a JobRun and start ``func(*args)`` on the backend after commit."""
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}")
        run = JobRun(
            job_id=uuid.uuid4().hex,
            name=getattr(func, "job_name", func.__name__),
            queue=queue,
            args=list(args),
            user_id=getattr(user, "id", None),
        )
        db.session.add(run)
        db.session.commit()
        self.submit(run, func)
        return run

    def submit(self, run: JobRun, func: Callable) -> bool:
        """Hand a recorded run to the backend. When Redis does not answer the run stays
        queued, and recovery hands it over again once it does: nothing waits on Redis and
        nothing is lost to it."""
        try:
            self.backend.submit(self.app, run.job_id, run.queue, func, tuple(run.args or ()))
        except redis.RedisError as exc:
            log.warning("could not queue job %s (%s); recovery will", run.job_id, exc)
            run.message = "Waiting for the job queue (Redis did not answer)."
            db.session.commit()
            return False
        return True

    def start(self, func: Callable, *args, queue: str = "default") -> str:
        """Start a ``tracked`` job without writing first: its JobRun is made when it runs
        (as for cron jobs), so this is safe where SQL is not, e.g. after a commit."""
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r}")
        job_id = uuid.uuid4().hex
        self.backend.submit(self.app, job_id, queue, func, args)
        return job_id


def init_jobs(app) -> Jobs:
    """Choose the backend: in-process when asked to or when Redis does not answer."""
    from collector.runtime.inline import InlineBackend

    if app.config["JOBS_INLINE"]:
        backend = InlineBackend()
    else:
        conn = redis_connection(app.config["REDIS_URL"])
        if conn is None and app.config["ENV"] == "production":
            # In production a missing Redis is an outage to see, not a reason to
            # run imports inside web requests.
            conn = redis.Redis.from_url(app.config["REDIS_URL"])
        if conn is None:
            log.warning("Redis does not answer at REDIS_URL; jobs run in-process")
            backend = InlineBackend()
        else:
            backend = RQBackend(conn)
    jobs = Jobs(app, backend)
    app.extensions["jobs"] = jobs
    return jobs


@dataclass(frozen=True)
class Periodic:
    """A job the schedule starts: every ``interval`` seconds or at the ``cron`` times (UTC)."""

    func: Callable
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab expression, UTC
