"""Tokens against the sandbox: one refresh for many workers, rotation, reconnect needed."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import AuthError, OAuthError
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection
from tests.conftest import login

WORKERS = 8


def work(app, connection_id):
    """One worker: its own app context, client and DB connection, as an rq job has."""
    with app.app_context():
        connection = db.session.get(TeamleaderConnection, connection_id)
        client = teamleader_setup.client(app, connection)
        return client.users_me()["account_id"]


def run_workers(app, connection):
    connection_id = connection.id
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda _: work(app, connection_id), range(WORKERS)))


def stored_refresh_token(app, connection_id):
    db.session.expire_all()
    row = db.session.get(TeamleaderConnection, connection_id)
    return row, runtime_setup.cipher(app).decrypt(row.refresh_token_enc)


@pytest.mark.postgres
def test_expired_on_the_server_eight_workers_one_refresh(tl_app, sandbox, connection):
    _, old_refresh = stored_refresh_token(tl_app, connection.id)
    sandbox.control("POST", "clock", json={"advance_seconds": 3700})  # Teamleader expires it
    sandbox.reset_calls()

    accounts = run_workers(tl_app, connection)

    assert accounts == [connection.account_id] * WORKERS  # every call succeeded
    calls = sandbox.calls()
    assert calls["oauth2.access_token"] == 1
    row, new_refresh = stored_refresh_token(tl_app, connection.id)
    assert row.status == ConnectionStatus.CONNECTED and new_refresh != old_refresh
    # The rotated refresh token is dead, as at Teamleader.
    with pytest.raises(OAuthError) as refused:
        teamleader_setup.oauth(tl_app).refresh(old_refresh)
    assert refused.value.error == "invalid_grant"
    assert work(tl_app, connection.id) == connection.account_id  # the connection survives


@pytest.mark.postgres
def test_expired_here_eight_workers_one_refresh(tl_app, sandbox, connection):
    connection.access_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sandbox.reset_calls()

    accounts = run_workers(tl_app, connection)

    assert accounts == [connection.account_id] * WORKERS
    assert sandbox.calls()["oauth2.access_token"] == 1
    assert sandbox.calls()["users.me"] == WORKERS  # no call was refused with a stale token


def test_revoked_access_marks_the_connection_for_reconnect(tl_app, sandbox, connection, client):
    sandbox.control("POST", "revoke")
    with pytest.raises(AuthError):
        work(tl_app, connection.id)
    db.session.expire_all()
    row = db.session.get(TeamleaderConnection, connection.id)
    assert row.status == ConnectionStatus.RECONNECT_NEEDED
    login(client, "admin@example.com")
    page = client.get("/integrations/teamleader").get_data(as_text=True)
    assert "Reconnect needed" in page and "Reconnect Teamleader" in page


def test_disconnect_unregisters_webhooks_and_forgets_tokens(tl_app, sandbox, connection):
    assert sandbox.control("GET", "webhooks")["data"]
    teamleader_connection.disconnect(connection, teamleader_setup.client(tl_app, connection))
    assert sandbox.control("GET", "webhooks")["data"] == []
    db.session.expire_all()
    row = db.session.get(TeamleaderConnection, connection.id)
    assert row.status == ConnectionStatus.DISCONNECTED
    assert row.access_token_enc is None and row.refresh_token_enc is None
