"""What the service counts for Prometheus: the metrics every process moves.

Each process (a gunicorn worker, an rq worker and its work horses) moves the metrics
defined here; ``/metrics`` (``collector.web.metrics``) shows them, with what it reads at
scrape time (queues, outboxes). With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment
before the process starts, prometheus_client keeps every value in a file of that folder,
one set per process, and the scrape adds them up: that is how the workers' jobs reach the
web's ``/metrics``. Without it each process counts in memory (``make run``, the tests).

Labels are names from a short list (a Flask endpoint, a job name, an outcome): never a
path, an address or anything a request brings, so no token reaches a label. No Flask.
"""

from __future__ import annotations

import os
import re

from prometheus_client import Counter, Histogram, values
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session


def process_identity() -> str:
    """The name of this process's files in multiprocess mode. rq's general worker forks a
    work horse per job: named by its pid, each job would leave files of its own, and every
    scrape reads them all. A work horse is named after its worker instead (rq puts the
    worker's name in ``RQ_WORKER_ID``): a worker runs one horse at a time, and each horse
    goes on counting in the files of the one before. Any other process by its pid."""
    worker = os.environ.get("RQ_WORKER_ID")
    if worker:
        return "rq-" + re.sub(r"[^A-Za-z0-9-]", "-", worker)
    return str(os.getpid())


if values.ValueClass is not values.MutexValue:  # PROMETHEUS_MULTIPROC_DIR is set
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identity)

# Seconds: a page or a webhook is quick; an import or a batch of PDFs may take minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800)

REQUEST_SECONDS = Histogram(
    "collector_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint and status class (2xx, 4xx…)",
    ("endpoint", "method", "status"),
    buckets=REQUEST_BUCKETS,
)
JOBS = Counter(
    "collector_jobs",
    "Background jobs ended, by job name and outcome (finished, failed, deferred)",
    ("name", "outcome"),
)
JOB_SECONDS = Histogram(
    "collector_job_duration_seconds",
    "Time a background job ran, by job name and outcome",
    ("name", "outcome"),
    buckets=JOB_BUCKETS,
)
UPSTREAM_CALLS = Counter(
    "collector_upstream_calls",
    "HTTP calls to Teamleader, Exact Online and the payment provider, by service and "
    "outcome (ok, rate_limited = 429, client_error, server_error, network_error)",
    ("service", "outcome"),
)
IMPORTS = Counter(
    "collector_imports_ended",
    "Teamleader imports ended, by outcome (finished, failed)",
    ("outcome",),
)
PAYMENTS = Counter(
    "collector_payments_recorded",
    "Payments recorded on documents, by source (provider, bank, teamleader, manual, exact)",
    ("source",),
)
COLLECTIONS = Counter(
    "collector_collection_outcomes",
    "Direct-debit collections answered by the bank, by outcome (settled, rejected, returned)",
    ("outcome",),
)


def status_class(status: int) -> str:
    """``2xx`` for 204: the label of a status, a handful of values whatever the answer."""
    return f"{status // 100}xx"


def upstream_outcome(status: int | None) -> str:
    """What one HTTP call to an upstream came to, for ``UPSTREAM_CALLS``."""
    if status is None:
        return "network_error"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "ok"


# -- counted once the transaction that did it commits -------------------------------------

PENDING = "collector.metrics.pending"


def count_on_commit(session: Session | scoped_session, counter) -> None:
    """Increment ``counter`` (a labelled child) when ``session`` commits what it counts, and
    not at all if that is rolled back: a payment counted is a payment kept. A savepoint
    rolled back forgets only what was counted inside it."""
    if isinstance(session, scoped_session):
        session = session()
    inner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append((inner, counter))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the transaction around it may still roll back
    for _, counter in session.info.pop(PENDING, ()):
        counter.inc()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        kept = [(tx, c) for tx, c in pending if not _within(tx, previous_transaction)]
        session.info[PENDING] = kept


def _within(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
