"""rq workers for collector: ``python worker.py [queue ...]``.

With no queues named, one ``worker.py`` runs two rq workers, in two processes (see
WORKER_LANES in the README):

- the payment lane: the ``high`` queue only (provider webhooks, the outbox towards
  Teamleader, Teamleader's webhooks, recovery), in a worker that runs each job in its own
  process without forking one per job (rq's ``SimpleWorker``, beating while a job runs:
  ``collector.runtime.lane``): these jobs are short, and a fork plus a new database
  connection per job were most of their cost;
- the general lane: every queue, ``high`` first, forking a work horse per job (rq's
  ``Worker``), so a long import or a batch of PDFs is isolated in memory and killed
  at its timeout, and never stands in front of a payment.

A job's worker that dies is noticed the same way in both lanes (rq's heartbeat, then
``collector.runtime.recovery``); the payment lane dies with its parent. Named queues, or
WORKER_LANES=single, run one forking worker on those queues as before.

Before it takes its first job it recovers what a worker that stopped left behind; it
also runs rq's scheduler, which starts jobs that wait for a time (retries, rate limits).
"""

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time

import redis
from rq import Worker
from rq.exceptions import StopRequested

from collector import create_app
from collector.extensions import db
from collector.runtime.jobs import recover_now
from collector.runtime.lane import PaymentLane
from collector.runtime.queue import QUEUES, bind_job_class
from collector.runtime.workers import GeneralWorker
from collector.web import health

log = logging.getLogger("worker")

# A job's heartbeat runs every HEARTBEAT s; rq gives a silent job HEARTBEAT + 60 s before it
# counts as abandoned, so a killed worker's job is noticed in about a minute and a half.
HEARTBEAT = 10
# rq's own registry cleanup, in each worker (recovery also runs it every minute).
MAINTENANCE = 60
PAYMENT_LANE = ("high",)
REDIS_RETRY = 2  # seconds between attempts while Redis does not answer
PR_SET_PDEATHSIG = 1  # Linux prctl(2): a signal for this process when its parent dies


def main(argv: list[str]) -> None:
    app = create_app()
    lanes = app.config["WORKER_LANES"]
    if lanes not in ("lanes", "single"):
        raise SystemExit(f"WORKER_LANES is 'lanes' or 'single', not {lanes!r}")
    # Say which of /readyz's checks fail (it starts anyway: Redis may come back).
    health.log_failures(app, "worker")
    with app.app_context():
        try:
            log.info(recover_now())
        except Exception:
            log.exception("recovery at start-up failed; the schedule will run it")
        # Workers fork (a lane, a work horse per job): none may inherit this process's
        # connections (two processes on one PostgreSQL session collide).
        db.engine.dispose()
    if argv or lanes == "single":
        work(app, GeneralWorker, argv or QUEUES)
    elif os.fork() == 0:
        _die_with_parent()
        work(app, PaymentLane, PAYMENT_LANE)
    else:
        work(app, GeneralWorker, QUEUES)


def work(app, worker_class: type[Worker], queues) -> None:
    """Run one rq worker of ``worker_class`` on ``queues`` until it is told to stop.

    rq's worker waits for Redis while it is idle, but ends when Redis goes away while it
    writes (a heartbeat, a job's result): with an error, or quietly when Redis is back
    before its teardown. Either way, unless a stop was asked for, this waits until Redis
    answers and starts a new worker (a job it held is recovered as abandoned): one process
    outlives an outage, which matters where one process that exits stops them all
    (honcho, ``make serve``)."""
    while True:
        worker = worker_class(
            list(queues),
            connection=redis.Redis.from_url(app.config["REDIS_URL"]),
            job_class=bind_job_class(app),
            job_monitoring_interval=HEARTBEAT,
            maintenance_interval=MAINTENANCE,
        )
        try:
            worker.work(with_scheduler=True)
        except StopRequested:
            # The stop came while the worker was already ending (rq's teardown waits up to
            # a second for its scheduler, with the worker's handlers still in place): it
            # ends here, as it would have; its Redis entry goes as in a teardown.
            _forget(worker)
            return
        except redis.ConnectionError as exc:
            log.warning("Redis went away (%s); a new worker starts once it answers", exc)
        else:
            if _stop_asked(worker):
                return
            log.warning("the rq worker ended on its own (see above); a new one starts")
        # rq's handlers belong to the worker that ended: a stop now just stops.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _wait_for_redis(app.config["REDIS_URL"])


def _stop_asked(worker: Worker) -> bool:
    # rq notes the time of a warm shutdown request (SIGTERM, SIGINT) on the worker; there
    # is no public accessor in rq 2.x, hence the attribute, read tolerantly.
    return getattr(worker, "_shutdown_requested_date", None) is not None


def _forget(worker: Worker) -> None:
    with contextlib.suppress(redis.RedisError):  # else the entry expires with its TTL
        worker.register_death()


def _wait_for_redis(url: str) -> None:
    conn = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    while True:
        try:
            conn.ping()
            return
        except redis.RedisError:
            time.sleep(REDIS_RETRY)


def _die_with_parent() -> None:
    """The payment lane stops with the ``worker.py`` that started it: killed with it, or
    told to stop with it (a warm shutdown reaches both through the process group)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot tie the payment lane to its parent on this system")
    if os.getppid() == 1:  # the parent was gone before the tie was made
        sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
