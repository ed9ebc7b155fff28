"""Issue 25, point 4, in the app: with Exact's daily limit used up, "Read the lists again"
answers at once with the reset time, the Exact page says so, and a forwarding job is given
back and scheduled again for after the reset (``runtime.queue.tracked`` defers a TryLater)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import responses
from markupsafe import escape
from rq import Queue
from rq.registry import ScheduledJobRegistry

from collector.exact import ExactRateLimiter
from collector.exact import jobs as exact_jobs
from collector.exact.errors import daily_limit_message
from collector.exact.models import ExactSyncRun
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus
from tests.support.factories import make_invoice
from tests.test_exact_web import (
    DIVISION,
    PAGE,
    ex_app,  # noqa: F401 (a fixture)
    make_connection,
    make_teamleader,
    post,
    text,
)
from tests.test_jobs import drain


def spend_the_day(redis_conn, seconds: float) -> datetime:
    """Exact said "0 left today" on a 200, resetting ``seconds`` from now; returns the reset."""
    reset_ms = int((time.time() + seconds) * 1000)
    limiter = ExactRateLimiter.for_division(redis_conn, DIVISION)
    limiter.update_from_headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_ms)})
    return datetime.fromtimestamp(reset_ms / 1000, UTC)


def test_reading_the_lists_fails_fast_with_the_reset_and_the_page_says_so(
    ex_app,  # noqa: F811
    admin_client,
    redis_conn,
):
    make_connection(ex_app)
    # A few seconds only: before the fix the request slept until the reset, then called Exact.
    reset = spend_the_day(redis_conn, 5)
    started = time.monotonic()

    with responses.RequestsMock():  # any call to Exact fails the test
        response = post(admin_client, "/refresh", follow_redirects=True)

    assert time.monotonic() - started < 3
    page = text(response)
    assert str(escape(f"Reading the lists failed: {daily_limit_message(reset)}")) in page
    assert "data-daily-limit" in page
    assert "forwarding starts again by itself after the reset" in page


def test_the_page_says_nothing_of_the_limit_while_it_is_not_used_up(
    ex_app,  # noqa: F811
    admin_client,
    redis_conn,
):
    make_connection(ex_app)

    assert "data-daily-limit" not in text(admin_client.get(PAGE))


def test_forwarding_is_given_back_and_scheduled_for_after_the_reset(
    ex_app,  # noqa: F811
    redis_conn,
):
    make_teamleader()
    make_connection(ex_app, forwarding=True, invoice_journal="70", credit_note_journal="71")
    make_invoice()
    reset = spend_the_day(redis_conn, 3600)

    with responses.RequestsMock():  # nothing may reach Exact
        queued = ex_app.extensions["jobs"].enqueue(exact_jobs.forward_to_exact, "manual")
        first_job_id = queued.job_id
        drain(ex_app, redis_conn)

    db.session.expire_all()
    run = db.session.get(JobRun, queued.id)
    assert run.status == JobStatus.QUEUED and run.job_id != first_job_id
    assert run.message == daily_limit_message(reset)
    [sync] = db.session.scalars(db.select(ExactSyncRun)).all()
    assert sync.problem == daily_limit_message(reset) and sync.booked == 0
    registry = ScheduledJobRegistry(queue=Queue("default", connection=redis_conn))
    at = registry.get_scheduled_time(run.job_id)
    assert reset < at.replace(tzinfo=UTC) <= reset + timedelta(seconds=2)
