"""``/metrics``: the service for Prometheus, in its text format.

It shows what the processes counted (``collector.core.metrics``: requests, jobs, upstream
calls, imports, payments, collections) — added up over every process's files when
``PROMETHEUS_MULTIPROC_DIR`` is set, this process's own otherwise — and what it reads at
scrape time:

- per rq queue: its jobs by state (queued, started, scheduled) and the age of the oldest
  queued one, from Redis;
- per outbox (Teamleader sync, Exact forwarding, status callbacks, mail to customers): the
  rows still to deliver by status, and the age of the oldest, from the database, each in
  one ``GROUP BY status`` over the status index of its table;
- ``collector_scrape_source_up``: 0 for a source (redis, database) that did not answer,
  so an outage shows as such and not as an empty queue.

No login: Prometheus sends ``Authorization: Bearer <METRICS_TOKEN>``; without a token set
only this machine may read it (a loopback address, and no proxy's forwarding header).
Nothing in it is a secret: names, counts and seconds.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy.exc import SQLAlchemyError

from collector.core.columns import utcnow
from collector.documents.models import (
    CallbackDelivery,
    CallbackStatus,
    DocumentMail,
    DocumentMailStatus,
)
from collector.exact.models import BookingStatus, ExactBooking
from collector.extensions import db
from collector.runtime.queue import QUEUES, RQBackend
from collector.teamleader.models import SyncStatus, TeamleaderSync

log = logging.getLogger(__name__)

FORWARDED = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

# Each outbox: its table, the time its age is counted from, the statuses still owed.
# Teamleader's outbox keeps one row per document, touched by each attempt: its age is
# since the row last changed.
OUTBOXES = {
    "teamleader": (
        TeamleaderSync,
        TeamleaderSync.updated_at,
        (SyncStatus.PENDING, SyncStatus.RETRYING),
    ),
    "exact": (ExactBooking, ExactBooking.created_at, (BookingStatus.WAITING, BookingStatus.FAILED)),
    "callbacks": (
        CallbackDelivery,
        CallbackDelivery.created_at,
        (CallbackStatus.PENDING, CallbackStatus.RETRYING),
    ),
    "mail": (
        DocumentMail,
        DocumentMail.created_at,
        (DocumentMailStatus.WAITING, DocumentMailStatus.SENDING, DocumentMailStatus.FAILED),
    ),
}

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if token:
        if not _bearer_matches(request.headers.get("Authorization", ""), token):
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
    elif not _from_this_machine():
        abort(403)
    # The classic text format, which every Prometheus reads (what prometheus_client's own
    # server answers a scraper that asks for nothing newer).
    return Response(exposition(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, sent = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


def _from_this_machine() -> bool:
    """A loopback client that no proxy forwarded (a proxy on this machine connects from
    loopback for everyone, and says so in its forwarding header)."""
    if any(request.headers.get(name) for name in FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def exposition() -> bytes:
    """The text Prometheus reads: the processes' metrics, then what is read now."""
    if multiprocess_mode():
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # every process's files in PROMETHEUS_MULTIPROC_DIR
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(ScrapeTime())


def multiprocess_mode() -> bool:
    """Whether prometheus_client keeps the values in files: it decided when first imported,
    from ``PROMETHEUS_MULTIPROC_DIR`` in the environment (its setting, not ours)."""
    return values.ValueClass is not values.MutexValue


class ScrapeTime:
    """What ``/metrics`` reads from Redis and the database when it is asked."""

    def collect(self):
        up = GaugeMetricFamily(
            "collector_scrape_source_up",
            "1 when the source answered this scrape, 0 when it did not",
            labels=["source"],
        )
        now = utcnow()
        try:
            yield from queue_families(now)
            up.add_metric(["redis"], 1)
        except redis.RedisError:
            log.warning("metrics: Redis did not answer")
            up.add_metric(["redis"], 0)
        try:
            yield from outbox_families(now)
            up.add_metric(["database"], 1)
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer")
            up.add_metric(["database"], 0)
        yield up


def queue_families(now: datetime) -> list:
    """Jobs per rq queue by state, and the age of each queue's oldest waiting job. Nothing
    when jobs run in-process (no Redis)."""
    backend = current_app.extensions["jobs"].backend
    if not isinstance(backend, RQBackend):
        return []
    jobs = GaugeMetricFamily(
        "collector_queue_jobs",
        "Jobs in each rq queue: queued (waiting for a worker), started, scheduled",
        labels=["queue", "state"],
    )
    oldest = GaugeMetricFamily(
        "collector_queue_oldest_age_seconds",
        "Seconds the oldest queued job of each rq queue has waited (0: none waits)",
        labels=["queue"],
    )
    for name in QUEUES:
        queue = Queue(name, connection=backend.connection)
        jobs.add_metric([name, "queued"], queue.count)
        # Counted as they stand: a scrape changes nothing (rq's cleanup is recovery's).
        started = StartedJobRegistry(queue=queue).get_job_count(cleanup=False)
        scheduled = ScheduledJobRegistry(queue=queue).get_job_count(cleanup=False)
        jobs.add_metric([name, "started"], started)
        jobs.add_metric([name, "scheduled"], scheduled)
        oldest.add_metric([name], _oldest_age(queue, now))
    return [jobs, oldest]


def _oldest_age(queue: Queue, now: datetime) -> float:
    for job_id in queue.get_job_ids(0, 1):
        job = queue.fetch_job(job_id)
        if job is not None and job.enqueued_at is not None:
            at = job.enqueued_at
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # rq's times are UTC
            return max(0.0, (now - at).total_seconds())
    return 0.0


def outbox_families(now: datetime) -> list:
    """The rows each outbox still owes, by status, and the age of its oldest."""
    backlog = GaugeMetricFamily(
        "collector_outbox_backlog",
        "Rows each outbox still has to deliver, by status",
        labels=["outbox", "status"],
    )
    oldest = GaugeMetricFamily(
        "collector_outbox_oldest_age_seconds",
        "Seconds since the oldest row an outbox still owes was written (0: none)",
        labels=["outbox"],
    )
    for name, (model, since, statuses) in OUTBOXES.items():
        query = (
            sa.select(model.status, sa.func.count(), sa.func.min(since))
            .where(model.status.in_(statuses))
            .group_by(model.status)
        )
        found = {status: (0, None) for status in statuses}
        for status, count, first in db.session.execute(query):
            found[status] = (count, first)
        for status, (count, _) in found.items():
            backlog.add_metric([name, str(status.value)], count)
        firsts = [first for _, first in found.values() if first is not None]
        age = max(0.0, (now - min(firsts)).total_seconds()) if firsts else 0.0
        oldest.add_metric([name], age)
    db.session.rollback()  # read only: end the transaction the queries began
    return [backlog, oldest]
