"""Rate limits (reference §3), injected faults and the call log of the Exact emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .exact_support import DIVISION, OTHER_DIVISION, logged_in

MINUTELY = ("X-RateLimit-Minutely-Limit", "X-RateLimit-Minutely-Remaining")
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def test_every_answer_carries_the_six_headers_with_millisecond_resets():
    exact = logged_in()
    response = exact.get("financial/Journals")
    headers = response.headers
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Remaining"] == "4999"
    assert headers["X-RateLimit-Minutely-Limit"] == "60"
    assert headers["X-RateLimit-Minutely-Remaining"] == "59"
    now = exact.emulator.clock.now()
    daily_reset = datetime.fromtimestamp(int(headers["X-RateLimit-Reset"]) / 1000, UTC)
    assert daily_reset == datetime(2026, 3, 16, tzinfo=UTC)  # next UTC midnight
    minute_reset = int(headers["X-RateLimit-Minutely-Reset"])
    assert minute_reset > 1.6e12  # epoch milliseconds
    assert now < datetime.fromtimestamp(minute_reset / 1000, UTC) <= now + timedelta(seconds=60)
    failing = exact.get("crm/Nothing")
    assert failing.status_code == 404 and failing.headers["X-RateLimit-Remaining"] == "4998"


def test_minute_exhausted_gives_429_with_only_minutely_headers_then_recovers():
    exact = logged_in(MINUTE_LIMIT=3, MINUTE_WINDOW=0.5)
    exact.emulator.clock.set(datetime(2026, 3, 15, 10, 0, 0, 100000, tzinfo=UTC))
    remaining = [exact.get("current/Me", division=None).headers for _ in range(3)]
    assert [h["X-RateLimit-Minutely-Remaining"] for h in remaining] == ["2", "1", "0"]
    refused = exact.get("current/Me", division=None)
    assert refused.status_code == 429
    assert all(name in refused.headers for name in MINUTELY)
    assert not any(name in refused.headers for name in DAILY)
    reset = int(refused.headers["X-RateLimit-Minutely-Reset"]) / 1000
    exact.emulator.clock.set(datetime.fromtimestamp(reset, UTC))
    assert exact.get("current/Me", division=None).status_code == 200


def test_day_exhausted_gives_429_with_daily_headers_until_midnight():
    exact = logged_in(DAILY_LIMIT=2)
    assert exact.get("financial/Journals").status_code == 200
    assert exact.get("financial/Journals").headers["X-RateLimit-Remaining"] == "0"
    exact.emulator.clock.advance(120)  # a new minute does not help
    refused = exact.get("financial/Journals")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Remaining" not in refused.headers
    exact.emulator.clock.set(datetime(2026, 3, 16, 0, 0, 1, tzinfo=UTC))
    exact.login()  # the old access token has expired meanwhile
    assert exact.get("financial/Journals").headers["X-RateLimit-Remaining"] == "1"


def test_limits_count_per_division():
    exact = logged_in(MINUTE_LIMIT=1)
    exact.emulator.clock.set(datetime(2026, 3, 15, 10, 0, 1, tzinfo=UTC))
    assert exact.get("financial/Journals").status_code == 200
    assert exact.get("financial/Journals").status_code == 429
    assert exact.get("financial/Journals", division=OTHER_DIVISION).status_code == 200


def test_limits_can_be_changed_through_the_control_api():
    exact = logged_in()
    response = exact.client.post("/_control/limits", json={"minute_limit": 1, "minute_window": 5})
    assert response.get_json() == {"minute_limit": 1, "minute_window": 5.0, "daily_limit": 5000}
    exact.emulator.clock.set(datetime(2026, 3, 15, 10, 0, 1, tzinfo=UTC))
    assert exact.get("financial/Journals").headers["X-RateLimit-Minutely-Limit"] == "1"
    assert exact.get("financial/Journals").status_code == 429
    exact.client.post("/_control/clock", json={"advance": 5})
    assert exact.get("financial/Journals").status_code == 200


def test_faults_fail_the_next_matching_calls():
    exact = logged_in()
    fault = {"method": "GET", "path_contains": "Journals", "status": 503, "count": 2}
    assert exact.client.post("/_control/faults", json=fault).status_code == 201
    assert exact.get("vat/VATCodes").status_code == 200
    first = exact.get("financial/Journals")
    assert first.status_code == 503
    assert "A problem has occurred" in first.get_json()["error"]["message"]["value"]
    assert "X-RateLimit-Remaining" in first.headers
    assert exact.get("financial/Journals").status_code == 503
    assert exact.get("financial/Journals").status_code == 200


def test_faults_can_hit_the_token_endpoint():
    exact = logged_in()
    exact.client.post("/_control/faults", json={"path_contains": "oauth2/token", "status": 500})
    exact.emulator.clock.advance(580)
    assert exact.refresh(exact.tokens["refresh_token"]).status_code == 500
    assert exact.refresh(exact.tokens["refresh_token"]).status_code == 200


def test_calls_are_logged_and_can_be_cleared():
    exact = logged_in()
    exact.get("crm/Accounts", {"$top": "1"})
    exact.get("crm/Accounts", division=999)
    calls = exact.client.get("/_control/calls").get_json()
    assert [(c["division"], c["method"], c["status"]) for c in calls] == [
        (DIVISION, "GET", 200),
        (999, "GET", 403),
    ]
    assert calls[0]["path"].startswith(f"/be/api/v1/{DIVISION}/crm/Accounts?")
    assert calls[0]["at"] == pytest.approx(exact.emulator.clock.timestamp(), abs=5)
    assert exact.client.delete("/_control/calls").status_code == 204
    assert exact.client.get("/_control/calls").get_json() == []
