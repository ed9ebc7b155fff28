"""Rate limit (reference §4), injected faults and call counters (control API)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.teamleader import faults

from .conftest import authorization_code, exchange, make_emulator


@pytest.fixture
def limited():
    """An emulator allowing 3 calls per 0.3 s, and a Bearer header for it."""
    app = make_emulator(RATE_LIMIT=3, RATE_WINDOW_SECONDS=0.3)
    client = app.test_client()
    token = exchange(client, authorization_code(client)).get_json()["access_token"]
    return client, {"Authorization": f"Bearer {token}"}


def _parse_reset(value: str) -> datetime:
    # "2021-06-15T10:51:23.035+0100": milliseconds, offset without a colon.
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_headers_count_down_then_429_then_recover(limited):
    client, headers = limited
    remaining = []
    for _ in range(3):
        response = client.post("/users.me", json={}, headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]

    refused = client.post("/users.me", json={}, headers=headers)
    assert refused.status_code == 429
    assert refused.get_json()["errors"][0]["title"]
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset = _parse_reset(refused.headers["X-RateLimit-Reset"])
    assert reset.utcoffset() == timedelta(0)
    now = datetime.now(UTC)  # the emulator's own clock is the real one
    assert now - timedelta(seconds=1) < reset < now + timedelta(seconds=1)

    time.sleep(max((reset - datetime.now(UTC)).total_seconds(), 0) + 0.05)
    assert client.post("/users.me", json={}, headers=headers).status_code == 200


def test_reset_header_matches_the_reference_format(api):
    value = api("users.me").headers["X-RateLimit-Reset"]
    assert len(value) == len("2021-06-15T10:51:23.035+0100")
    assert value.endswith("+0000")
    _parse_reset(value)


def test_rate_limit_is_per_client_id():
    app = make_emulator(
        RATE_LIMIT=1, CLIENTS={"collector-sandbox": "sandbox-secret", "other": "other-secret"}
    )
    client = app.test_client()
    mine = exchange(client, authorization_code(client)).get_json()["access_token"]
    code = client.post(
        "/oauth2/authorize",
        data={
            "client_id": "other",
            "response_type": "code",
            "redirect_uri": "https://other.example/cb",
            "decision": "grant",
        },
    ).headers["Location"]
    theirs = client.post(
        "/oauth2/access_token",
        json={
            "client_id": "other",
            "client_secret": "other-secret",
            "grant_type": "authorization_code",
            "code": code.split("code=")[1],
            "redirect_uri": "https://other.example/cb",
        },
    ).get_json()["access_token"]
    assert client.post("/users.me", headers={"Authorization": f"Bearer {mine}"}).status_code == 200
    assert client.post("/users.me", headers={"Authorization": f"Bearer {mine}"}).status_code == 429
    assert (
        client.post("/users.me", headers={"Authorization": f"Bearer {theirs}"}).status_code == 200
    )


def test_injected_errors_hit_one_endpoint_n_times(tl, api):
    fault = tl.post(
        "/_control/faults", json={"kind": "error", "count": 2, "endpoint": "invoices.list"}
    )
    assert fault.status_code == 201
    assert api("users.me").status_code == 200
    first, second = api("invoices.list"), api("invoices.list")
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.get_json()["errors"][0]["title"]
    assert "X-RateLimit-Remaining" in first.headers
    assert api("invoices.list").status_code == 200
    assert tl.get("/_control/faults").get_json()["data"] == []


def test_injected_503_and_429(tl, api):
    tl.post("/_control/faults", json={"kind": "error", "status": 503})
    assert api("users.me").status_code == 503
    tl.post("/_control/faults", json={"kind": "rate_limit", "count": 1})
    refused = api("users.me")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert api("users.me").status_code == 200


def test_injected_latency(tl, api, emulator):
    tl.post("/_control/faults", json={"kind": "latency", "ms": 80, "endpoint": "users.me"})
    started = time.monotonic()
    assert api("users.me").status_code == 200
    assert time.monotonic() - started >= 0.08  # a floor only: a busy machine adds, never takes
    # Latency holds until cleared, for its endpoint only. What a call would be delayed by is
    # read from the emulator's own decision, not timed: a stopwatch flakes under load.
    [fault] = tl.get("/_control/faults").get_json()["data"]
    assert (fault["kind"], fault["ms"], fault["remaining"]) == ("latency", 80, None)
    assert faults.take(emulator.store, "users.me").delay_ms == 80
    assert faults.take(emulator.store, "invoices.list").delay_ms == 0
    assert tl.delete("/_control/faults").status_code == 204
    assert tl.get("/_control/faults").get_json()["data"] == []
    assert faults.take(emulator.store, "users.me") == faults.Injection()
    assert api("users.me").status_code == 200


def test_token_endpoint_fault(tl, tokens):
    tl.post("/_control/faults", json={"kind": "error", "endpoint": "oauth2.access_token"})
    response = exchange(tl, authorization_code(tl))
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"


def test_bad_fault_is_400(tl):
    assert tl.post("/_control/faults", json={"kind": "meteor"}).status_code == 400
    assert tl.post("/_control/faults", json={"kind": "error", "status": 404}).status_code == 400


def test_call_counters_and_reset(tl, api):
    tl.delete("/_control/calls")
    api("invoices.list")
    api("invoices.list")
    api("users.me")
    counts = tl.get("/_control/calls").get_json()["data"]
    assert counts == {"invoices.list": 2, "users.me": 1}
    assert tl.delete("/_control/calls").status_code == 204
    assert tl.get("/_control/calls").get_json()["data"] == {}
