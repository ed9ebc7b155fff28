"""Exact Online's rate limit under a large run (issue 8, acceptance 4): 500 documents
against a scaled-down 60 calls per minute — no 429 reaches a document, and the run paces
close to the ceiling.

Exact's minute is scaled to MINUTE_WINDOW seconds on both sides: the sandbox counts
MINUTE_LIMIT calls per fixed window, the app allows itself EXACT_RATE_LIMIT per sliding
window through the Redis pacer (the jobs backend is rq here, so the client is paced). The
documents come from the Teamleader sandbox through a real import; their PDFs are stored
bytes (the PDF pipeline is tested elsewhere). Teamleader's limits are raised out of the way
so Exact's is the one that binds. Only counts are asserted, never time: how long the run
takes is reported by ``bench/exact_forwarding.py``.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest

from collector import clients, jobs
from collector.core.clock import local_today
from collector.extensions import db
from collector.models import BookingStatus, ExactBooking, ImportSource, Invoice, SyncTrigger
from collector.services import exact_forwarding, imports
from collector.services.exact_connection import current_exact
from collector.services.teamleader_connection import current_connection
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
OUR_LIMIT = 57  # what the app allows itself per window (60 less a margin)
BUSY = 50  # "close to the ceiling": what the busiest windows must reach
UNLIMITED = 100_000


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
    jobs.run_import(imp.id)
    found = list(
        db.session.scalars(
            db.select(Invoice)
            .where(Invoice.department_id == belgian)
            .order_by(Invoice.invoice_date, Invoice.id)
        )
    )
    assert len(found) >= DOCUMENTS, f"the sandbox gave {len(found)} Belgian documents"
    chosen = found[:DOCUMENTS]
    store = clients.document_store(paced_app)
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
    exact = clients.exact_client(paced_app, connection)

    run = exact_forwarding.forward(
        connection,
        exact,
        clients.teamleader_client(paced_app, current_connection()),
        clients.document_store(paced_app),
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
    assert len(calls) == sum(exact.calls.values()) == run.calls
    assert len(calls) > 3 * DOCUMENTS  # a document, its PDF and the entry, at least

    # The sandbox's fixed windows: none over Exact's limit, and the busiest ones full to
    # about our own limit, which is what binds.
    windows = Counter(math.floor(c["at"] / MINUTE_WINDOW) for c in calls)
    busiest = sorted(windows.values(), reverse=True)
    assert busiest[0] <= MINUTE_LIMIT, busiest[:5]
    assert len(windows) >= len(calls) / MINUTE_LIMIT  # (what the limit implies)
    assert min(busiest[:5]) >= BUSY, busiest[:10]
