"""Exact Online tokens as Exact really treats them (issue 25):

- a 401 on a token not yet due is answered with one refresh (under the lock, after a re-read)
  and one retry; a second 401 is a real AuthError (point 3);
- any refusal of the refresh token marks the connection "reconnect needed" once, with
  Exact's words, and nothing more is sent until a person connects again (point 6);
- a refresh that cannot lock the stored tokens gives up before it spends the refresh token
  (point 1: the rotated pair is never lost to a lock).

The stored connection is real (the test database); Exact is ``responses``, where an
unregistered call fails the test. Time is the test clock (``clock`` fixture).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from flask import current_app
from sqlalchemy.orm import Session

from collector.core.oauth import ConnectionStatus, TokenPair
from collector.exact import AuthError, ExactClient, ExactOAuth, Unavailable, build_session
from collector.exact import jobs as exact_jobs
from collector.exact.connection import ExactTokenSource
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.runtime import oauth_connection
from collector.runtime import setup as runtime_setup

from .support import payload

HOST = "https://start.exactonline.be"
TOKEN_URL = f"{HOST}/api/oauth2/token"
ME_URL = f"{HOST}/api/v1/current/Me"
DIVISION = 1234567


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def stored(app, clock):
    """A connection whose pair ("a1", "r1") was issued just now."""
    row = ExactConnection(country="be", host=HOST, exact_user_id="u", division=DIVISION)
    pair = TokenPair.issued("a1", "r1", clock.now(), 600, timedelta(seconds=30))
    oauth_connection.store_pair(row, pair, runtime_setup.cipher(app))
    db.session.add(row)
    db.session.commit()  # the token source reads (and locks) it in a session of its own
    return row


def token_source(app, row: ExactConnection) -> ExactTokenSource:
    oauth = ExactOAuth(build_session(), HOST, "cid", "csecret", "https://x.test/cb")
    return ExactTokenSource(row.id, oauth, runtime_setup.cipher(app))


def client(app, row: ExactConnection) -> ExactClient:
    return ExactClient(build_session(), HOST, token_source(app, row), DIVISION)


def row_now(row: ExactConnection) -> dict:
    db.session.expire_all()
    fresh = db.session.get(ExactConnection, row.id)
    cipher = runtime_setup.cipher(current_app)
    return {
        "status": fresh.status,
        "last_error": fresh.last_error,
        "access": cipher.decrypt(fresh.access_token_enc),
        "refresh": cipher.decrypt(fresh.refresh_token_enc),
    }


def bearer(call) -> str:
    return call.request.headers["Authorization"]


def new_pair(access: str = "a2", refresh: str = "r2") -> dict:
    return {"access_token": access, "refresh_token": refresh, "expires_in": "600"}


# -- point 3: a 401 before our own refresh point ------------------------------------------


def test_a_401_before_the_refresh_point_is_refreshed_once_and_the_call_retried(
    app, stored, clock, rsps
):
    clock.advance(seconds=565)  # not due by our margin; Exact is reported to refuse it already
    rsps.get(ME_URL, status=401, json={"error": {"message": {"value": "Unauthorized"}}})
    rsps.post(TOKEN_URL, json=new_pair())
    rsps.get(ME_URL, json=payload("current-me-get-response.json"))

    me = client(app, stored).me()

    assert me["UserID"]
    assert [bearer(c) for c in rsps.calls if c.request.url == ME_URL] == [
        "Bearer a1",
        "Bearer a2",
    ]
    assert parse_qs(rsps.calls[1].request.body)["refresh_token"] == ["r1"]
    assert row_now(stored) | {"last_error": None} == {
        "status": ConnectionStatus.CONNECTED,
        "last_error": None,
        "access": "a2",
        "refresh": "r2",
    }


def test_a_second_401_after_the_refresh_is_a_real_auth_error(app, stored, clock, rsps):
    clock.advance(seconds=565)
    rsps.get(ME_URL, status=401)
    rsps.post(TOKEN_URL, json=new_pair())
    rsps.get(ME_URL, status=401)

    with pytest.raises(AuthError):
        client(app, stored).me()

    assert len(rsps.calls) == 3  # one refresh, one retry, nothing more
    assert row_now(stored)["status"] == ConnectionStatus.CONNECTED  # the pair itself is fine


def test_a_401_when_another_worker_already_refreshed_uses_its_token(app, stored, clock, rsps):
    clock.advance(seconds=565)
    exact = client(app, stored)
    assert exact._api._tokens.access_token() == "a1"  # read (and kept) before the other worker
    cipher = runtime_setup.cipher(app)
    other = TokenPair.issued("a2", "r2", clock.now(), 600, timedelta(seconds=30))
    oauth_connection.store_pair(stored, other, cipher)
    db.session.commit()
    rsps.get(ME_URL, status=401)
    rsps.get(ME_URL, json=payload("current-me-get-response.json"))

    exact.me()  # no token call registered: a refresh would fail the test

    assert [bearer(c) for c in rsps.calls] == ["Bearer a1", "Bearer a2"]


def test_a_401_on_a_young_token_that_exact_will_not_refresh_yet_stays_an_auth_error(
    app, stored, clock, rsps
):
    clock.advance(seconds=100)
    rsps.get(ME_URL, status=401)
    rsps.post(
        TOKEN_URL,
        status=400,
        json={"error": "access_denied", "error_description": "access_token not expired"},
        headers={"Reason": "TooEarlyToRefreshTokens"},
    )

    with pytest.raises(AuthError):
        client(app, stored).me()

    # Too early is not a refusal of the refresh token: the connection stays as it is.
    assert row_now(stored) | {"last_error": None} == {
        "status": ConnectionStatus.CONNECTED,
        "last_error": None,
        "access": "a1",
        "refresh": "r1",
    }


# -- point 6: any refusal of the refresh token ----------------------------------------------

REFUSALS = {
    "old refresh token": (401, "unauthorized_client", "Old refresh token used."),
    "unauthorized client, no words": (401, "unauthorized_client", None),
    "invalid grant": (400, "invalid_grant", "The refresh token is invalid."),
    "chain id": (
        400,
        "invalid_grant",
        "Token is not allowed, because of invalid or empty chainId",
    ),
    "expired": (
        400,
        "invalid_request",
        "The refresh token expired at 10/11/2022 9:18:20 PM and it is now 10/28/2022 4:15:50 PM.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_any_refusal_of_the_refresh_token_needs_a_reconnect_once(app, stored, clock, rsps, case):
    status, error, description = REFUSALS[case]
    body = {"error": error, **({"error_description": description} if description else {})}
    clock.advance(seconds=580)  # due
    rsps.post(TOKEN_URL, status=status, json=body)
    exact = client(app, stored)

    with pytest.raises(AuthError):
        exact.me()
    # Nothing more is sent: no second refresh, no API call with the dead token.
    with pytest.raises(AuthError, match="not connected"):
        exact.me()
    with pytest.raises(AuthError, match="not connected"):
        client(app, stored).me()

    assert len(rsps.calls) == 1
    state = row_now(stored)
    assert state["status"] == ConnectionStatus.RECONNECT_NEEDED
    assert state["last_error"].startswith("Exact Online refused the refresh token: ")
    assert (description or error) in state["last_error"]
    assert "r1" not in state["last_error"].split()  # Exact's words, never the token


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (
            400,
            {"error": "access_denied", "error_description": "access_token not expired"},
            {"Reason": "TooEarlyToRefreshTokens"},
        ),
        (400, {"error": "invalid_client", "error_description": "Invalid client."}, {}),
        (401, {"error": "invalid_client"}, {}),
    ],
    ids=["too early", "our client credentials 400", "our client credentials 401"],
)
def test_a_refusal_that_is_not_the_refresh_tokens_keeps_the_connection(
    app, stored, clock, rsps, status, body, headers
):
    clock.advance(seconds=605)  # expired: a too-early answer cannot keep the old token
    rsps.post(TOKEN_URL, status=status, json=body, headers=headers)

    with pytest.raises(AuthError):
        client(app, stored).me()

    assert row_now(stored)["status"] == ConnectionStatus.CONNECTED


def test_the_exact_page_says_why_and_offers_to_reconnect_and_the_job_stays_quiet(
    app, stored, clock, rsps, admin_client
):
    stored.forwarding = True
    db.session.commit()
    clock.advance(seconds=580)
    rsps.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "The refresh token is invalid."},
    )
    with pytest.raises(AuthError):
        client(app, stored).me()

    # The next scheduled run sends nothing (only the one token call above is registered).
    assert exact_jobs.forward_to_exact("schedule") == "Exact Online is not connected."

    html = admin_client.get("/integrations/exact").get_data(as_text=True)
    assert "data-reconnect-needed" in html
    assert "The refresh token is invalid." in html
    assert "Reconnect Exact Online" in html
    assert len(rsps.calls) == 1


# -- point 1: the refresh token is only spent when the new pair can be stored ---------------


def _hold_the_connection_row(row_id: int) -> Session:
    """A transaction that wrote the connection row and has not committed: on PostgreSQL it
    holds the row lock, on SQLite the database's one writer lock (what a forwarding run did
    with its lease before issue 25)."""
    session = Session(db.engine)
    session.execute(
        db.update(ExactConnection).where(ExactConnection.id == row_id).values(division=DIVISION)
    )
    return session


def test_a_refresh_that_cannot_lock_the_tokens_spends_nothing(app, stored, clock):
    clock.advance(seconds=580)  # due
    source = token_source(app, stored)
    source.lock_wait = timedelta(seconds=1)
    outcome: dict = {}

    def refresh() -> None:
        with app.app_context():
            try:
                outcome["token"] = source.access_token()
            except Exception as exc:  # reported below, whatever it is
                outcome["error"] = exc

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json=new_pair())  # Exact would rotate the pair if asked
        holder = _hold_the_connection_row(stored.id)
        try:
            worker = threading.Thread(target=refresh)
            worker.start()
            worker.join(timeout=15)
            finished = not worker.is_alive()
        finally:
            holder.rollback()
            holder.close()
        worker.join(timeout=15)
        token_calls = len(mock.calls)

    assert finished, "the refresh waited for a lock nobody was going to release"
    assert isinstance(outcome.get("error"), Unavailable), outcome
    assert "nothing was refreshed" in str(outcome["error"])
    assert token_calls == 0  # the refresh token was never sent, so it still works
    assert row_now(stored) | {"last_error": None} == {
        "status": ConnectionStatus.CONNECTED,
        "last_error": None,
        "access": "a1",
        "refresh": "r1",
    }
