"""rq worker for collector: ``python worker.py [queue ...]``.

Listens on the high, default and low queues (in that order) unless told
otherwise; every job runs in an app context of its own (``collector.runtime.queue.AppJob``).
"""

import sys

import redis
from rq import Worker

from collector import create_app
from collector.runtime.queue import QUEUES, bind_job_class


def main(argv: list[str]) -> None:
    app = create_app()
    connection = redis.Redis.from_url(app.config["REDIS_URL"])
    worker = Worker(argv or QUEUES, connection=connection, job_class=bind_job_class(app))
    worker.work()


if __name__ == "__main__":
    main(sys.argv[1:])
