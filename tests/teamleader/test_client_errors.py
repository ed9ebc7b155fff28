"""Error mapping, retries, 429 waits and token refresh — against the real tl_client."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from collector.teamleader import (
    AuthError,
    Forbidden,
    MalformedResponse,
    NotFound,
    RateLimited,
    TeamleaderClient,
    TeamleaderError,
    Unavailable,
    ValidationFailed,
    build_session,
)
from collector.teamleader.errors import error_titles, parse_reset
from tests.support.payloads import teamleader_payload as payload

from .support import API, TOKEN, url

ME = payload("users.me.response.json")
ERROR = payload("error.response.json")
# Teamleader's documented example: offset without colon, milliseconds (reference §4).
RESET = "2021-06-15T10:51:23.035+0100"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, ValidationFailed),
        (403, Forbidden),
        (404, NotFound),
        (422, ValidationFailed),
        (409, TeamleaderError),
    ],
)
def test_client_errors_are_typed_and_not_retried(rsps, tl_client, status, error_type):
    rsps.post(url("invoices.info"), json=ERROR, status=status)

    with pytest.raises(error_type) as caught:
        tl_client.invoices_info("inv-1")

    assert caught.value.status == status
    assert caught.value.titles == ("Company name must not be empty",)
    assert caught.value.endpoint == "invoices.info"
    assert TOKEN not in str(caught.value)
    assert len(rsps.calls) == 1


def test_error_titles_from_the_guidelines_shape(rsps, tl_client):
    rsps.post(url("users.me"), json=payload("error.response.guidelines-example.json"), status=400)

    with pytest.raises(ValidationFailed, match="Company name must not be empty"):
        tl_client.users_me()


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>Bad gateway</html>", b'{"errors": "nope"}', b"[1]", b'{"errors": [{"x": 1}, 3]}'],
)
def test_error_titles_are_parsed_defensively(body):
    assert error_titles(body) == ()


def test_401_refreshes_once_and_retries(rsps, fake_time):
    tokens = RefreshingTokens("old-token", "new-token")
    tl_client = TeamleaderClient(build_session(), API, tokens, sleep=fake_time.sleep)
    old = matchers.header_matcher({"Authorization": "Bearer old-token"})
    new = matchers.header_matcher({"Authorization": "Bearer new-token"})
    rsps.post(url("users.me"), status=401, json=ERROR, match=[old])
    rsps.post(url("users.me"), json=ME, match=[new])

    assert tl_client.users_me()["account_id"]
    assert tokens.refreshed == ["old-token"]
    assert tl_client.calls["users.me"] == 2
    assert fake_time.sleeps == []


def test_401_after_refresh_is_an_auth_error(rsps, fake_time):
    tokens = RefreshingTokens("old-token", "new-token")
    tl_client = TeamleaderClient(build_session(), API, tokens, sleep=fake_time.sleep)
    rsps.post(url("users.me"), status=401, json=ERROR)

    with pytest.raises(AuthError) as caught:
        tl_client.users_me()

    assert tokens.refreshed == ["old-token"]
    assert len(rsps.calls) == 2
    assert "new-token" not in str(caught.value) and "old-token" not in str(caught.value)


def test_401_with_a_static_token_is_an_auth_error(rsps, tl_client):
    rsps.post(url("users.me"), status=401)

    with pytest.raises(AuthError):
        tl_client.users_me()
    assert len(rsps.calls) == 1


def test_429_waits_until_reset_then_succeeds(rsps, tl_client, fake_time):
    fake_time.current = datetime(2021, 6, 15, 9, 51, 20, tzinfo=UTC)  # 10:51:20 at +01:00
    rsps.post(url("users.me"), status=429, headers={"X-RateLimit-Reset": RESET})
    rsps.post(url("users.me"), json=ME)

    tl_client.users_me()

    # 3.035 s until Reset, plus 0.25 s for the difference between our clock and theirs.
    assert fake_time.sleeps == [pytest.approx(3.285)]
    assert tl_client.calls["users.me"] == 2


@pytest.mark.parametrize("headers", [{}, {"X-RateLimit-Reset": "in a while"}])
def test_429_without_a_usable_reset_waits_a_few_seconds(rsps, tl_client, fake_time, headers):
    rsps.post(url("users.me"), status=429, headers=headers)
    rsps.post(url("users.me"), json=ME)

    tl_client.users_me()

    assert fake_time.sleeps == [5.0]


def test_429_reset_in_the_past_or_far_future_is_bounded(rsps, tl_client, fake_time):
    rsps.post(url("users.me"), status=429, headers={"X-RateLimit-Reset": "2021-06-15T09:00:00Z"})
    rsps.post(url("users.me"), status=429, headers={"X-RateLimit-Reset": "2021-06-15T13:00:00Z"})
    rsps.post(url("users.me"), json=ME)

    tl_client.users_me()

    assert fake_time.sleeps == [0.25, 61.0]


def test_429_that_never_ends_raises_rate_limited(rsps, tl_client, fake_time):
    rsps.post(url("users.me"), status=429, headers={"X-RateLimit-Reset": RESET})

    with pytest.raises(RateLimited) as caught:
        tl_client.users_me()

    assert caught.value.reset_at == datetime(2021, 6, 15, 9, 51, 23, 35000, tzinfo=UTC)
    assert len(rsps.calls) == 6  # the first try and five waits


def test_5xx_is_retried_with_growing_jittered_backoff(rsps, tl_client, fake_time):
    for _ in range(3):
        rsps.post(url("users.me"), status=503)
    rsps.post(url("users.me"), json=ME)

    tl_client.users_me()

    first, second, third = fake_time.sleeps
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0 and 1.0 <= third <= 2.0


def test_5xx_gives_up_after_max_retries(rsps, tl_client, fake_time):
    rsps.post(url("users.me"), status=500, json=ERROR)

    with pytest.raises(Unavailable) as caught:
        tl_client.users_me()

    assert caught.value.status == 500
    assert len(rsps.calls) == 5  # one try and max_retries=4 retries
    assert len(fake_time.sleeps) == 4 and sum(fake_time.sleeps) <= 7.5


@pytest.mark.parametrize(
    "exception", [requests.ConnectionError("reset"), requests.ReadTimeout("slow")]
)
def test_network_errors_and_timeouts_are_retried(rsps, tl_client, fake_time, exception):
    rsps.post(url("users.me"), body=exception)
    rsps.post(url("users.me"), json=ME)

    tl_client.users_me()

    assert len(fake_time.sleeps) == 1


def test_unreachable_api_ends_in_unavailable(tl_client, fake_time):
    # Nothing registered: the mock refuses the connection, like a host that is down.
    with pytest.raises(Unavailable, match="ConnectionError"):
        tl_client.users_me()
    assert tl_client.calls["users.me"] == 5


@pytest.mark.parametrize("failure", [{"status": 500}, {"body": requests.ReadTimeout("slow")}])
def test_register_payment_is_not_retried_when_it_may_have_landed(rsps, tl_client, failure):
    rsps.post(url("invoices.registerPayment"), **failure)

    with pytest.raises(Unavailable) as caught:
        tl_client.invoices_register_payment(
            "inv-1", Decimal("10.00"), "EUR", datetime(2024, 1, 1, tzinfo=UTC)
        )
    assert caught.value.maybe_applied  # re-read the invoice's payments before trying again
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "never_left",
    [
        requests.ConnectTimeout("no route"),
        requests.ConnectionError(
            MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))
        ),
    ],
)
def test_register_payment_is_retried_when_it_never_left(rsps, tl_client, fake_time, never_left):
    rsps.post(url("invoices.registerPayment"), body=never_left)
    rsps.post(url("invoices.registerPayment"), status=204)

    tl_client.invoices_register_payment(
        "inv-1", Decimal("10.00"), "EUR", datetime(2024, 1, 1, tzinfo=UTC)
    )

    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b'{"meta": {}}', "no data member"),
        (b'{"data": {"account": {"type": "account", "id": "a"}}}', r"\['id'\]"),
        (b'{"data": [1, 2]}', "unexpected shape"),
    ],
)
def test_malformed_responses(rsps, tl_client, body, message):
    rsps.post(url("users.me"), body=body, content_type="application/json")

    with pytest.raises(MalformedResponse, match=message):
        tl_client.users_me()


def test_list_data_that_is_not_a_list_is_malformed(rsps, tl_client):
    rsps.post(url("webhooks.list"), json={"data": {"url": "x"}})

    with pytest.raises(MalformedResponse, match="not a list"):
        tl_client.webhooks_list()


def test_limiter_is_asked_before_every_call_and_told_the_headers(rsps, fake_time):
    limiter = RecordingLimiter()
    tl_client = TeamleaderClient(
        build_session(), API, RefreshingTokens("t", "t2"), limiter=limiter, sleep=fake_time.sleep
    )
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": RESET}
    rsps.post(url("users.me"), status=503)
    rsps.post(url("users.me"), json=ME, headers=headers)

    tl_client.users_me()

    assert limiter.acquired == 2
    reset_at = datetime(2021, 6, 15, 9, 51, 23, 35000, tzinfo=UTC)
    assert limiter.updates == [(None, None), (0, reset_at)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (RESET, datetime(2021, 6, 15, 9, 51, 23, 35000, tzinfo=UTC)),
        ("2021-06-15T10:51:23+01:00", datetime(2021, 6, 15, 9, 51, 23, tzinfo=UTC)),
        ("2021-06-15T09:51:23Z", datetime(2021, 6, 15, 9, 51, 23, tzinfo=UTC)),
        ("2021-06-15T09:51:23", datetime(2021, 6, 15, 9, 51, 23, tzinfo=UTC)),
        ("60", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_reset(value, expected):
    assert parse_reset(value) == expected


class RefreshingTokens:
    """A token source that hands out a new token once."""

    def __init__(self, token: str, fresh: str) -> None:
        self.token, self.fresh = token, fresh
        self.refreshed: list[str] = []

    def access_token(self) -> str:
        return self.token

    def refresh(self, stale_token: str) -> str:
        self.refreshed.append(stale_token)
        self.token = self.fresh
        return self.fresh


class RecordingLimiter:
    def __init__(self) -> None:
        self.acquired = 0
        self.updates: list[tuple] = []

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0

    def update_from_headers(self, remaining, reset_at) -> None:
        self.updates.append((remaining, reset_at))
