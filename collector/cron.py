"""rq cron configuration: ``rq cron collector.cron --url $REDIS_URL``.

rq imports this module and reads the registrations; the schedule itself lives
in ``collector.schedule`` so the in-process runner uses the same list.
"""

from rq import cron

from collector.schedule import SCHEDULE

for periodic in SCHEDULE:
    cron.register(
        periodic.func,
        periodic.queue,
        interval=periodic.interval,
        cron=periodic.cron,
    )
