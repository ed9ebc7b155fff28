"""The accounts domain's one job: the operators' digest (``accounts.digest``), what needs a
person mailed to the admins. Users, API keys and the company's settings change only when a
person changes them; the notices other domains' jobs send go through ``accounts.alerts``."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for

from collector.accounts import digest
from collector.runtime import jobs as runtime_jobs
from collector.runtime import operator_alerts
from collector.runtime import setup as runtime_setup
from collector.runtime.queue import Periodic, Progress, tracked

# How often the schedule looks; a digest goes out when alerts wait and the last one is
# OPERATOR_DIGEST_MINUTES old (the setting can change without touching the schedule).
CHECK_EVERY = 5 * 60  # seconds


@tracked
def send_operator_digest(*, progress: Progress) -> str:
    """Mail every active admin what needs a person, if anything new waits and it is time."""
    every = timedelta(minutes=int(current_app.config["OPERATOR_DIGEST_MINUTES"]))
    mailed = digest.send(_link, every)
    return f"{mailed} digest mail(s) sent" if mailed else "Nothing new for the admins."


def _link(endpoint: str) -> str:
    """The absolute address of ``endpoint``'s page, as the admins reach it."""
    with current_app.test_request_context():
        return runtime_setup.public_url(current_app, url_for(endpoint))


PERIODIC: tuple[Periodic, ...] = (Periodic(send_operator_digest, "default", interval=CHECK_EVERY),)


def connect() -> None:
    """Prune old digests, and the alerts they took, with the job history."""
    runtime_jobs.prune_along("digests", "operator digests", operator_alerts.prune_digests)
