"""Issue 25, point 4: Exact's daily limit fails fast, says when it resets, and is never slept
on — neither after a 200 saying ``X-RateLimit-Remaining: 0`` nor after a daily 429."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from collector.core import clock
from collector.core.errors import TryLater
from collector.exact import ExactClient, ExactRateLimiter, StaticTokenSource, build_session
from collector.exact.errors import DailyLimitReached, daily_limit_message

from .sandbox import routed_client
from .support import DIVISION, HOST, payload, url
from .test_ratelimit import FakeClock

JOURNALS = url("financial/Journals")
VAT_CODES = url("vat/VATCodes")
MIDNIGHT = datetime(2021, 12, 3, tzinfo=UTC)  # after FakeClock's start, 2021-12-02 12:15 UTC


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_the_message_gives_the_reset_in_utc_and_in_the_companys_zone():
    previous = clock.use_zone_lookup(lambda: clock.parse_zone("Europe/Brussels"))
    try:
        winter = daily_limit_message(MIDNIGHT)
        summer = daily_limit_message(datetime(2026, 7, 1, tzinfo=UTC))
        clock.use_zone_lookup(lambda: clock.parse_zone("America/New_York"))
        elsewhere = daily_limit_message(MIDNIGHT)
    finally:
        clock.use_zone_lookup(previous)

    assert winter == (
        "Exact's daily limit for this administration is used up; "
        "it resets at 00:00 UTC (01:00 in Brussels)."
    )
    assert summer.endswith("it resets at 00:00 UTC (02:00 in Brussels).")
    assert elsewhere.endswith("it resets at 00:00 UTC (19:00 in New York).")


def test_after_a_200_spending_the_day_the_next_call_fails_fast(ex_redis, mock):
    fake = FakeClock()
    limiter = ExactRateLimiter.for_division(ex_redis, DIVISION, clock=fake, sleep=fake.sleep)
    exact = ExactClient(
        build_session(), HOST, StaticTokenSource("t"), DIVISION, limiter=limiter, clock=fake.utc
    )
    spent = {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(MIDNIGHT.timestamp()) * 1000),
    }
    mock.get(JOURNALS, json=payload("journals-get-list-response.json"), headers=spent)

    assert exact.journals()  # the last call of the day is answered
    with pytest.raises(DailyLimitReached) as caught:
        exact.vat_codes()  # not sent (responses would refuse it), not slept on

    assert fake.sleeps == []
    assert caught.value.retry_at_utc == MIDNIGHT
    assert isinstance(caught.value, TryLater)
    assert str(caught.value) == daily_limit_message(MIDNIGHT)


def test_a_daily_429_without_a_pacer_is_the_same_typed_error(mock, fake_time):
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1638489600000"}
    mock.get(JOURNALS, status=429, body="", headers=headers)
    exact = ExactClient(
        build_session(),
        HOST,
        StaticTokenSource("t"),
        DIVISION,
        sleep=fake_time.sleep,
        clock=fake_time.now,
    )

    with pytest.raises(DailyLimitReached) as caught:
        exact.journals()

    assert caught.value.reset_at == MIDNIGHT and caught.value.status == 429
    assert fake_time.sleeps == []


def test_the_sandbox_spends_the_day_and_the_paced_client_stops_at_once(ex_redis):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        exact, caller = routed_client(rsps, redis=ex_redis, DAILY_LIMIT=3)
        exact.journals()
        exact.vat_codes()
        exact.gl_accounts()  # the third: Exact answers 200 with X-RateLimit-Remaining: 0
        with pytest.raises(DailyLimitReached) as caught:
            exact.payment_conditions()

    statuses = [call["status"] for call in caller.emulator.store.calls if call["division"]]
    assert statuses == [200, 200, 200]  # the fourth call never left
    assert caught.value.retry_at_utc == datetime(2026, 3, 16, tzinfo=UTC)  # UTC midnight


def test_the_sandbox_answers_a_spent_day_with_a_daily_429_that_is_not_waited_for():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        exact, caller = routed_client(rsps, DAILY_LIMIT=1)  # no pacer: nothing remembers
        exact.journals()
        with pytest.raises(DailyLimitReached) as caught:
            exact.vat_codes()

    statuses = [call["status"] for call in caller.emulator.store.calls if call["division"]]
    assert statuses == [200, 429]
    assert caught.value.reset_at == datetime(2026, 3, 16, tzinfo=UTC)
