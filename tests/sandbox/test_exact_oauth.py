"""OAuth 2.0 of the Exact Online emulator (reference §1)."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from sandbox.exact.consent import authorization_code

from .exact_support import CLIENT_ID, REDIRECT_URI, Caller, make_app


@pytest.fixture
def caller() -> Caller:
    return Caller(make_app())


def _auth_query(**extra) -> dict:
    return {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "state": "xyz",
        **extra,
    }


def test_consent_page_offers_authorize_and_deny(caller):
    page = caller.client.get("/be/api/oauth2/auth", query_string=_auth_query())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Authorize" in text and "Deny" in text
    assert "1234567 Demo BV" in text and 'value="xyz"' in text


def test_user_is_unknown_on_another_country_host(caller):
    page = caller.client.get("/nl/api/oauth2/auth", query_string=_auth_query())
    assert "unknown on this Exact Online site" in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True)
    assert Caller(caller.app, country="nl").authorize().status_code == 403


def test_unknown_client_is_refused_without_redirect(caller):
    page = caller.client.get("/be/api/oauth2/auth", query_string=_auth_query(client_id="x"))
    assert page.status_code == 400


def test_deny_redirects_with_access_denied(caller):
    response = caller.authorize(decision="deny")
    assert response.status_code == 302
    assert "error=access_denied" in response.headers["Location"]
    assert "state=s1" in response.headers["Location"]


def test_code_needs_url_decoding(caller):
    location = caller.authorize().headers["Location"]
    assert "%21" in location  # the '!' of Exact's codes arrives encoded
    code = caller.code()
    assert "!" in code
    encoded = code.replace("!", "%21")
    assert caller.exchange(encoded).status_code == 400


def test_token_response_has_expires_in_as_a_string(caller):
    response = caller.exchange(caller.code())
    body = response.get_json()
    assert response.status_code == 200
    assert list(body) == ["access_token", "token_type", "expires_in", "refresh_token"]
    assert body["expires_in"] == "600"
    assert body["token_type"] == "bearer"


def test_code_is_single_use(caller):
    code = caller.code()
    assert caller.exchange(code).status_code == 200
    again = caller.exchange(code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_code_expires_after_code_ttl(caller):
    code = caller.code()
    caller.emulator.clock.advance(181)
    assert caller.exchange(code).status_code == 400


def test_redirect_uri_must_equal_the_one_sent_to_auth(caller):
    code = caller.code()
    assert caller.exchange(code, redirect_uri=REDIRECT_URI + "/other").status_code == 400


def test_wrong_client_secret_is_refused(caller):
    response = caller.token(
        client_secret="nope", code=caller.code(), grant_type="authorization_code"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client"


def test_refresh_too_early_is_refused_and_keeps_the_refresh_token(caller):
    tokens = caller.login()
    caller.emulator.clock.advance(500)
    early = caller.refresh(tokens["refresh_token"])
    assert early.status_code == 400
    assert early.get_json() == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert early.headers["Reason"] == "TooEarlyToRefreshTokens"
    caller.emulator.clock.advance(75)
    assert caller.refresh(tokens["refresh_token"]).status_code == 200


def test_refresh_rotates_and_the_old_token_is_dead(caller):
    tokens = caller.login()
    caller.emulator.clock.advance(580)
    fresh = caller.refresh(tokens["refresh_token"]).get_json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["expires_in"] == "600"
    caller.emulator.clock.advance(580)
    reused = caller.refresh(tokens["refresh_token"])
    assert reused.status_code == 401
    assert reused.get_json() == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    assert caller.refresh(fresh["refresh_token"]).status_code == 200


def test_refresh_token_expires_after_thirty_days(caller):
    tokens = caller.login()
    caller.emulator.clock.advance(30 * 24 * 3600 + 1)
    response = caller.refresh(tokens["refresh_token"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.get_json()["error_description"].startswith("The refresh token expired at ")
    assert "and it is now" in response.get_json()["error_description"]


def test_access_token_expires_after_600_seconds(caller):
    caller.login()
    assert caller.get("current/Me", division=None).status_code == 200
    caller.emulator.clock.advance(600)
    assert caller.get("current/Me", division=None).status_code == 401


def test_tokens_are_bound_to_their_country_host(caller):
    caller.login()
    other = Caller(caller.app, country="nl")
    other.tokens = caller.tokens
    assert other.get("current/Me", division=None).status_code == 401


def test_unknown_token_is_refused(caller):
    caller.tokens = {"access_token": "made-up"}
    response = caller.get("current/Me", division=None)
    assert response.status_code == 401
    assert "X-RateLimit-Limit" not in response.headers


def test_token_calls_are_logged_with_outcome_and_age(caller):
    tokens = caller.login()
    caller.emulator.clock.advance(100)
    caller.refresh(tokens["refresh_token"])
    log = caller.client.get("/_control/tokens").get_json()
    assert [(c["grant"], c["outcome"]) for c in log] == [
        ("authorization_code", "ok"),
        ("refresh_token", "access_denied"),
    ]
    assert log[1]["access_token_age"] == pytest.approx(100, abs=1)


def test_consent_helper_returns_a_usable_code():
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        url = f"{base}/be/api/oauth2/auth?{urlencode(_auth_query())}"
        code = authorization_code(url)
        assert code and "!" in code
        assert Caller(app).exchange(code).status_code == 200
        assert authorization_code(url, decision="deny") is None
    finally:
        server.shutdown()
