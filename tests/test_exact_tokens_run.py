"""A forwarding run that outlives two Exact Online access tokens books everything and keeps
the connection (issue 25, point 1) — on PostgreSQL and on SQLite alike (this module is not
marked ``postgres``: run it on both). And a token Exact refuses early is refreshed (point 3).

Before the fix each document began with an uncommitted UPDATE of the connection row (the run
lease); a token refresh in the middle of a document (``_attach_pdf`` → ``create_document`` →
``access_token`` → refresh) then had to write that row from a session of its own. SQLite
answered "database is locked" after Exact had rotated the refresh token, so the new pair was
lost and the next refresh was refused as "Old refresh token used."; PostgreSQL's ``SELECT …
FOR UPDATE`` waited on the run's own row lock.

No real time passes: the Exact sandbox follows the test clock (``clock`` fixture), and moves
it on a few seconds (``PACES``) after every REST call, as a paced run spends minutes between calls.
Teamleader's sandbox and tokens (an hour) are left alone: the run stays well under that.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from collector.exact import jobs as exact_jobs
from collector.exact import setup as exact_setup
from collector.exact.models import BookingStatus, ExactBooking, ExactConnection, ExactSyncRun
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import ConnectionStatus
from tests.e2e import conftest as e2e
from tests.e2e import test_exact as exact_e2e
from tests.support import exact as support

# The sandboxes, the app pointed at them and 30 days imported and mapped, as in the
# forwarding tests.
sandbox_config = exact_e2e.sandbox_config
sandbox, tl_app, connection = e2e.sandbox, e2e.tl_app, e2e.connection
exact_sandbox, exact_app = exact_e2e.exact_sandbox, exact_e2e.exact_app
belgian, imported, mapped = exact_e2e.belgian, exact_e2e.imported, exact_e2e.mapped

# Seconds between two REST calls; each pace makes the refreshes fall on other calls (before
# the POST of a document or of the entry, or an account lookup). A run searches its
# customers' accounts once a batch, so it makes fewer calls: the paces are long enough for
# it still to outlive two tokens.
PACES = [29.0, 31.0, 34.0]
TOKEN_LIFETIME = timedelta(seconds=600)


@pytest.fixture
def exact_on_the_test_clock(exact_sandbox, clock):
    """The Exact sandbox reads and moves the test clock; listed before ``mapped`` so the
    connection's first token is issued on it."""
    emulator = exact_sandbox.app.extensions["exact_emulator"]
    emulator.clock.follow(clock)
    yield emulator
    emulator.clock.follow(None)


@pytest.mark.parametrize("pace", PACES)
def test_a_run_outliving_two_access_tokens_books_everything_and_keeps_the_connection(
    exact_on_the_test_clock,
    exact_app,
    exact_sandbox,
    imported,
    mapped,
    clock,
    pace,
):
    emulator = exact_on_the_test_clock
    exact_sandbox.control("DELETE", "calls")
    exact_sandbox.control("DELETE", "tokens")
    exact_sandbox.control("POST", "clock", json={"per_call": pace})
    started = clock.now()

    summary = exact_jobs.forward_to_exact("manual")

    # Everything booked, in one run that outlived two access tokens.
    assert "0 failed" in summary and "The run stopped" not in summary, summary
    run = db.session.scalars(db.select(ExactSyncRun)).one()
    assert run.problem is None
    assert run.booked == len(imported) == len(exact_sandbox.control("GET", "sales-entries"))
    assert run.finished_at - run.started_at > 2 * TOKEN_LIFETIME
    assert clock.now() - started > 2 * TOKEN_LIFETIME
    statuses = set(db.session.scalars(db.select(ExactBooking.status)))
    assert statuses == {BookingStatus.BOOKED}

    # Each token was refreshed in time, once, and never refused: no 401, no reused token.
    refreshes = [t for t in exact_sandbox.control("GET", "tokens") if t["grant"] == "refresh_token"]
    assert len(refreshes) >= 2
    assert [t["outcome"] for t in refreshes] == ["ok"] * len(refreshes)
    calls = exact_sandbox.control("GET", "calls")
    assert {c["status"] for c in calls} <= {200, 201}, [c for c in calls if c["status"] > 201]

    # At least one refresh fell in the middle of a document, after its lease was renewed and
    # its account looked up: where the old code lost the pair.
    following = [_call_after(calls, refresh["at"]) for refresh in refreshes]
    mid_document = ("documents/Documents", "documents/DocumentAttachments", "SalesEntries")
    assert any(
        call["method"] == "POST" and any(part in call["path"] for part in mid_document)
        for call in following
    ), following

    # The connection is as good as before: connected, and holding the live pair.
    db.session.expire_all()
    row = db.session.get(ExactConnection, mapped.id)
    assert row.status == ConnectionStatus.CONNECTED and row.last_error is None
    assert row.run_lease_until is None
    cipher = runtime_setup.cipher(exact_app)
    refresh_token = cipher.decrypt(row.refresh_token_enc)
    with emulator.store.lock:
        assert emulator.store.refresh_tokens[refresh_token]["used"] is False
        assert cipher.decrypt(row.access_token_enc) in emulator.store.access_tokens

    # And the next run still works with it.
    exact_sandbox.control("POST", "clock", json={"advance": 700})
    assert exact_jobs.forward_to_exact("manual").startswith("0 booked")
    db.session.expire_all()
    assert db.session.get(ExactConnection, mapped.id).status == ConnectionStatus.CONNECTED


def _call_after(calls: list[dict], at: float) -> dict:
    """The first REST call at or after ``at`` (the one the refreshed token was asked for)."""
    return next(c for c in calls if c["at"] >= round(at, 3))


def test_a_token_exact_refuses_before_our_refresh_point_is_refreshed_and_the_call_retried(
    exact_on_the_test_clock, exact_app, exact_sandbox, admin, clock
):
    """Issue 25, point 3, against the sandbox: Exact refuses a token in its last ~30 s, and
    our idea of its age errs young by as long as its token answer took to reach us."""
    connection = support.connect(exact_app, admin)
    lag = timedelta(seconds=20)  # the token answer took this long: we date it that much later
    connection.access_issued_at += lag
    connection.access_expires_at += lag
    db.session.commit()
    clock.advance(seconds=575)  # Exact: 575 s old, refused; ours: 555 s, not due for refresh
    exact_sandbox.control("DELETE", "calls")
    division = connection.choices["divisions"][support.DEMO_DIVISION_INDEX]["code"]
    source = exact_setup.token_source(exact_app, connection)
    client = exact_setup.client_factory(exact_app)(source, connection.host, division)

    assert client.journals()

    assert [c["status"] for c in exact_sandbox.control("GET", "calls")] == [401, 200]
    refreshes = [t for t in exact_sandbox.control("GET", "tokens") if t["grant"] == "refresh_token"]
    assert [t["outcome"] for t in refreshes] == ["ok"]
    assert source.refreshes == 1
    db.session.expire_all()
    assert db.session.get(ExactConnection, connection.id).status == ConnectionStatus.CONNECTED
