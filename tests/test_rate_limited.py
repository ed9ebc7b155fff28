"""Rate limits don't hold workers (issue 17): inside a job (``patience``), a spent budget or
a 429 raises ``RateLimited`` with the reset instead of sleeping, and nothing the job was
doing counts it as a failure of its work. Outside a job the limiters wait as before.

Limiters run against the real Redis; HTTP through ``responses``; limiter and transport time
is the test clock, moved only by what sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
import responses

from collector.core import ratelimit as shared
from collector.core.ratelimit import RateLimited, patience
from collector.documents import ledger, timeline
from collector.documents.models import PaymentSource
from collector.exact import ExactClient, ExactRateLimiter
from collector.exact import StaticTokenSource as ExactTokens
from collector.exact import build_session as exact_session
from collector.exact.forwarding import forward
from collector.exact.models import (
    BookingStatus,
    ExactBooking,
    ExactConnection,
    ExactSyncRun,
    SyncTrigger,
)
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import (
    FileFetcher,
    RedisRateLimiter,
    ShareLimiter,
    StaticTokenSource,
    TeamleaderClient,
    build_session,
    payment_sync,
    pdfs,
    sync_claims,
)
from collector.teamleader.models import SyncStatus, TeamleaderConnection, TeamleaderSync
from tests.support.factories import make_invoice
from tests.support.payloads import teamleader_payload

TEAMLEADER = "https://api.teamleader.test"
EXACT = "https://start.exactonline.test"
DIVISION = 124132
ACCOUNT = "acc"


class Time:
    """Limiter and transport time read from the test clock; a sleep moves the clock and is
    recorded."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    def epoch(self) -> float:
        return self.clock.at.timestamp()

    def utc(self):
        return self.clock.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds=seconds)

    def later(self, seconds: float):
        return self.clock.at + timedelta(seconds=seconds)

    def limiter_options(self) -> dict:
        return {"clock": self.epoch, "sleep": self.sleep}


@pytest.fixture
def time_(clock) -> Time:
    return Time(clock)


@pytest.fixture
def rsps():
    """HTTP mock: an unregistered call raises ConnectionError, an unused registration fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def teamleader_limiter(redis_conn, time_: Time, account: str = ACCOUNT, **kwargs):
    return RedisRateLimiter.for_account(redis_conn, account, **time_.limiter_options(), **kwargs)


def teamleader_client(limiter, time_: Time) -> TeamleaderClient:
    return TeamleaderClient(
        build_session(),
        TEAMLEADER,
        StaticTokenSource("token"),
        limiter=limiter,
        sleep=time_.sleep,
        clock=time_.utc,
    )


def reset_header(at) -> str:
    """``X-RateLimit-Reset`` as Teamleader writes it: milliseconds, an offset without colon."""
    return f"{at:%Y-%m-%dT%H:%M:%S}.000+0000"


def epoch_ms(at) -> str:
    return str(int(at.timestamp() * 1000))


# -- the shared limiter ---------------------------------------------------------------------


def test_within_patience_a_spent_budget_raises_with_its_reset_and_sleeps_nothing(redis_conn, time_):
    limiter = teamleader_limiter(redis_conn, time_, limit=2, window=60)
    first = time_.epoch()
    limiter.acquire()
    time_.clock.advance(seconds=10)
    limiter.acquire()

    with patience(2), pytest.raises(RateLimited) as caught:
        limiter.acquire()

    assert caught.value.what == "Teamleader's rate limit"
    assert caught.value.retry_at == pytest.approx(first + 60)  # the first call leaves then
    assert time_.sleeps == []
    assert redis_conn.zcard(limiter.key) == 2  # the refused call took no slot


def test_within_patience_a_short_wait_is_still_slept(redis_conn, time_):
    limiter = teamleader_limiter(redis_conn, time_, limit=1, window=1.5)
    limiter.acquire()

    with patience(2):
        waited = limiter.acquire()

    assert waited == pytest.approx(1.5)
    assert time_.sleeps == [pytest.approx(1.5)]


def test_without_patience_a_pause_is_slept_as_before(redis_conn, time_):
    limiter = teamleader_limiter(redis_conn, time_)
    limiter.update_from_headers(0, time_.later(30))

    with patience(2), patience(None):  # a CLI command or web request inside a job's code
        assert limiter.acquire() == pytest.approx(30)
    limiter.update_from_headers(0, time_.later(20))
    assert limiter.acquire() == pytest.approx(20)

    assert time_.sleeps == [pytest.approx(30), pytest.approx(20)]


def test_a_pause_set_by_another_worker_raises_for_a_share_too(redis_conn, time_):
    account = teamleader_limiter(redis_conn, time_)
    pdf_share = ShareLimiter(teamleader_limiter(redis_conn, time_, f"{ACCOUNT}:pdf"), account)
    reset = time_.later(42)
    teamleader_limiter(redis_conn, time_).update_from_headers(0, reset)

    with patience(2), pytest.raises(RateLimited) as caught:
        pdf_share.acquire()

    assert caught.value.retry_at == pytest.approx(reset.timestamp())
    assert caught.value.waiting == f"Waiting for Teamleader's rate limit until {reset:%H:%M:%S} UTC"
    assert time_.sleeps == []


def test_exact_names_its_daily_budget_and_its_pause(redis_conn, time_):
    pacer = ExactRateLimiter.for_division(
        redis_conn, DIVISION, minute_limit=100, daily_limit=2, **time_.limiter_options()
    )
    first = time_.epoch()
    pacer.acquire()
    pacer.acquire()

    with patience(2), pytest.raises(RateLimited) as daily:
        pacer.acquire()
    reset = time_.later(30)
    pacer.update_from_headers(
        {"X-RateLimit-Minutely-Remaining": "0", "X-RateLimit-Minutely-Reset": epoch_ms(reset)}
    )
    with patience(2), pytest.raises(RateLimited) as minutely:
        pacer.acquire()

    assert daily.value.what == "Exact Online's daily limit"
    assert daily.value.retry_at == pytest.approx(first + 24 * 3600)
    assert minutely.value.what == "Exact Online's rate limit"
    assert minutely.value.retry_at == pytest.approx(reset.timestamp())
    assert time_.sleeps == []


# -- 429s -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "remaining",
    [{"X-RateLimit-Remaining": "0"}, {}, {"X-RateLimit-Remaining": "12"}],
    ids=["nothing-left", "no-remaining", "some-left"],
)
def test_a_teamleader_429_in_a_job_pauses_every_worker_and_raises(
    redis_conn, time_, rsps, remaining
):
    limiter = teamleader_limiter(redis_conn, time_)
    reset = time_.later(40)
    headers = {"X-RateLimit-Reset": reset_header(reset), **remaining}
    rsps.post(f"{TEAMLEADER}/users.me", status=429, headers=headers)

    with patience(2), pytest.raises(RateLimited) as caught:
        teamleader_client(limiter, time_).users_me()

    assert caught.value.what == "Teamleader's rate limit"
    assert caught.value.retry_at == pytest.approx(reset.timestamp() + 0.25)  # + clock skew
    assert time_.sleeps == [] and len(rsps.calls) == 1
    # A 429 says nothing is left, whatever Remaining said: another worker waits as well.
    assert teamleader_limiter(redis_conn, time_).paused_for() == pytest.approx(40.25)


def test_a_teamleader_429_outside_a_job_still_waits_for_the_reset(redis_conn, time_, rsps):
    limiter = teamleader_limiter(redis_conn, time_)
    rsps.post(
        f"{TEAMLEADER}/users.me",
        status=429,
        headers={"X-RateLimit-Reset": reset_header(time_.later(40))},
    )
    rsps.post(f"{TEAMLEADER}/users.me", json=teamleader_payload("users.me.response.json"))

    teamleader_client(limiter, time_).users_me()

    assert time_.sleeps == [pytest.approx(40.25)]
    assert limiter.paused_for() == 0


def exact_client(redis_conn, time_: Time) -> ExactClient:
    pacer = ExactRateLimiter.for_division(redis_conn, DIVISION, **time_.limiter_options())
    return ExactClient(
        exact_session(),
        EXACT,
        ExactTokens("token"),
        DIVISION,
        limiter=pacer,
        max_retries=0,
        sleep=time_.sleep,
        clock=time_.utc,
    )


@pytest.mark.parametrize(
    ("headers", "what", "seconds"),
    [
        ({}, "Exact Online's rate limit", 60),  # no headers on a 429: one minute
        ({"X-RateLimit-Minutely-Remaining": "0"}, "Exact Online's rate limit", 25),
        ({"X-RateLimit-Remaining": "0"}, "Exact Online's daily limit", 5 * 3600),
    ],
    ids=["bare", "minutely", "daily"],
)
def test_an_exact_429_in_a_job_pauses_the_division_and_raises(
    redis_conn, time_, rsps, headers, what, seconds
):
    reset = epoch_ms(time_.later(seconds))
    if "X-RateLimit-Minutely-Remaining" in headers:
        headers = {**headers, "X-RateLimit-Minutely-Reset": reset}
    if "X-RateLimit-Remaining" in headers:
        headers = {**headers, "X-RateLimit-Reset": reset}
    rsps.get(f"{EXACT}/api/v1/{DIVISION}/financial/Journals", status=429, body="", headers=headers)
    client = exact_client(redis_conn, time_)

    with patience(2), pytest.raises(RateLimited) as caught:
        client.journals()

    assert caught.value.what == what
    assert caught.value.retry_at == pytest.approx(time_.epoch() + seconds, abs=0.3)
    assert time_.sleeps == [] and len(rsps.calls) == 1
    pacer = ExactRateLimiter.for_division(redis_conn, DIVISION, **time_.limiter_options())
    if what == "Exact Online's daily limit":
        # The day has a pause of its own, never slept on: every call fails fast until then.
        assert pacer.daily_reset().timestamp() == pytest.approx(time_.epoch() + seconds, abs=0.3)
    else:
        assert pacer.paused_for() == pytest.approx(seconds, abs=0.3)


# -- work a rate limit stops is left as it was --------------------------------------------------


@pytest.fixture
def teamleader_paused(app, redis_conn, time_):
    """A connected Teamleader account whose budget another worker found spent for 42 s; a
    client for it, and the moment the budget resets."""
    connection = TeamleaderConnection(
        account_id=ACCOUNT,
        webhook_token="hook",
        strict_mode_confirmed=True,
        payment_method_id="method-1",
    )
    db.session.add(connection)
    db.session.commit()
    reset = time_.later(42)
    teamleader_limiter(redis_conn, time_).update_from_headers(0, reset)
    return connection, teamleader_client(teamleader_limiter(redis_conn, time_), time_), reset


def test_a_payment_sync_a_rate_limit_stops_keeps_its_attempts_and_is_due_after_the_reset(
    teamleader_paused, time_
):
    connection, client, reset = teamleader_paused
    invoice = make_invoice()
    # A payment to register: a delivery with nothing to write calls Teamleader not at all.
    ledger.record_payment(
        invoice,
        key="provider:tr_paused",
        amount=invoice.amount_due,
        occurred_at=time_.utc(),
        source=PaymentSource.PROVIDER,
        actor="provider",
    )
    db.session.commit()
    sync_id = invoice.teamleader_sync.id

    with patience(2), pytest.raises(RateLimited):
        payment_sync.deliver(client, connection, sync_id, time_.utc())

    db.session.expire_all()
    sync = db.session.get(TeamleaderSync, sync_id)
    assert (sync.status, sync.attempts, sync.lease_until) == (SyncStatus.PENDING, 0, None)
    assert sync.last_error is None and sync.done < sync.wanted
    assert sync_claims.claim_due(reset - timedelta(seconds=1)) == {}
    assert list(sync_claims.claim_due(reset)) == [sync_id]


def test_a_pdf_a_rate_limit_stops_is_not_refused(app, teamleader_paused, time_):
    _connection, client, _reset = teamleader_paused
    invoice = make_invoice()

    with patience(2), pytest.raises(RateLimited):
        pdfs.fetch_pdfs(
            client,
            FileFetcher(
                runtime_setup.outbound_guard(app).session("test", accept="application/pdf")
            ),
            runtime_setup.document_store(app),
            [invoice.id],
            actor="test",
        )

    db.session.expire_all()
    invoice = db.session.get(type(invoice), invoice.id)
    assert (invoice.pdf_key, invoice.pdf_failures, invoice.pdf_retry_at) == (None, 0, None)
    assert timeline.PDF_REFUSED not in [event.kind for event in invoice.events]
    assert pdfs.due_for_pdf(10, time_.utc()) == [invoice.id]


def test_an_exact_document_a_rate_limit_stops_is_not_marked_failed(
    app, redis_conn, teamleader_paused, time_, rsps
):
    _connection, teamleader, reset = teamleader_paused
    exact = ExactConnection(
        country="be",
        host=EXACT,
        exact_user_id="u",
        division=DIVISION,
        invoice_journal="70",
        credit_note_journal="71",
        forwarding=True,
    )
    invoice = make_invoice(pdf_key="documents/1.pdf")
    booking = ExactBooking(
        invoice=invoice,
        division=DIVISION,
        status=BookingStatus.FAILED,
        failures=1,
        alerted=False,
        reason="No VAT code for 21 %.",
    )
    db.session.add_all([exact, booking])
    db.session.commit()
    # The journal holds no entry of it yet; then Teamleader's document is read: spent.
    rsps.get(f"{EXACT}/api/v1/{DIVISION}/salesentry/SalesEntries", json={"d": {"results": []}})

    with patience(2), pytest.raises(RateLimited) as caught:
        forward(
            exact,
            exact_client(redis_conn, time_),
            teamleader,
            runtime_setup.document_store(app),
            trigger=SyncTrigger.SCHEDULE,
            clock=time_.utc,
        )

    assert caught.value.retry_at == pytest.approx(reset.timestamp())
    db.session.expire_all()
    booking = db.session.get(ExactBooking, booking.id)
    assert (booking.status, booking.failures, booking.reason) == (
        BookingStatus.FAILED,
        1,
        "No VAT code for 21 %.",
    )
    run = db.session.scalars(db.select(ExactSyncRun)).one()
    assert run.problem == caught.value.waiting and run.failed == 0
    assert db.session.get(ExactConnection, exact.id).run_lease_until is None


def test_a_limiter_whose_redis_is_away_lets_the_call_go_uncounted():
    away = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    slept = []
    limiter = shared.RedisRateLimiter(away, "collector:test-away", 1, 60, sleep=slept.append)
    with shared.patience(2):
        assert limiter.acquire() == 0
        assert limiter.acquire() == 0  # over the limit of 1, but nothing counts it
    assert limiter.pause_until_ms(limiter.now_ms() + 60_000) is False
    assert slept == []
