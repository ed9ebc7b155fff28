"""The shared HTTP transport (collector.core.http) against ``responses``: the sent/not-sent
rule, the backoff, error mapping and call accounting. A small error family stands in for a
client's; the clients' own behaviour is tested in tests/teamleader, tests/exact and
tests/payments."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from marshmallow import Schema, fields
from responses import matchers

from collector.core import http
from collector.exact import errors as exact_errors
from collector.payments import provider_errors
from collector.teamleader import errors as teamleader_errors

API = "https://api.example.test"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class DemoError(http.HttpError):
    """The base of the stand-in client's errors."""


class DemoNotFound(DemoError, http.NotFound):
    pass


class DemoAuthError(DemoError, http.AuthError):
    pass


class DemoRateLimited(DemoError, http.RateLimited):
    pass


class DemoUnavailable(DemoError, http.Unavailable):
    pass


class DemoMalformed(DemoError, http.MalformedResponse):
    pass


BY_STATUS = {401: DemoAuthError, 404: DemoNotFound, 429: DemoRateLimited}


def demo_error(response: requests.Response, endpoint: str) -> DemoError:
    error_type = http.error_type(response.status_code, BY_STATUS, DemoError, DemoUnavailable)
    message = http.describe(endpoint, response.status_code, response.reason)
    return error_type(message, status=response.status_code, endpoint=endpoint)


ERRORS = http.ErrorTypes(demo_error, DemoUnavailable, DemoMalformed)


class Sleeps:
    """A sleep that only records."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


class Tokens:
    """A token source that hands out ``fresh`` once asked to refresh."""

    def __init__(self, token: str, fresh: str) -> None:
        self.token, self.fresh = token, fresh
        self.refreshed: list[str] = []

    def access_token(self) -> str:
        return self.token

    def refresh(self, stale_token: str) -> str:
        self.refreshed.append(stale_token)
        self.token = self.fresh
        return self.fresh


@pytest.fixture
def rsps():
    """HTTP mock: an unregistered call fails, an unused registration fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def transport(sleeps: Sleeps, **options) -> http.Transport:
    options = {"max_retries": 3, "idempotency_header": "Idempotency-Key", **options}
    return http.Transport(requests.Session(), API, ERRORS, sleep=sleeps, **options)


def post(name: str = "things", **changes) -> http.Call:
    return http.Call("POST", name, f"{API}/{name}", body={"a": 1}, **changes)


def get(name: str = "things") -> http.Call:
    return http.Call("GET", name, f"{API}/{name}")


# -- was the request sent? ------------------------------------------------------------------


def refused_port() -> int:
    """A local port nobody listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_never_arrived():
    with pytest.raises(requests.ConnectionError) as caught:
        requests.post(f"http://127.0.0.1:{refused_port()}/", timeout=2)

    assert not http.may_have_arrived(caught.value)


@pytest.mark.parametrize(
    ("exc", "arrived"),
    [
        (requests.ConnectTimeout("connect timed out"), False),
        (requests.ReadTimeout("read timed out"), True),
        (requests.ConnectionError("connection reset by peer"), True),
        (requests.exceptions.ChunkedEncodingError("broken off"), True),
    ],
)
def test_only_a_connection_never_made_surely_did_not_arrive(exc, arrived):
    assert http.may_have_arrived(exc) is arrived


def test_a_write_that_never_left_is_sent_again(sleeps):
    # Not under responses: a real connection, really refused.
    url = f"http://127.0.0.1:{refused_port()}/things"
    api = transport(sleeps, max_retries=2)

    with pytest.raises(DemoUnavailable) as caught:
        api.send(http.Call("POST", "things", url, body={}))

    assert not caught.value.maybe_applied
    assert api.calls["things"] == 3 and len(sleeps.seconds) == 2


def test_a_write_after_a_connect_timeout_is_sent_again(rsps, sleeps):
    rsps.post(f"{API}/things", body=requests.ConnectTimeout("connect timed out"))
    rsps.post(f"{API}/things", json={"ok": True})

    assert transport(sleeps).send(post()) == {"ok": True}
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    "failure", [{"body": requests.ReadTimeout("read timed out")}, {"status": 503}]
)
def test_a_write_that_may_have_arrived_is_not_sent_again(rsps, sleeps, failure):
    rsps.post(f"{API}/things", **failure)

    with pytest.raises(DemoUnavailable) as caught:
        transport(sleeps).send(post())

    assert caught.value.maybe_applied and caught.value.retryable
    assert len(rsps.calls) == 1 and sleeps.seconds == []


@pytest.mark.parametrize(
    "failure", [{"body": requests.ReadTimeout("read timed out")}, {"status": 502}]
)
def test_a_write_with_an_idempotency_key_is_sent_again_with_the_same_key(rsps, sleeps, failure):
    same_key = [matchers.header_matcher({"Idempotency-Key": "pay-42"})]
    rsps.post(f"{API}/things", match=same_key, **failure)
    rsps.post(f"{API}/things", json={"id": 1}, match=same_key)

    assert transport(sleeps).send(post(idempotency_key="pay-42")) == {"id": 1}
    assert len(sleeps.seconds) == 1


def test_a_call_declared_idempotent_is_sent_again(rsps, sleeps):
    # An RPC API reads through POST: the client says such a call is safe to repeat.
    rsps.post(f"{API}/things.list", body=requests.ReadTimeout("read timed out"))
    rsps.post(f"{API}/things.list", json={"data": []})

    assert transport(sleeps).send(post("things.list", idempotent=True)) == {"data": []}


def test_a_read_is_sent_again_until_max_retries(rsps, sleeps):
    for _ in range(4):
        rsps.get(f"{API}/things", status=503)

    with pytest.raises(DemoUnavailable) as caught:
        transport(sleeps).send(get())

    assert caught.value.status == 503 and not caught.value.maybe_applied
    assert len(rsps.calls) == 4 and len(sleeps.seconds) == 3


def test_no_retries_unless_asked(rsps, sleeps):
    rsps.get(f"{API}/things", status=500)

    with pytest.raises(DemoUnavailable):
        transport(sleeps, max_retries=0).send(get())

    assert sleeps.seconds == []


# -- backoff --------------------------------------------------------------------------------


class Extreme(random.Random):
    """A random source that always picks the low or the high end."""

    def __init__(self, high: bool) -> None:
        super().__init__()
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


@pytest.mark.parametrize("high", [False, True])
def test_backoff_doubles_with_jitter_and_is_capped(high):
    rng = Extreme(high)
    delays = [http.backoff(failures, rng) for failures in range(8)]

    full = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert delays == [d if high else d / 2 for d in full]


def test_the_backoff_is_what_the_transport_sleeps(rsps, sleeps):
    for _ in range(3):
        rsps.get(f"{API}/things", body=requests.ConnectionError("reset"))
    rsps.get(f"{API}/things", json=[])

    transport(sleeps, rng=Extreme(high=True)).send(get())

    assert sleeps.seconds == [0.5, 1.0, 2.0]


# -- 401 and 429 ------------------------------------------------------------------------------


def test_a_401_refreshes_the_token_once(rsps, sleeps):
    tokens = Tokens("old", "new")
    rsps.get(
        f"{API}/things",
        status=401,
        match=[matchers.header_matcher({"Authorization": "Bearer old"})],
    )
    rsps.get(
        f"{API}/things",
        status=401,
        match=[matchers.header_matcher({"Authorization": "Bearer new"})],
    )

    with pytest.raises(DemoAuthError) as caught:
        transport(sleeps, token_source=tokens).send(get())

    assert tokens.refreshed == ["old"] and caught.value.status == 401
    assert "old" not in str(caught.value) and "new" not in str(caught.value)


def test_a_401_without_a_token_source_is_raised(rsps, sleeps):
    rsps.get(f"{API}/things", status=401)

    with pytest.raises(DemoAuthError):
        transport(sleeps, headers={"Authorization": "Bearer key"}).send(get())


def test_a_429_is_raised_unless_the_client_waits(rsps, sleeps):
    rsps.get(f"{API}/things", status=429)

    with pytest.raises(DemoRateLimited) as caught:
        transport(sleeps).send(get())

    assert caught.value.retryable and sleeps.seconds == []


class WaitingTransport(http.Transport):
    """A client whose upstream says to wait a second, twice at the most."""

    def rate_limit_wait(self, error: http.RateLimited, waits: int) -> float | None:
        return 1.0 if waits < 2 else None


def test_a_429_waits_as_the_client_says(rsps, sleeps):
    for _ in range(3):
        rsps.get(f"{API}/things", status=429)

    api = WaitingTransport(requests.Session(), API, ERRORS, sleep=sleeps, max_retries=5)
    with pytest.raises(DemoRateLimited):
        api.send(get())

    assert sleeps.seconds == [1.0, 1.0]  # and never the backoff: a 429 is not an outage
    assert api.calls["things"] == 3


def test_wait_until_adds_the_skew_and_never_goes_below_it():
    assert http.wait_until(NOW + timedelta(seconds=3), NOW) == 3.25
    assert http.wait_until(NOW - timedelta(seconds=3), NOW) == http.RATE_LIMIT_SKEW


# -- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(404, DemoNotFound), (409, DemoError), (500, DemoUnavailable), (504, DemoUnavailable)],
)
def test_statuses_map_to_the_clients_classes(rsps, sleeps, status, error_type):
    rsps.get(f"{API}/things", status=status)

    with pytest.raises(http.HttpError) as caught:
        transport(sleeps, max_retries=0).send(get())

    assert type(caught.value) is error_type
    assert (caught.value.status, caught.value.endpoint) == (status, "things")
    assert str(caught.value).startswith(f"things: HTTP {status}")


def test_describe_leaves_out_empty_details():
    assert http.describe("things", 400, None, "", "bad", "worse") == "things: HTTP 400: bad: worse"


@pytest.mark.parametrize(
    ("family", "base"),
    [
        (teamleader_errors, teamleader_errors.TeamleaderError),
        (exact_errors, exact_errors.ExactError),
        (provider_errors, provider_errors.ProviderError),
    ],
)
def test_every_clients_errors_are_its_own_and_the_shared_kinds(family, base):
    for kind in ("AuthError", "NotFound", "ValidationFailed", "RateLimited", "Unavailable"):
        error_type = getattr(family, kind)
        assert issubclass(error_type, base) and issubclass(error_type, getattr(http, kind))
    unavailable = family.Unavailable("down", status=503, endpoint="x", maybe_applied=True)
    assert (unavailable.status, unavailable.endpoint, unavailable.maybe_applied) == (503, "x", True)
    assert unavailable.retryable and not family.NotFound("gone").retryable


def test_a_network_error_names_only_its_class(rsps, sleeps):
    rsps.get(f"{API}/things", body=requests.ConnectionError(f"{API}/things?secret=1 failed"))

    with pytest.raises(DemoUnavailable) as caught:
        transport(sleeps, max_retries=0).send(get())

    assert str(caught.value) == "things: ConnectionError" and caught.value.status is None


@pytest.mark.parametrize(("status", "body"), [(204, b""), (200, b"")])
def test_an_empty_answer_is_none(rsps, sleeps, status, body):
    rsps.get(f"{API}/things", status=status, body=body)

    assert transport(sleeps).send(get()) is None


def test_a_body_that_is_not_json_is_malformed(rsps, sleeps):
    rsps.get(f"{API}/things", body="<html>maintenance</html>")

    with pytest.raises(DemoMalformed) as caught:
        transport(sleeps).send(get())

    assert caught.value.status == 200 and not caught.value.retryable


def test_numbers_are_decoded_as_decimals(rsps, sleeps):
    rsps.get(f"{API}/things", body=b'{"amount": 10.10}')

    assert str(transport(sleeps).send(get())["amount"]) == "10.10"


class ThingSchema(Schema):
    id = fields.String(required=True)


def test_a_shape_the_schema_refuses_is_malformed(sleeps):
    api = transport(sleeps)

    assert api.load(ThingSchema, {"id": "x"}, "things") == {"id": "x"}
    with pytest.raises(DemoMalformed, match=r"things: unexpected shape at \['id'\]"):
        api.load(ThingSchema, {"id": 7}, "things")


# -- headers and accounting -------------------------------------------------------------------


def test_headers_token_and_timeout_go_with_every_call(rsps, sleeps):
    expected = {"Authorization": "Bearer t", "X-Version": "1", "X-Call": "yes"}
    rsps.post(f"{API}/things", json={}, match=[matchers.header_matcher(expected)])

    api = transport(
        sleeps, token_source=Tokens("t", "t2"), headers={"X-Version": "1"}, timeout=(2, 9)
    )
    api.send(post(headers={"X-Call": "yes"}))

    sent = rsps.calls[0].request
    assert "Idempotency-Key" not in sent.headers
    assert sent.req_kwargs["timeout"] == (2, 9)


def test_calls_are_counted_per_endpoint_retries_included(rsps, sleeps):
    rsps.get(f"{API}/things", status=503)
    rsps.get(f"{API}/things", json=[])
    rsps.get(f"{API}/other", json=[])

    api = transport(sleeps)
    api.send(get())
    api.send(get("other"))

    assert api.calls == {"things": 2, "other": 1}


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0


def test_the_limiter_is_asked_before_every_attempt(rsps, sleeps):
    rsps.get(f"{API}/things", status=502)
    rsps.get(f"{API}/things", json=[])
    limiter = CountingLimiter()

    transport(sleeps, limiter=limiter).send(get())

    assert limiter.acquired == 2
