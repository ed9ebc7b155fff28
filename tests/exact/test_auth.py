"""OAuth against the Exact token endpoint, with the recorded payloads (reference §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from responses import matchers

from collector.exact import (
    COUNTRIES,
    REFRESH_BEFORE_EXPIRY,
    ExactOAuth,
    MalformedResponse,
    OAuthError,
    StaticTokenSource,
    TokenPair,
    Unavailable,
    build_session,
    host_for,
)

from .support import HOST, payload, raw

TOKEN_URL = f"{HOST}/api/oauth2/token"
REQUEST = payload("oauth-token-request-authorization-code.json")
NOW = datetime(2026, 6, 25, 16, 16, 40, tzinfo=UTC)


@pytest.fixture
def oauth() -> ExactOAuth:
    return ExactOAuth(
        build_session(),
        HOST,
        REQUEST["client_id"],
        REQUEST["client_secret"],
        REQUEST["redirect_uri"],
        clock=lambda: NOW,
    )


def test_host_for_every_country():
    assert host_for("https://start.exactonline.{country}", "co.uk") == (
        "https://start.exactonline.co.uk"
    )
    assert host_for("http://127.0.0.1:5000/exact/{country}/", "be") == (
        "http://127.0.0.1:5000/exact/be"
    )
    assert set(COUNTRIES) == {"nl", "be", "de", "co.uk", "com", "es", "fr"}
    with pytest.raises(ValueError, match="unknown Exact Online country 'xx'"):
        host_for("https://start.exactonline.{country}", "xx")


def test_authorize_url(oauth):
    parts = urlsplit(oauth.authorize_url("state-1", force_login=True))
    query = parse_qs(parts.query)

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{HOST}/api/oauth2/auth"
    assert query == {
        "client_id": [REQUEST["client_id"]],
        "redirect_uri": [REQUEST["redirect_uri"]],
        "response_type": ["code"],
        "state": ["state-1"],
        "force_login": ["1"],
    }
    assert "force_login" not in oauth.authorize_url("state-1")


def test_exchange_code_posts_the_documented_form_and_reads_a_string_expires_in(rsps, oauth):
    rsps.post(
        TOKEN_URL,
        body=raw("oauth-token-response.json"),
        match=[matchers.urlencoded_params_matcher(REQUEST)],
    )

    # The code arrives URL-encoded on the redirect; Exact wants it decoded (%21 → !).
    pair = oauth.exchange_code(REQUEST["code"].replace("!", "%21"))

    response = payload("oauth-token-response.json")
    assert pair.access_token == response["access_token"]
    assert pair.refresh_token == response["refresh_token"]
    assert pair.issued_at == NOW
    assert pair.expires_at == NOW + timedelta(seconds=600)


def test_refresh_sends_the_refresh_grant(rsps, oauth):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "old-refresh",
        "client_id": REQUEST["client_id"],
        "client_secret": REQUEST["client_secret"],
    }
    rsps.post(
        TOKEN_URL,
        body=raw("oauth-token-response.json"),
        match=[matchers.urlencoded_params_matcher(form)],
    )

    assert oauth.refresh("old-refresh").expires_at == NOW + timedelta(seconds=600)
    assert len(rsps.calls) == 1


def test_refresh_due_30_seconds_before_expiry():
    # Age 570 s: Exact's too-early line, and where it starts rejecting the token (issue 25).
    pair = TokenPair.issued("a", "r", NOW, 600, REFRESH_BEFORE_EXPIRY)

    assert not pair.refresh_due(NOW + timedelta(seconds=569))
    assert pair.refresh_due(NOW + timedelta(seconds=570))
    assert not pair.expired(NOW + timedelta(seconds=599))
    assert pair.expired(NOW + timedelta(seconds=600))


def test_tokens_never_show_in_reprs(oauth):
    pair = TokenPair.issued("secret-access", "secret-refresh", NOW, 600, REFRESH_BEFORE_EXPIRY)

    assert "secret" not in repr(pair)
    assert REQUEST["client_secret"] not in repr(oauth)
    assert "s3cr3t" not in repr(StaticTokenSource("s3cr3t"))


def test_old_refresh_token(rsps, oauth):
    body = {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    rsps.post(TOKEN_URL, json=body, status=401)

    with pytest.raises(OAuthError) as caught:
        oauth.refresh("old-refresh")

    error = caught.value
    assert error.old_refresh_token and error.needs_consent
    assert not error.too_early and not error.expired_refresh_token
    assert error.error == "unauthorized_client" and error.status == 401
    assert not error.transient
    assert "old-refresh" not in str(error)
    assert REQUEST["client_secret"] not in str(error)
    assert len(rsps.calls) == 1  # never retried


def test_too_early(rsps, oauth):
    body = {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    rsps.post(TOKEN_URL, json=body, status=400, headers={"Reason": "TooEarlyToRefreshTokens"})

    with pytest.raises(OAuthError) as caught:
        oauth.refresh("refresh-1")

    assert caught.value.too_early
    assert caught.value.reason == "TooEarlyToRefreshTokens"
    assert not caught.value.needs_consent


def test_expired_refresh_token_from_the_recorded_body(rsps, oauth):
    rsps.post(TOKEN_URL, body=raw("oauth-error-refresh-token-expired.json"), status=400)

    with pytest.raises(OAuthError) as caught:
        oauth.refresh("refresh-1")

    assert caught.value.expired_refresh_token and caught.value.needs_consent
    assert caught.value.error == "invalid_request"
    assert not caught.value.old_refresh_token and not caught.value.too_early


def test_token_endpoint_outage_and_lost_answer(rsps, oauth):
    rsps.post(TOKEN_URL, body="<html>down</html>", status=503)
    rsps.post(TOKEN_URL, body=requests.ReadTimeout())
    rsps.post(TOKEN_URL, body=requests.ConnectTimeout())

    with pytest.raises(Unavailable) as outage:
        oauth.refresh("refresh-1")
    with pytest.raises(Unavailable) as lost:
        oauth.refresh("refresh-1")
    with pytest.raises(Unavailable) as never_sent:
        oauth.refresh("refresh-1")

    assert outage.value.transient and outage.value.status == 503
    # Exact may have rotated the refresh token before the answer was lost.
    assert lost.value.maybe_applied
    assert not never_sent.value.maybe_applied


def test_a_token_response_without_tokens_is_malformed(rsps, oauth):
    rsps.post(TOKEN_URL, json={"token_type": "bearer", "expires_in": "600"})

    with pytest.raises(MalformedResponse):
        oauth.exchange_code("code")
