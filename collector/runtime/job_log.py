"""What each background job leaves for the operator: its line in the log, its count and
time in the metrics, under the request id of the request that started it.

The id travels in the rq job's meta (``meta()`` when it is enqueued; the in-process backend
hands it to its thread), is set again while the job runs, and so goes on into the jobs
that job starts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from flask import current_app
from rq import get_current_job

from collector.core import metrics
from collector.runtime import request_ids, structured_log

FINISHED, FAILED = "finished", "failed"
DEFERRED = "deferred"  # it gave its worker back, to run again after a rate limit or outage


def meta() -> dict:
    """What a job carries of the request that starts it: its id."""
    request_id = request_ids.current()
    return {request_ids.META_KEY: request_id} if request_id else {}


def started_by() -> str | None:
    """The id of the request that started the running job (rq: from its meta; in-process:
    set by the backend), or of the request that runs it inline."""
    rq_job = get_current_job()
    if rq_job is not None and rq_job.meta.get(request_ids.META_KEY):
        return rq_job.meta[request_ids.META_KEY]
    return request_ids.current()


@contextlib.contextmanager
def observed(name: str) -> Iterator[dict]:
    """Run the job in the block under its request id; then count it by its outcome, time
    it and write its line. The block sets ``outcome`` (failed unless it says otherwise)
    and ``job_id`` in the dict it is given."""
    seen = {"outcome": FAILED, "job_id": None}
    started = time.perf_counter()
    with request_ids.using(started_by()):
        try:
            yield seen
        finally:
            seconds = time.perf_counter() - started
            metrics.JOBS.labels(name, seen["outcome"]).inc()
            metrics.JOB_SECONDS.labels(name, seen["outcome"]).observe(seconds)
            structured_log.write(
                current_app.config,
                "job",
                job=name,
                job_id=seen["job_id"],
                outcome=seen["outcome"],
                duration_ms=round(seconds * 1000, 1),
                request_id=request_ids.current(),
            )
