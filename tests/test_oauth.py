"""The one OAuth mechanism of Teamleader and Exact Online: the token pair's expiry rule, each
service's rules as data, the client's shared behaviour, and the single-use ``state``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from flask import session

from collector.core.oauth import LONG_AGO, TokenPair, new_state, state_matches
from collector.exact import ExactOAuth
from collector.exact import errors as exact_errors
from collector.runtime.oauth_views import STATE_TTL, OAuthFlow
from collector.teamleader import TeamleaderOAuth
from collector.teamleader import errors as tl_errors

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TL_BASE = "https://focus.teamleader.eu"
EXACT_BASE = "https://start.exactonline.be"
# (client class, base URL, token URL, the client's own errors module)
SERVICES = {
    "teamleader": (TeamleaderOAuth, TL_BASE, f"{TL_BASE}/oauth2/access_token", tl_errors),
    "exact": (ExactOAuth, EXACT_BASE, f"{EXACT_BASE}/api/oauth2/token", exact_errors),
}


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(params=list(SERVICES))
def service(request):
    oauth_class, base, token_url, errors = SERVICES[request.param]
    oauth = oauth_class(
        requests.Session(), base, "cid", "csecret", "https://x.test/cb", clock=lambda: NOW
    )
    return oauth, token_url, errors


# -- the token pair ------------------------------------------------------------------------


def test_one_expiry_rule_a_margin_before_expiry():
    pair = TokenPair.issued("a", "r", NOW, 600, timedelta(seconds=25))

    assert pair.expires_at == NOW + timedelta(seconds=600)
    assert not pair.refresh_due(NOW + timedelta(seconds=574))
    assert pair.refresh_due(NOW + timedelta(seconds=575))
    assert not pair.expired(NOW + timedelta(seconds=599))
    assert pair.expired(NOW + timedelta(seconds=600))


def test_a_pair_of_unknown_age_is_due():
    pair = TokenPair("a", "r", LONG_AGO, LONG_AGO, timedelta(seconds=60))

    assert pair.refresh_due(NOW) and pair.expired(NOW)


def test_the_pair_never_shows_its_tokens():
    text = repr(TokenPair.issued("secret-a", "secret-r", NOW, 600, timedelta(seconds=25)))

    assert "secret" not in text and "2026" in text


def test_each_service_gives_its_rules_as_data():
    # Teamleader: an hour, refreshed a minute early, and a refused token may be refreshed.
    assert TeamleaderOAuth.rules.expires_in == 3600
    assert TeamleaderOAuth.rules.refresh_margin == timedelta(seconds=60)
    assert TeamleaderOAuth.rules.refreshes_early
    # Exact: 600 s, refreshed once 30 s remain (age 570 s: Exact's too-early line, and where
    # it starts rejecting the token); a token Exact refused (401) is refreshed even if not
    # due (issue 25, point 3).
    assert ExactOAuth.rules.expires_in == 600
    assert ExactOAuth.rules.refresh_margin == timedelta(seconds=30)
    assert ExactOAuth.rules.refreshes_early
    assert ExactOAuth.rules.expires_in - ExactOAuth.rules.refresh_margin.total_seconds() >= 570


# -- the client, the same for both services ------------------------------------------------


def test_the_authorize_url_carries_the_state(service):
    oauth, _, _ = service

    query = parse_qs(urlsplit(oauth.authorize_url("st-1")).query)

    assert query["state"] == ["st-1"] and query["response_type"] == ["code"]
    assert query["client_id"] == ["cid"] and query["redirect_uri"] == ["https://x.test/cb"]


def test_a_refresh_gives_a_pair_with_the_services_margin(rsps, service):
    oauth, token_url, _ = service
    answer = {"access_token": "a2", "refresh_token": "r2", "expires_in": "900"}
    rsps.post(token_url, json=answer)

    pair = oauth.refresh("r1")

    assert (pair.access_token, pair.refresh_token) == ("a2", "r2")
    assert (pair.issued_at, pair.expires_at) == (NOW, NOW + timedelta(seconds=900))
    assert pair.refresh_margin == oauth.rules.refresh_margin
    body = parse_qs(rsps.calls[0].request.body)
    assert body["grant_type"] == ["refresh_token"] and body["refresh_token"] == ["r1"]


def test_without_expires_in_the_services_lifetime_counts(rsps, service):
    oauth, token_url, _ = service
    rsps.post(token_url, json={"access_token": "a2", "refresh_token": "r2"})

    pair = oauth.exchange_code("code")

    assert pair.expires_at == NOW + timedelta(seconds=oauth.rules.expires_in)


def test_a_refusal_is_the_clients_own_oauth_error_and_never_retried(rsps, service):
    oauth, token_url, errors = service
    rsps.post(token_url, status=400, json={"error": "invalid_grant", "error_description": "no"})

    with pytest.raises(errors.OAuthError) as caught:
        oauth.refresh("r1-secret")

    assert caught.value.error == "invalid_grant" and caught.value.status == 400
    assert "r1-secret" not in str(caught.value) and "csecret" not in str(caught.value)
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    "answer", [{"status": 503}, {"body": requests.ConnectionError("down")}], ids=["5xx", "down"]
)
def test_an_outage_is_the_clients_own_unavailable(rsps, service, answer):
    oauth, token_url, errors = service
    rsps.post(token_url, **answer)

    with pytest.raises(errors.Unavailable):
        oauth.refresh("r1")
    assert len(rsps.calls) == 1  # a retried refresh could burn the single-use token


@pytest.mark.parametrize("token", ["", None, 12345])
def test_a_token_that_is_not_a_string_is_malformed(rsps, service, token):
    oauth, token_url, errors = service
    rsps.post(token_url, json={"access_token": token, "refresh_token": "r2"})

    with pytest.raises(errors.MalformedResponse):
        oauth.exchange_code("code")


# -- the state of one authorization round trip ---------------------------------------------


def test_every_state_is_new_and_unguessable():
    states = {new_state() for _ in range(50)}

    assert len(states) == 50 and min(len(s) for s in states) >= 40


def test_states_compare_exactly():
    state = new_state()

    assert state_matches(state, state)
    assert not state_matches(state, state[:-1])
    assert not state_matches(state, "")


def test_start_keeps_the_state_in_the_session_with_what_to_remember(app):
    flow = OAuthFlow("Exact Online", "test_oauth_state")
    oauth = ExactOAuth(requests.Session(), EXACT_BASE, "cid", "cs", "https://x.test/cb")
    with app.test_request_context("/"):
        response = flow.start(oauth, country="nl")

        sent = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
        assert session["test_oauth_state"]["value"] == sent
        assert session["test_oauth_state"]["country"] == "nl"


def test_the_state_is_used_once(app):
    flow = OAuthFlow("Exact Online", "test_oauth_state")
    completed = []
    with app.test_request_context("/cb?code=the-code&state=st-1"):
        session["test_oauth_state"] = {"value": "st-1", "at": time.time(), "country": "be"}

        def finish():
            return flow.finish(lambda started, code: completed.append((started, code)), str, "/")

        assert finish().headers["Location"] == "/"
        assert "test_oauth_state" not in session
        finish()  # the same callback again: its state is gone

    [(started, code)] = completed
    assert (started["country"], code) == ("be", "the-code")


def test_the_callback_problems_name_the_service():
    flow = OAuthFlow("Teamleader", "k")
    started = {"value": "good", "at": time.time()}

    assert flow.problem(started, {"state": "good", "code": "c"}) is None
    assert "did not match" in flow.problem(started, {"state": "bad", "code": "c"})
    assert flow.problem(None, {"state": "good", "code": "c"}).startswith(
        "This Teamleader authorization was not started here"
    )
    denied = flow.problem(started, {"state": "good", "error": "access_denied"})
    assert denied == "Access was denied in Teamleader; nothing was connected."
    assert "sent no authorization code" in flow.problem(started, {"state": "good"})
    old = {"value": "good", "at": started["at"] - STATE_TTL - 1}
    assert "has expired" in flow.problem(old, {"state": "good", "code": "c"})
