"""The dunning domain's rq jobs. A promise to pay ends by its date without a job (the
policy compares the date); this one only tells the documents' timelines that chasing
resumed. Thin: it calls one operation and records the outcome.

The daily run that owes each document its steps, and "send reminder now", are mail jobs
(``mail.jobs.send_reminders`` and ``send_reminders_now``): they send what this domain's
schedule decides."""

from __future__ import annotations

from collector.core import clock
from collector.dunning import holds
from collector.runtime.queue import Periodic, Progress, tracked


@tracked
def tell_resumed_promises(*, progress: Progress) -> str:
    """Say on each timeline that chasing resumed where a promise's day passed."""
    told = holds.tell_resumed(clock.local_today())
    return f"{told} promise(s) to pay passed: chasing resumed"


PERIODIC = (
    # Hourly: the company's midnight falls on a different UTC hour in summer and winter.
    Periodic(tell_resumed_promises, "default", cron="5 * * * *"),
)
