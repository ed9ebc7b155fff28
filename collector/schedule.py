"""The periodic work, as data: read by ``cron.py`` (rq's cron scheduler) and by
the in-process scheduler that ``make run`` uses when Redis is not there."""

from collections.abc import Callable
from dataclasses import dataclass

from collector import jobs


@dataclass(frozen=True)
class Periodic:
    func: Callable
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab expression, UTC


SCHEDULE: tuple[Periodic, ...] = (
    Periodic(jobs.prune_job_runs, "low", cron="17 3 * * *"),
    # The safety net behind Teamleader's webhooks (DESIGN §1.3).
    Periodic(jobs.sweep_teamleader, "default", interval=10 * 60),
    # PDFs for documents lacking one, a bounded batch each time (DESIGN §1.6).
    Periodic(jobs.fetch_scheduled_pdfs, "default", interval=5 * 60),
    # Owed invitations and retries of failed ones; the jobs that make mail owed also
    # start this at once, so this is the safety net.
    Periodic(jobs.deliver_mail, "default", interval=5 * 60),
    # The outbox's safety net: status to Teamleader that the doorbell did not start
    # (Redis was away, a worker died mid-delivery and its lease ran out), and retries.
    Periodic(jobs.push_teamleader, "high", interval=60),
    # Due dates passed: BOOKED → EXPIRED. Hourly, because the day turns at the company's
    # local midnight (any zone), not UTC's; a run with nothing to expire is one query.
    Periodic(jobs.expire_overdue, "default", cron="5 * * * *"),
    # Mandates unused for 36 months lapse (reference §2.3), once a day.
    Periodic(jobs.lapse_mandates, "low", cron="20 0 * * *"),
    # Reminders, once a day, early morning in Belgium and the Netherlands.
    Periodic(jobs.send_reminders, "default", cron="0 6 * * *"),
    # Status callbacks: the commit that owes one starts their delivery at once, so this
    # is the safety net for a lost doorbell, a dead worker's lease and the retries.
    Periodic(jobs.deliver_callbacks, "default", interval=60),
    # Exact Online: documents are booked on events (imported, PDF arrived); this sweep every
    # 15 minutes books what the events missed and retries what failed (DESIGN §1.12).
    Periodic(jobs.forward_to_exact, "default", interval=15 * 60),
)
