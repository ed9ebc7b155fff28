"""The clock: the one process that starts the periodic work, ``python -m collector.cron``.

It is rq's cron scheduler (``rq cron collector.cron --url $REDIS_URL`` reads the same
registrations below) with two differences an operator wants from a long-running process:

- a Redis outage does not end it: it says so once per attempt and tries again every
  ``RETRY`` seconds, then carries on (what fell due meanwhile is started once); under
  honcho one process that exits stops them all;
- it stops once, quietly: the second signal of a stop (Ctrl-C reaches the whole process
  group, then the supervisor's SIGTERM) is ignored instead of breaking the clean-up with a
  traceback.

Its heartbeat (rq's registry of cron schedulers in Redis) is what ``/readyz`` reads as the
schedule's heartbeat. Run one clock per installation: two would start every job twice.
The schedule itself lives in ``collector.schedule``, so the in-process runner of the demo
uses the same list.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time

import redis
from rq import cron
from rq.cron import CronScheduler
from rq.exceptions import DuplicateSchedulerError, SchedulerNotFound, StopRequested

from collector import config as config_module
from collector.schedule import SCHEDULE

log = logging.getLogger("collector.clock")
RETRY = 5  # seconds between attempts while Redis does not answer

for periodic in SCHEDULE:
    cron.register(
        periodic.func,
        periodic.queue,
        interval=periodic.interval,
        cron=periodic.cron,
    )


class Clock(CronScheduler):
    """rq's cron scheduler that outlives a Redis outage and stops once."""

    def _request_stop(self, signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise StopRequested()

    def run(self) -> None:
        self._install_signal_handlers()
        born = False
        try:
            while True:
                try:
                    if not born:
                        with contextlib.suppress(DuplicateSchedulerError):
                            self.register_birth()
                        born = True
                        log.info("clock started: %d periodic jobs", len(self.get_jobs()))
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    pause = self.calculate_sleep_interval()
                except redis.RedisError as exc:
                    log.warning("Redis does not answer (%s); trying again in %d s", exc, RETRY)
                    pause = RETRY
                if pause > 0:
                    time.sleep(pause)
        except (StopRequested, KeyboardInterrupt):
            log.info("clock stopping")
        finally:
            with contextlib.suppress(redis.RedisError, SchedulerNotFound):
                self.register_death()


def clock(redis_url: str, log_level: str = "INFO") -> Clock:
    """A clock on ``redis_url`` with every job of the schedule registered."""
    scheduler = Clock(redis.Redis.from_url(redis_url), logging_level=log_level)
    for periodic in SCHEDULE:
        scheduler.register(
            periodic.func, periodic.queue, interval=periodic.interval, cron=periodic.cron
        )
    return scheduler


def main() -> int:
    settings = config_module.load()
    logging.basicConfig(level=settings["LOG_LEVEL"])
    if not settings["REDIS_URL"]:
        log.error("REDIS_URL is empty: the clock starts jobs in Redis")
        return 2
    # rq logs each registration at INFO: one line per job at every start says nothing new.
    logging.getLogger("rq.cron").setLevel(logging.WARNING)
    clock(settings["REDIS_URL"], settings["LOG_LEVEL"]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
