"""rq worker for collector: ``python worker.py [queue ...]``.

Listens on the high, default and low queues (in that order) unless told otherwise;
every job runs in an app context of its own (``collector.runtime.queue.AppJob``). Before
it takes its first job it recovers what a worker that stopped left behind
(``collector.runtime.recovery``); it also runs rq's scheduler, which starts jobs that
wait for a time (retries, rate limits).
"""

import logging
import sys

import redis
from rq import Worker

from collector import create_app
from collector.extensions import db
from collector.runtime.jobs import recover_now
from collector.runtime.queue import QUEUES, bind_job_class

log = logging.getLogger("worker")

# A job's heartbeat runs every HEARTBEAT s; rq gives a silent job HEARTBEAT + 60 s before it
# counts as abandoned, so a killed worker's job is noticed in about a minute and a half.
HEARTBEAT = 10
# rq's own registry cleanup, in each worker (recovery also runs it every minute).
MAINTENANCE = 60


def main(argv: list[str]) -> None:
    app = create_app()
    connection = redis.Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        try:
            log.info(recover_now())
        except Exception:
            log.exception("recovery at start-up failed; the schedule will run it")
        # rq forks a work horse per job: none may inherit this process's connections
        # (two processes on one PostgreSQL session collide).
        db.engine.dispose()
    worker = Worker(
        argv or QUEUES,
        connection=connection,
        job_class=bind_job_class(app),
        job_monitoring_interval=HEARTBEAT,
        maintenance_interval=MAINTENANCE,
    )
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
