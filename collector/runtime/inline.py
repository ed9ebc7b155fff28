"""The in-process stand-ins for Redis, rq's workers and rq's cron: what ``make run`` uses
when there is no Redis. Jobs run in a small thread pool of the web process, periodic work
in a thread, with the same ``tracked`` bookkeeping as under rq."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from croniter import croniter

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import request_ids
from collector.runtime.queue import MISSING, WAITING, inline_job_id

log = logging.getLogger(__name__)


class InlineBackend:
    """Runs jobs in a small thread pool of the web process (demo without Redis)."""

    name = "inline"

    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self.active: set[str] = set()  # submitted here and not yet over
        self._lock = threading.Lock()

    def submit(self, app, job_id: str, queue: str, func: Callable, args: tuple) -> None:
        with self._lock:
            self.active.add(job_id)
        self.pool.submit(self._run, app, job_id, func, args, request_ids.current())

    def submit_at(self, at: datetime, app, job_id: str, queue: str, func, args: tuple) -> None:
        with self._lock:
            self.active.add(job_id)
        delay = max(0.0, (at - utcnow()).total_seconds())
        run = (self._run, app, job_id, func, args, request_ids.current())
        timer = threading.Timer(delay, self.pool.submit, run)
        timer.daemon = True
        timer.start()

    def _run(self, app, job_id: str, func: Callable, args: tuple, request_id=None) -> None:
        # A thread of the pool does not inherit the submitter's context: the id of the
        # request that started the job is handed over, as rq's job meta does.
        try:
            with request_ids.using(request_id):
                run_inline(app, job_id, func, args)
        finally:
            with self._lock:
                self.active.discard(job_id)

    def clean(self) -> None: ...

    def states(self, job_ids: list[str]) -> dict[str, str]:
        """A job this process is not running was lost with the process that was (the
        service restarted)."""
        with self._lock:
            return {job_id: WAITING if job_id in self.active else MISSING for job_id in job_ids}


def run_inline(app, job_id: str, func: Callable, args: tuple) -> None:
    """Run one job in its own app context, as an rq worker would."""
    token = inline_job_id.set(job_id)
    try:
        with app.app_context():
            try:
                func(*args)
            except Exception:
                log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            finally:
                db.session.remove()
    finally:
        inline_job_id.reset(token)


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
