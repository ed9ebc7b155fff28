"""The one token source of every stored OAuth connection (Teamleader's and Exact Online's):
read the stored pair, refresh it once under a row lock, store the new pair encrypted, mark
"reconnect needed" when the refresh token is refused — each service with its own rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from collector.core.oauth import ConnectionStatus
from collector.exact import errors as exact_errors
from collector.exact.auth import ExactOAuth
from collector.exact.connection import ExactTokenSource
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.runtime import operator_alerts
from collector.runtime import setup as runtime_setup
from collector.teamleader import errors as tl_errors
from collector.teamleader.auth import TeamleaderOAuth
from collector.teamleader.connection import DbTokenSource
from collector.teamleader.models import TeamleaderConnection

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TL_AUTH = "https://focus.teamleader.eu"
EXACT_HOST = "https://start.exactonline.be"


class Service:
    """One service's connection row, token source and token endpoint, on a clock we move."""

    def __init__(self, app, name: str):
        self.name = name
        self.cipher = runtime_setup.cipher(app)
        self.now = NOW
        if name == "teamleader":
            oauth_class, base, self.source_class = TeamleaderOAuth, TL_AUTH, DbTokenSource
            self.model, self.errors = TeamleaderConnection, tl_errors
            self.token_url = f"{TL_AUTH}/oauth2/access_token"
            self.row = TeamleaderConnection(account_id="acc", webhook_token="hook")
        else:
            oauth_class, base, self.source_class = ExactOAuth, EXACT_HOST, ExactTokenSource
            self.model, self.errors = ExactConnection, exact_errors
            self.token_url = f"{EXACT_HOST}/api/oauth2/token"
            self.row = ExactConnection(country="be", host=EXACT_HOST, exact_user_id="u")
        self.oauth = oauth_class(
            requests.Session(), base, "cid", "csecret", "https://x.test/cb", clock=self.clock
        )
        self.lifetime = timedelta(seconds=self.oauth.rules.expires_in)
        self.margin = self.oauth.rules.refresh_margin

    def clock(self) -> datetime:
        return self.now

    def store(self, access: str = "a1", refresh: str = "r1", issued_at: datetime = NOW):
        self.row.access_token_enc = self.cipher.encrypt(access)
        self.row.refresh_token_enc = self.cipher.encrypt(refresh)
        self.row.token_issued_at = issued_at
        self.row.access_expires_at = issued_at + self.lifetime
        db.session.add(self.row)
        db.session.commit()  # committed: the token source reads in a session of its own

    def source(self):
        return self.source_class(self.row.id, self.oauth, self.cipher, clock=self.clock)

    def stored(self) -> dict:
        db.session.expire_all()
        row = db.session.get(self.model, self.row.id)
        return {
            "access": self.cipher.decrypt(row.access_token_enc),
            "refresh": self.cipher.decrypt(row.refresh_token_enc),
            "issued_at": row.token_issued_at,
            "expires_at": row.access_expires_at,
            "status": row.status,
            "last_error": row.last_error,
        }


@pytest.fixture
def rsps():
    """Token endpoint calls: an unregistered one fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(params=["teamleader", "exact"])
def service(app, request) -> Service:
    return Service(app, request.param)


def answer(access: str = "a2", refresh: str = "r2") -> dict:
    return {"access_token": access, "refresh_token": refresh, "expires_in": "600"}


def test_a_token_not_due_is_used_as_stored(service, rsps):
    service.store()
    service.now = NOW + service.lifetime - service.margin - timedelta(seconds=1)

    assert service.source().access_token() == "a1"
    assert len(rsps.calls) == 0


def test_a_due_token_is_refreshed_once_and_stored_encrypted(service, rsps):
    service.store()
    service.now = NOW + service.lifetime - service.margin
    # Tokens long and distinctive enough that ciphertext cannot hold them by chance.
    access, refresh = "access-token-issued-second", "refresh-token-issued-second"
    rsps.post(service.token_url, json=answer(access, refresh))
    source = service.source()

    assert source.access_token() == access
    assert source.access_token() == access  # the new pair is kept: no second refresh

    assert parse_qs(rsps.calls[0].request.body)["refresh_token"] == ["r1"]
    stored = service.stored()
    assert (stored["access"], stored["refresh"]) == (access, refresh)
    assert stored["issued_at"] == service.now
    assert stored["expires_at"] == service.now + timedelta(seconds=600)
    assert source.refreshes == 1
    row = db.session.get(service.model, service.row.id)
    assert access not in row.access_token_enc and refresh not in row.refresh_token_enc


def test_a_worker_that_waited_for_the_lock_uses_the_token_another_stored(service, rsps):
    service.store()
    stale = service.source()
    assert stale.access_token() == "a1"
    service.store(access="a2", refresh="r2")  # another worker refreshed meanwhile

    assert stale.refresh("a1") == "a2"
    assert len(rsps.calls) == 0 and stale.refreshes == 0


def test_a_refused_token_not_yet_due_is_refreshed(service, rsps):
    # A 401 means the token is no longer accepted: refreshed even before it is due (Exact
    # rejects tokens up to ~30 s early, issue 25; Teamleader has no too-early rule).
    service.store()
    rsps.post(service.token_url, json=answer())

    assert service.source().refresh("a1") == "a2"
    assert service.stored()["access"] == "a2"


REFUSED = {
    "teamleader": ({"error": "invalid_grant"}, 400, "Teamleader refused the refresh token"),
    "exact": (
        {"error": "unauthorized_client", "error_description": "Old refresh token used."},
        401,
        "Exact Online refused the refresh token",
    ),
}


def test_a_refused_refresh_token_needs_a_reconnect(service, rsps):
    body, status, note = REFUSED[service.name]
    service.store()
    service.now = NOW + service.lifetime
    rsps.post(service.token_url, json=body, status=status)

    with pytest.raises(service.errors.AuthError):
        service.source().access_token()

    stored = service.stored()
    assert stored["status"] == ConnectionStatus.RECONNECT_NEEDED
    assert stored["last_error"].startswith(note) and "connect again" in stored["last_error"]
    assert stored["refresh"] == "r1"
    # The admins' next digest tells of it, written in the transaction that marked the row.
    [alert] = operator_alerts.waiting()
    assert (alert.kind, alert.subject) == (
        operator_alerts.CONNECTION,
        service.source().oauth.service,
    )
    assert alert.fact.startswith(note) and "connect again" in alert.fact
    with pytest.raises(service.errors.AuthError, match="is not connected"):
        service.source().access_token()
    assert len(operator_alerts.waiting()) == 1  # not connected now: no more refusals


def test_another_refusal_keeps_the_connection(service, rsps):
    service.store()
    service.now = NOW + service.lifetime
    rsps.post(service.token_url, json={"error": "invalid_client"}, status=403)

    # Teamleader passes the refusal on as it is; Exact reports it as a failed refresh.
    raised = tl_errors.OAuthError if service.name == "teamleader" else exact_errors.AuthError
    with pytest.raises(raised):
        service.source().access_token()
    assert service.stored()["status"] == ConnectionStatus.CONNECTED


def test_exact_too_early_keeps_the_current_token_while_it_lasts(app, rsps):
    exact = Service(app, "exact")
    exact.store()
    exact.now = NOW + exact.lifetime - exact.margin  # due by our clock, not by Exact's
    rsps.post(
        exact.token_url,
        status=400,
        json={"error": "access_denied", "error_description": "access_token not expired"},
        headers={"Reason": "TooEarlyToRefreshTokens"},
    )

    assert exact.source().access_token() == "a1"
    assert exact.stored()["status"] == ConnectionStatus.CONNECTED


def test_exact_keep_alive_refreshes_an_idle_connection_only(app, rsps):
    exact = Service(app, "exact")
    exact.store()
    exact.now = NOW + timedelta(days=6)
    assert exact.source().keep_alive() is False

    exact.now = NOW + timedelta(days=7)
    rsps.post(exact.token_url, json=answer())
    assert exact.source().keep_alive() is True
    assert exact.stored()["access"] == "a2"
