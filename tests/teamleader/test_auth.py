"""OAuth2 against Teamleader's token endpoint (authorization code and refresh)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from responses import matchers

from collector.teamleader import (
    AuthError,
    MalformedResponse,
    OAuthError,
    StaticTokenSource,
    TeamleaderOAuth,
    Unavailable,
    build_session,
    is_invalid_grant,
)
from tests.support.payloads import teamleader_payload as payload

from .support import AUTH

TOKEN_URL = f"{AUTH}/oauth2/access_token"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def oauth(rsps) -> TeamleaderOAuth:
    return TeamleaderOAuth(
        build_session(),
        AUTH,
        "client-1",
        "secret-1",
        "https://collector.test/teamleader/callback",
        clock=lambda: NOW,
    )


def test_authorize_url(oauth):
    parts = urlsplit(oauth.authorize_url("state-123"))

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AUTH}/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["client-1"],
        "response_type": ["code"],
        "redirect_uri": ["https://collector.test/teamleader/callback"],
        "state": ["state-123"],
    }


def test_exchange_code(rsps, oauth):
    form = {
        "client_id": "client-1",
        "client_secret": "secret-1",
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://collector.test/teamleader/callback",
    }
    rsps.post(
        TOKEN_URL,
        json=payload("oauth2.access_token.response.json"),
        match=[matchers.urlencoded_params_matcher(form)],
    )

    pair = oauth.exchange_code("code-1")

    assert pair.access_token == "ACCESS_TOKEN"
    assert pair.refresh_token == "REFRESH_TOKEN"
    assert (pair.issued_at, pair.expires_at) == (NOW, NOW + timedelta(seconds=3600))
    # Refreshed 60 s before Teamleader expires it (EXPIRY_MARGIN).
    assert not pair.refresh_due(NOW + timedelta(seconds=3539))
    assert pair.refresh_due(NOW + timedelta(seconds=3540))
    assert not pair.expired(NOW) and pair.expired(NOW + timedelta(hours=1))
    assert rsps.calls[0].request.req_kwargs["timeout"] == (5, 30)


def test_refresh(rsps, oauth):
    form = {
        "client_id": "client-1",
        "client_secret": "secret-1",
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
    }
    rsps.post(
        TOKEN_URL,
        json={**payload("oauth2.access_token.response.json"), "expires_in": 1800},
        match=[matchers.urlencoded_params_matcher(form)],
    )

    pair = oauth.refresh("refresh-1")

    assert pair.expires_at == NOW + timedelta(seconds=1800)
    assert pair.refresh_due(NOW + timedelta(seconds=1740))


def test_token_pair_repr_hides_the_tokens(rsps, oauth):
    rsps.post(TOKEN_URL, json=payload("oauth2.access_token.response.json"))

    text = repr(oauth.exchange_code("code-1"))

    assert "ACCESS_TOKEN" not in text and "REFRESH_TOKEN" not in text


def test_invalid_grant(rsps, oauth):
    body = {"error": "invalid_grant", "error_description": "The refresh token is invalid."}
    rsps.post(TOKEN_URL, json=body, status=400)

    with pytest.raises(OAuthError) as caught:
        oauth.refresh("refresh-secret-value")

    assert is_invalid_grant(caught.value)
    assert caught.value.status == 400
    assert "refresh-secret-value" not in str(caught.value)
    assert "secret-1" not in str(caught.value)


@pytest.mark.parametrize("body", [b"", b"Unauthorized", b'{"errors": [{"title": "nope"}]}'])
def test_undocumented_error_bodies_give_a_generic_oauth_error(rsps, oauth, body):
    rsps.post(TOKEN_URL, body=body, status=401)

    with pytest.raises(OAuthError) as caught:
        oauth.exchange_code("code-1")

    assert caught.value.error is None
    assert caught.value.status == 401
    assert not is_invalid_grant(caught.value)


@pytest.mark.parametrize("failure", [{"status": 502}, {"body": requests.ConnectionError("down")}])
def test_token_endpoint_outage_is_unavailable_and_not_retried(rsps, oauth, failure):
    rsps.post(TOKEN_URL, **failure)

    with pytest.raises(Unavailable):
        oauth.refresh("refresh-1")
    assert len(rsps.calls) == 1  # a retried refresh could burn the single-use token


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"access_token": "a"}',
        b'{"access_token": "a", "refresh_token": "b", "expires_in": "soon"}',
    ],
)
def test_unexpected_token_response_is_malformed(rsps, oauth, body):
    rsps.post(TOKEN_URL, body=body)

    with pytest.raises(MalformedResponse):
        oauth.exchange_code("code-1")


def test_is_invalid_grant_only_for_oauth_errors():
    assert not is_invalid_grant(AuthError("401", status=401))
    assert not is_invalid_grant(ValueError("invalid_grant"))


def test_static_token_source_cannot_refresh():
    source = StaticTokenSource("s3cr3t")

    assert source.access_token() == "s3cr3t"
    with pytest.raises(AuthError):
        source.refresh("s3cr3t")
    assert "s3cr3t" not in repr(source)
