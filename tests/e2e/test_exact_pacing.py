"""Exact Online's rate limit under a large run (issue 8, acceptance 4): 500 documents
against a scaled-down 60 calls per minute — no 429 reaches a document, and the run paces
close to the ceiling: the pacer holds a call back only while the whole budget is in use,
and only until the oldest call leaves the window.

Exact's minute is scaled to MINUTE_WINDOW seconds on both sides: the sandbox counts
MINUTE_LIMIT calls per fixed window, the app allows itself EXACT_RATE_LIMIT per sliding
window through the Redis pacer (the jobs backend is rq here, so the client is paced). The
documents come from the Teamleader sandbox through a real import; their PDFs are stored
bytes (the PDF pipeline is tested elsewhere). Teamleader's limits are raised out of the way
so Exact's is the one that binds. Only counts and the pacer's own record of each slot are
asserted, never elapsed time or a rate reached (both depend on how busy the machine is): how
long the run takes is reported by ``bench/exact_forwarding.py``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import timedelta

import pytest

from collector import exact
from collector.core.clock import local_today
from collector.core.ratelimit import RedisRateLimiter
from collector.documents.models import Invoice
from collector.exact import forwarding as exact_forwarding
from collector.exact import setup as exact_setup
from collector.exact.connection import current_exact
from collector.exact.models import BookingStatus, ExactBooking, SyncTrigger
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection
from collector.teamleader.models import ImportSource
from tests.e2e import test_exact as exact_e2e

# The Exact sandbox, the app pointed at it, the Belgian department and the full mapping of
# its VAT rates, as in the forwarding tests.
exact_sandbox = exact_e2e.exact_sandbox
exact_app = exact_e2e.exact_app
belgian = exact_e2e.belgian
mapped = exact_e2e.mapped

DOCUMENTS = 500
MINUTE_LIMIT = 60  # Exact's, per (scaled) minute
MINUTE_WINDOW = 1.0  # seconds: Exact's minute, scaled down
# What the app allows itself per window. The default is 59 of 60 on Exact's real minute,
# where a call's travel time is a thousandth of the second between calls; on a minute
# scaled to 1 s calls are 17 ms apart and a busy machine's jitter is as long, so the
# margin is scaled up with it.
OUR_LIMIT = 57
UNLIMITED = 100_000


class RecordedLimiter(RedisRateLimiter):
    """The real Redis limiter, also keeping its record: every try (the moment, in the epoch
    ms that are the slot's score in Redis, and the ms it was told to wait, 0 for a slot)
    and every pause it set. The run calls Exact from one thread, so one reading at a time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, clock=self._read, **kwargs)
        self._last = 0.0
        self.tries: list[tuple[int, int]] = []
        self.pauses: list[tuple[int, int]] = []

    def _read(self) -> float:
        self._last = time.time()
        return self._last

    def try_acquire(self) -> int:
        wait_ms = super().try_acquire()
        self.tries.append((int(self._last * 1000), wait_ms))
        return wait_ms

    def pause_until_ms(self, until_ms: int) -> bool:
        extended = super().pause_until_ms(until_ms)
        if extended:
            self.pauses.append((int(self._last * 1000), until_ms))
        return extended


def recorded_client(app, connection) -> tuple[exact.ExactClient, RecordedLimiter]:
    """The Exact client ``exact_setup.client`` builds (its pacer from the app's config),
    with the minutely budget kept by a ``RecordedLimiter``."""
    redis = app.extensions["jobs"].backend.connection
    built = exact.ExactRateLimiter.for_division(
        redis,
        connection.division,
        minute_limit=app.config["EXACT_RATE_LIMIT"],
        minute_window=app.config["EXACT_RATE_WINDOW"],
        daily_limit=app.config["EXACT_DAILY_LIMIT"],
    )
    minute = RecordedLimiter(
        redis,
        built.minute.key,
        built.minute.limit,
        built.minute_window,
        pause_key=built.pause_key,
    )
    pacer = exact.ExactRateLimiter(minute, built.day, minute_window=built.minute_window)
    source = exact_setup.token_source(app, connection)
    client = exact.ExactClient(
        exact.build_session(), connection.host, source, connection.division, limiter=pacer
    )
    return client, minute


def busiest_window(moments: list[int], window_ms: int) -> int:
    """The most moments (epoch ms) in any span of ``window_ms`` (as the limiter counts:
    a moment ``window_ms`` older than another is out of its window)."""
    moments, most, first = sorted(moments), 0, 0
    for last, moment in enumerate(moments):
        while moments[first] <= moment - window_ms:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.fixture
def sandbox_config():
    """A Teamleader account whose last 90 days hold more than 500 Belgian documents, and
    a rate limit that never binds."""
    return {"SEED": 7, "INVOICE_COUNT": 800, "RATE_LIMIT": UNLIMITED}


@pytest.fixture
def paced_app(exact_app, exact_sandbox):
    exact_sandbox.control(
        "POST", "limits", json={"minute_limit": MINUTE_LIMIT, "minute_window": MINUTE_WINDOW}
    )
    exact_app.config.update(
        EXACT_RATE_LIMIT=OUR_LIMIT,
        EXACT_RATE_WINDOW=MINUTE_WINDOW,
        TEAMLEADER_RATE_LIMIT=UNLIMITED,
    )
    assert exact_app.extensions["jobs"].backend.name == "rq"  # so the client is paced
    return exact_app


@pytest.fixture
def documents(paced_app, connection, belgian) -> list[Invoice]:
    """The first 500 Belgian documents (in the order a run takes them), imported from the
    Teamleader sandbox, each with a stored PDF."""
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=90), date_to=today
    )
    teamleader_jobs.run_import(imp.id)
    found = list(
        db.session.scalars(
            db.select(Invoice)
            .where(Invoice.department_id == belgian)
            .order_by(Invoice.invoice_date, Invoice.id)
        )
    )
    assert len(found) >= DOCUMENTS, f"the sandbox gave {len(found)} Belgian documents"
    chosen = found[:DOCUMENTS]
    store = runtime_setup.document_store(paced_app)
    for invoice in chosen:
        invoice.pdf_key = store.put(f"%PDF-1.4\n% {invoice.number}\n%%EOF\n".encode())
    db.session.commit()
    assert len({i.number for i in chosen}) == DOCUMENTS  # one reference per document
    return chosen


@pytest.mark.postgres
def test_500_documents_stay_under_the_limit_and_pace_close_to_it(
    paced_app, exact_sandbox, documents, mapped
):
    exact_sandbox.control("DELETE", "calls")
    connection = current_exact()
    client, minute = recorded_client(paced_app, connection)
    # Slots the setup's own Exact calls took may still be in the window.
    redis = paced_app.extensions["jobs"].backend.connection
    earlier = [int(score) for _, score in redis.zrange(minute.key, 0, -1, withscores=True)]

    run = exact_forwarding.forward(
        connection,
        client,
        teamleader_setup.client(paced_app, current_connection()),
        runtime_setup.document_store(paced_app),
        trigger=SyncTrigger.MANUAL,
        limit=DOCUMENTS,
        invoice_ids=[d.id for d in documents],
    )

    # Every document booked, none failed, the run never stopped.
    assert (run.booked, run.found, run.failed, run.waiting) == (DOCUMENTS, 0, 0, 0), run.errors
    assert run.problem is None
    db.session.expire_all()
    bookings = db.session.scalars(db.select(ExactBooking)).all()
    assert Counter(b.status for b in bookings) == {BookingStatus.BOOKED: DOCUMENTS}
    assert len({b.entry_id for b in bookings}) == DOCUMENTS
    assert all(b.failures == 0 and b.reason is None for b in bookings)
    # One entry each in Exact, no more.
    refs = Counter(e["YourRef"] for e in exact_sandbox.control("GET", "sales-entries"))
    assert refs == Counter({d.number: 1 for d in documents})

    # No 429 at all: not one call was refused, so none could reach a document.
    calls = exact_sandbox.control("GET", "calls")
    statuses = Counter(c["status"] for c in calls)
    assert statuses.get(429, 0) == 0, statuses
    assert set(statuses) <= {200, 201}, statuses
    assert len(calls) == sum(client.calls.values()) == run.calls
    assert len(calls) > 3 * DOCUMENTS  # a document, its PDF and the entry, at least

    # The sandbox's fixed windows: none over Exact's limit.
    windows = Counter(math.floor(c["at"] / MINUTE_WINDOW) for c in calls)
    busiest = sorted(windows.values(), reverse=True)
    assert busiest[0] <= MINUTE_LIMIT, busiest[:5]
    assert len(windows) >= len(calls) / MINUTE_LIMIT  # (what the limit implies)

    # The pacer's record: one slot per call, never more than our limit in a window…
    window_ms = int(MINUTE_WINDOW * 1000)
    slots = [at for at, wait_ms in minute.tries if wait_ms == 0]
    assert len(slots) == len(calls)
    assert busiest_window(slots, window_ms) <= OUR_LIMIT
    # …and close to the ceiling: a call was held back only while the window held our whole
    # budget (or Exact's headers paused everyone), and only until the oldest slot left it.
    taken = list(earlier)
    for at, wait_ms in minute.tries:
        if wait_ms == 0:
            taken.append(at)
            continue
        if any(since <= at < until for since, until in minute.pauses):
            continue
        in_window = [slot for slot in taken if slot > at - window_ms]
        assert len(in_window) == OUR_LIMIT, (at, wait_ms, len(in_window))
        assert wait_ms == max(1, min(in_window) + window_ms - at), (at, wait_ms)
