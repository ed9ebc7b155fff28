"""The Exact Online emulator is as strict as Exact about tokens (issue 25, points 3 and 6):
a token is refused in the last ~30 s of its life, a refresh token is refused in each of
the ways Exact words it, and its clock can step with every call or follow the test's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.sandbox.exact_support import logged_in

REJECT_BEFORE_EXPIRY = 30  # seconds: Exact rejects tokens this long before expires_in runs out


@pytest.fixture
def caller():
    return logged_in()


def _me(caller) -> int:
    return caller.get("current/Me", division=None).status_code


def test_an_access_token_is_refused_in_its_last_thirty_seconds(caller):
    lifetime = int(caller.tokens["expires_in"])
    caller.emulator.clock.advance(lifetime - REJECT_BEFORE_EXPIRY - 1)
    assert _me(caller) == 200

    caller.emulator.clock.advance(1)  # 30 s left: expires_in has not run out, yet refused

    response = caller.get("current/Me", division=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_from_the_same_moment_a_refresh_is_no_longer_too_early(caller):
    caller.emulator.clock.advance(int(caller.tokens["expires_in"]) - REJECT_BEFORE_EXPIRY)
    assert _me(caller) == 401

    refreshed = caller.refresh(caller.tokens["refresh_token"])

    assert refreshed.status_code == 200, refreshed.get_json()
    caller.tokens = refreshed.get_json()
    assert _me(caller) == 200


REFUSALS = {
    "unknown": (400, "invalid_grant", "The refresh token is invalid."),
    "used": (401, "unauthorized_client", "Old refresh token used."),
    "expired": (400, "invalid_request", "The refresh token expired at"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_refusal_of_a_refresh_token_as_exact_words_it(caller, case):
    first = caller.tokens["refresh_token"]
    if case == "unknown":
        refresh_token = first[:-4] + "XXXX"
    elif case == "used":
        caller.emulator.clock.advance(600)
        assert caller.refresh(first).status_code == 200
        refresh_token = first
    else:
        caller.emulator.clock.advance(30 * 24 * 3600)
        refresh_token = first

    response = caller.refresh(refresh_token)

    status, error, description = REFUSALS[case]
    body = response.get_json()
    assert response.status_code == status
    assert body["error"] == error
    assert body["error_description"].startswith(description)


def test_a_refresh_token_of_a_withdrawn_consent_is_refused_as_invalid_grant(caller):
    caller.client.post("/_control/revoke")

    response = caller.refresh(caller.tokens["refresh_token"])

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_a_fault_on_the_token_endpoint_answers_its_json_body(caller):
    refusal = {
        "error": "invalid_grant",
        "error_description": "Token is not allowed, because of invalid or empty chainId",
    }
    fault = {"path_contains": "/oauth2/token", "status": 400, "body": refusal}
    assert caller.client.post("/_control/faults", json=fault).status_code == 201

    response = caller.refresh(caller.tokens["refresh_token"])

    assert response.status_code == 400
    assert response.get_json() == refusal
    # Only the injected answer: the refresh token itself was not used up.
    caller.emulator.clock.advance(600)
    assert caller.refresh(caller.tokens["refresh_token"]).status_code == 200


def test_a_fault_without_a_body_is_still_a_server_error(caller):
    fault = {"path_contains": "/oauth2/token", "status": 503}
    assert caller.client.post("/_control/faults", json=fault).status_code == 201

    response = caller.refresh(caller.tokens["refresh_token"])

    assert response.status_code == 503
    assert response.get_json()["error"] == "server_error"


class FollowedClock:
    """Stands in for the application's test clock."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> datetime:
        self.at = at
        return at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def test_the_clock_steps_after_every_rest_call_only(caller):
    clock = caller.emulator.clock
    clock.follow(FollowedClock(clock.now()))  # time stands still but for the steps
    answer = caller.client.post("/_control/clock", json={"per_call": 20}).get_json()
    assert answer["per_call"] == 20
    start = clock.now()

    assert _me(caller) == 200  # a REST call: +20 s
    caller.client.get("/_control/state")  # a control call: no step
    caller.refresh(caller.tokens["refresh_token"])  # a token call (too early here): no step
    assert _me(caller) == 200  # +20 s

    assert clock.now() - start == timedelta(seconds=40)
    assert caller.client.post("/_control/clock", json={"per_call": -1}).status_code == 400


def test_the_clock_can_follow_the_tests_clock(caller):
    clock = caller.emulator.clock
    outside = FollowedClock(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))

    clock.follow(outside)
    clock.per_call = 5
    assert clock.now() == outside.at
    clock.advance(60)  # moving the emulator's clock moves the followed one
    assert outside.at == datetime(2027, 1, 1, 12, 1, tzinfo=UTC)
    outside.advance(seconds=30)  # and the other way round
    assert clock.now() == datetime(2027, 1, 1, 12, 1, 30, tzinfo=UTC)
    clock.tick()
    assert outside.at == datetime(2027, 1, 1, 12, 1, 35, tzinfo=UTC)

    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock.per_call == 0
