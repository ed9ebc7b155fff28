"""Background jobs: rq on Redis when it answers, a thread in-process otherwise.

One mechanism for both: ``enqueue`` writes a ``JobRun`` row and hands the job to
a backend; the job function, wrapped by ``tracked``, marks the row started,
reports progress on it and records the outcome. rq workers run each job inside
an app context through ``AppJob``; the in-process backend does the same in a
thread pool, so ``make run`` works without Redis.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from blinker import Namespace
from croniter import croniter
from rq import Queue, get_current_job
from rq.job import Job

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")  # workers listen in this order
JOB_TIMEOUT = 30 * 60

# Sent with a ``JobRun`` when recovery finds its job will not finish — its worker stopped
# and it is not being redone — after marking the run failed, so the domain whose work it
# was can say so on its own rows (an import becomes "interrupted").
job_lost = Namespace().signal("job-lost")

_inline_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "inline_job_id", default=None
)


class Progress:
    """What a running job tells the UI: how far it is and what it counted."""

    def __init__(self, run: JobRun):
        self.run = run

    def total(self, total: int) -> None:
        self.run.progress_total = total
        db.session.commit()

    def advance(self, step: int = 1, **counts: int) -> None:
        self.run.progress_done += step
        merged = dict(self.run.counts or {})
        for name, n in counts.items():
            merged[name] = merged.get(name, 0) + n
        self.run.counts = merged
        db.session.commit()

    def say(self, message: str) -> None:
        self.run.message = message[:500]
        db.session.commit()


class QuietProgress:
    """Progress for work run outside a job (the CLI, a sweep, a test): it is told
    everything ``Progress`` is told and keeps none of it."""

    def total(self, total: int) -> None: ...

    def advance(self, step: int = 1, **counts: int) -> None: ...

    def say(self, message: str) -> None: ...


def _current_job_id() -> str:
    job_id = _inline_job_id.get()
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

    Failures are recorded and re-raised, so rq moves the job to its failed
    registry too.
    """

    @functools.wraps(func)
    def wrapper(*args):
        run = _start_run(_current_job_id(), func.__name__)
        try:
            result = func(*args, progress=Progress(run))
        except Exception as exc:
            db.session.rollback()
            run.status = JobStatus.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            run.finished_at = utcnow()
            db.session.commit()
            raise
        run.status = JobStatus.FINISHED
        run.finished_at = utcnow()
        if isinstance(result, str):
            run.message = result[:500]
        db.session.commit()
        return result

    wrapper.job_name = func.__name__
    return wrapper


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


class RQBackend:
    name = "rq"

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def submit(self, app, job_id: str, queue: str, func: Callable, args: tuple) -> None:
        rq_queue = Queue(queue, connection=self.connection, job_class=AppJob)
        rq_queue.enqueue(func, *args, job_id=job_id, job_timeout=JOB_TIMEOUT)


class InlineBackend:
    """Runs jobs in a small thread pool of the web process (demo without Redis)."""

    name = "inline"

    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")

    def submit(self, app, job_id: str, queue: str, func: Callable, args: tuple) -> None:
        self.pool.submit(run_inline, app, job_id, func, args)


def run_inline(app, job_id: str, func: Callable, args: tuple) -> None:
    """Run one job in its own app context, as an rq worker would."""
    token = _inline_job_id.set(job_id)
    try:
        with app.app_context():
            try:
                func(*args)
            except Exception:
                log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            finally:
                db.session.remove()
    finally:
        _inline_job_id.reset(token)


def redis_connection(url: str) -> redis.Redis | None:
    """A Redis connection if ``url`` is set and the server answers, else None."""
    if not url:
        return None
    conn = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    try:
        conn.ping()
    except redis.RedisError:
        return None
    return conn


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
        self.backend.submit(self.app, run.job_id, queue, func, args)
        return run

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


class InlineScheduler:
    """Runs ``collector.schedule.SCHEDULE`` (``Periodic`` entries) in a thread when there
    is no rq cron."""

    def __init__(self, app, schedule, clock=utcnow):
        self.app = app
        self.schedule = schedule
        self.clock = clock
        self.next_runs = {p: self._next(p, clock()) for p in schedule}
        self._stop = threading.Event()

    def _next(self, periodic, after):
        if periodic.interval:
            return after + timedelta(seconds=periodic.interval)
        return croniter(periodic.cron, after).get_next(datetime)

    def run_due(self) -> list:
        """Enqueue every job whose time has come; return what was enqueued."""
        now = self.clock()
        due = [p for p, at in self.next_runs.items() if at <= now]
        with self.app.app_context():
            for periodic in due:
                self.app.extensions["jobs"].enqueue(periodic.func, queue=periodic.queue)
                self.next_runs[periodic] = self._next(periodic, now)
        return due

    def start(self) -> threading.Thread:
        def loop():
            while not self._stop.wait(5):
                try:
                    self.run_due()
                except Exception:
                    log.exception("in-process scheduler")

        thread = threading.Thread(target=loop, name="scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
